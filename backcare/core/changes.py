"""Applying a service's field changes to a model instance, and saving them with their audit."""

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError, full_clean_or_invalid


def apply_changes(
    instance: Model, values: Mapping[str, Any], allowed: Collection[str]
) -> list[str]:
    """Set `values` on `instance` and return the sorted names of the fields that changed.

    Raises `InvalidInputError` naming any field outside `allowed`, before changing anything.
    The names feed audit events (never the values, which may be clinical).
    """
    unknown = set(values) - set(allowed)
    if unknown:
        raise InvalidInputError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}."
        )
    changed = sorted(name for name, value in values.items() if getattr(instance, name) != value)
    for name, value in values.items():
        setattr(instance, name, value)
    return changed


def save_changes(
    instance: Model,
    values: Mapping[str, Any],
    allowed: Collection[str],
    *,
    actor: AbstractBaseUser | AnonymousUser,
    action: str,
    clinic_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
) -> list[str]:
    """Apply `values`, validate the whole row, save it and record one audit event naming the
    changed fields. Raises `InvalidInputError` (nothing saved) for unknown fields or bad values.
    Call inside the service's transaction."""
    changed = apply_changes(instance, values, allowed)
    full_clean_or_invalid(instance)
    instance.save()
    record_event(
        actor=actor,
        action=action,
        clinic_id=clinic_id,
        patient_id=patient_id,
        obj=instance,
        detail={"fields": changed},
    )
    return changed
