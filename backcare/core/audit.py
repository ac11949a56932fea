"""Recording and reading audit events.

Every read and write of patient data, and every denied attempt, calls `record_event`
(ARCHITECTURE.md §5). The request's IP address is bound once per request by
`RequestContextMiddleware`, so services need not pass it along.
"""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet

from backcare.core.jsonable import without_nul
from backcare.core.models import AuditEvent

Outcome = AuditEvent.Outcome

_request_ip: ContextVar[str | None] = ContextVar("backcare_request_ip", default=None)


@contextmanager
def bound_ip_address(ip_address: str | None) -> Iterator[None]:
    """Attribute audit events recorded inside the block to `ip_address`."""
    token = _request_ip.set(ip_address)
    try:
        yield
    finally:
        _request_ip.reset(token)


def record_event(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    clinic_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    outcome: str = Outcome.ALLOWED,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event and return it.

    `obj` fills `object_type` and `object_id` from a model instance. `detail` holds ids and field
    names only, never clinical free text.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    signed_in = actor is not None and actor.is_authenticated
    fields: dict[str, Any] = {
        "actor_id": actor.pk if signed_in else None,  # type: ignore[union-attr]
        "actor_email": getattr(actor, "email", "") if signed_in else "",
        "clinic_id": clinic_id,
        "patient_id": patient_id,
        "action": action,
        "object_type": object_type,
        "object_id": without_nul(object_id),
        "outcome": outcome,
        "ip_address": _request_ip.get(),
        # Denials may echo what a stranger sent (a clinic id they typed), NULs included.
        "detail": without_nul(dict(detail or {})),
    }
    if not settings.BACKCARE_AUDIT:
        # Benchmarks only (settings refuse BACKCARE_AUDIT=0 without BACKCARE_BENCH=1).
        return AuditEvent(**fields)
    return AuditEvent.objects.create(**fields)


def events_for_clinic(
    clinic_id: uuid.UUID,
    *,
    patient_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
) -> QuerySet[AuditEvent]:
    """Events of one clinic, newest first, optionally narrowed to a patient and/or an actor.

    Unscoped primitive: callers check that the viewer may browse this clinic's log.
    """
    events = AuditEvent.objects.filter(clinic_id=clinic_id)
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    return events.order_by("-occurred_at", "-id")
