"""Webhooks: events of a clinic sent to the endpoints its admins registered (docs/webhooks.md,
docs/decisions/0022).

`emit` writes one outbox row per subscribed endpoint in the caller's transaction, so a change
that rolls back sends nothing. `deliver_due_webhooks` posts them, signed
(`X-BackCare-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`), and retries failures
with backoff; a delivery the receiver accepted (any 2xx) is never sent again. Payloads carry ids,
never clinical text. The endpoint functions below are unscoped primitives: accounts checks that
the actor is an admin of the clinic and audits.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError
from backcare.core.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from backcare.core.outbox import retry_delay

SIGNATURE_HEADER = "X-BackCare-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
WEBHOOK_ATTEMPTS = 8
WEBHOOK_TIMEOUT_SECONDS = 5
DELIVERY_BATCH = 100
URL_MAX = 500
SCHEMES = ("http", "https")


# --- Emitting ------------------------------------------------------------------------------------


def emit(
    *,
    clinic_id: uuid.UUID,
    event: WebhookEvent,
    resources: Mapping[str, uuid.UUID | None],
    occurred_at: datetime | None = None,
) -> uuid.UUID | None:
    """Write `event` to the outbox for each active endpoint of the clinic that chose it, in the
    caller's transaction; return the event id, or None when no endpoint wants it.

    `resources` names the ids the event is about (`appointment_id`, `patient_id`...): ids only,
    never clinical text. Every endpoint gets the same event id, kept on every retry.
    """
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(clinic_id=clinic_id, is_active=True)
        if event in endpoint.events
    ]
    if not endpoints:
        return None
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = {
        "id": str(event_id),
        "type": str(event),
        "occurred_at": (occurred_at or now).isoformat(),
        "clinic_id": str(clinic_id),
        "data": {name: str(value) if value else None for name, value in resources.items()},
    }
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            clinic_id=clinic_id,
            endpoint=endpoint,
            event_id=event_id,
            event_type=event,
            payload=payload,
            due_at=now,
        )
        for endpoint in endpoints
    )
    _ask_for_delivery_once()
    return event_id


def _ask_for_delivery_once() -> None:
    # One delivery task per transaction, however many events it emits (a course of twelve
    # bookings): a callback already waiting for this commit will send them all.
    connection = transaction.get_connection()
    waiting = connection.run_on_commit if connection.in_atomic_block else []
    if not any(callback is _ask_for_delivery for _, callback, *_ in waiting):
        transaction.on_commit(_ask_for_delivery)


def _ask_for_delivery() -> None:
    from backcare.core import tasks  # here: tasks imports this module

    tasks.deliver_webhooks.enqueue()


# --- Signing -------------------------------------------------------------------------------------


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a payload."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The `X-BackCare-Signature` header value for `body`, signed at `timestamp` (now)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return f"t={stamp},v1={_digest(secret, stamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes | str,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """True when `header` is a signature of `body` with `secret`, made at most `tolerance`
    seconds from `now` (refusing replays of old deliveries). Receivers do the same check; see
    docs/webhooks.md. A malformed header is False, never an exception."""
    raw = body.encode() if isinstance(body, str) else body
    stamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            stamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if stamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = _digest(secret, stamp, raw)
    return any(hmac.compare_digest(expected, given) for given in signatures)


# --- Delivering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def deliver_due_webhooks(
    *, now: datetime | None = None, limit: int = DELIVERY_BATCH
) -> WebhookReport:
    """Post up to `limit` due deliveries, each accepted at most once.

    As the notification outbox (docs/decisions/0014): each row is sent in its own transaction
    that first locks it (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's IMMEDIATE write lock) and
    re-reads its status, and marks it delivered on a 2xx answer. Any other answer, a connection
    error or a timeout is retried after `core.outbox.retry_delay`, and marked failed after
    `WEBHOOK_ATTEMPTS` tries. A delivery to an endpoint since disabled is skipped.
    """
    moment = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING, due_at__lte=moment)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    for delivery_id in due:
        outcome = _deliver_one(delivery_id, moment)
        if outcome is not None:
            counts[outcome] += 1
    return WebhookReport(**counts)


def _deliver_one(delivery_id: uuid.UUID, now: datetime) -> str | None:
    with transaction.atomic():
        row = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDeliveryStatus.PENDING)
            .first()
        )
        if row is None:
            return None  # another worker holds it or has sent it
        if not row.endpoint.is_active:
            _finish(row, WebhookDeliveryStatus.SKIPPED, "The endpoint was disabled.")
            return "skipped"
        row.attempts += 1
        try:
            code = _post(row.endpoint, body_of(row.payload), row.event_type, row.event_id)
        except Exception as error:  # connection refused, timeout, bad answer: retried
            row.last_response_code = None
            return _retry(row, now, f"{type(error).__name__}: {error}")
        row.last_response_code = code
        if not 200 <= code < 300:
            return _retry(row, now, f"The endpoint answered {code}.")
        row.delivered_at = now
        _finish(row, WebhookDeliveryStatus.DELIVERED, "")
        return "delivered"


def _retry(row: WebhookDelivery, now: datetime, note: str) -> str:
    if row.attempts >= WEBHOOK_ATTEMPTS:
        _finish(row, WebhookDeliveryStatus.FAILED, note)
        return "failed"
    row.due_at = now + retry_delay(row.attempts)
    _finish(row, WebhookDeliveryStatus.PENDING, note)
    return "retrying"


def _finish(row: WebhookDelivery, status: WebhookDeliveryStatus, note: str) -> None:
    row.status = status
    row.last_error = note[:300]
    row.save(
        update_fields=[
            "status",
            "attempts",
            "due_at",
            "delivered_at",
            "last_response_code",
            "last_error",
            "updated_at",
        ]
    )
    record_event(
        actor=None,
        action="webhook.retry" if status == WebhookDeliveryStatus.PENDING else f"webhook.{status}",
        clinic_id=row.clinic_id,
        obj=row,
        detail={"event": row.event_type, "attempts": row.attempts},
    )


class PrivateAddressError(OSError):
    """The endpoint's host is (or now resolves to) an address inside the server's own network."""


def is_public_address(host: str) -> bool:
    """Whether `host` (an IP address) is on the public internet: not loopback, private,
    link-local (cloud metadata at 169.254.169.254), shared, reserved or multicast, IPv4-mapped
    IPv6 included."""
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _check_peer(connection: http.client.HTTPConnection) -> None:
    # The address actually connected to, after DNS: a name that resolves (or re-resolves) to an
    # internal address is refused before a byte of the request is sent.
    if settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES or connection.sock is None:
        return
    peer = connection.sock.getpeername()[0]
    if not is_public_address(peer):
        connection.close()
        raise PrivateAddressError(
            f"{connection.host} is at {peer}, inside this server's network; webhooks go to public "
            "addresses only."
        )


class _PublicHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPSConnection, req)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: retried, never followed to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects(), _PublicHTTPHandler(), _PublicHTTPSHandler())


def _post(endpoint: WebhookEndpoint, body: bytes, event: str, event_id: uuid.UUID) -> int:
    """POST `body` to the endpoint, signed now; return the HTTP status code of the answer."""
    if urlsplit(endpoint.url).scheme not in SCHEMES:
        raise ValueError("Only http and https endpoints are called.")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "BackCare-Webhooks/1",
            "X-BackCare-Event": event,
            "X-BackCare-Event-Id": str(event_id),
            SIGNATURE_HEADER: sign(endpoint.secret, body),
        },
    )
    try:
        with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # nosec B310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# --- Endpoints (unscoped primitives; accounts checks access and audits) -------------------------


def check_endpoint(url: str, events: Collection[str]) -> tuple[str, list[str]]:
    """The cleaned URL and events, or `InvalidInputError` naming the field to fix: an http(s)
    URL of at most `URL_MAX` characters, not naming an address inside the server's network
    (unless `BACKCARE_WEBHOOK_PRIVATE_ADDRESSES`), and at least one event of the fixed list."""
    url = url.strip()
    errors: dict[str, str] = {}
    try:
        URLValidator(schemes=list(SCHEMES))(url)
    except ValidationError:
        errors["url"] = "Enter a full http:// or https:// address."
    if len(url) > URL_MAX:
        errors["url"] = f"Use an address of at most {URL_MAX} characters."
    elif "url" not in errors and not _may_call(urlsplit(url).hostname or ""):
        errors["url"] = (
            "Use a public address: webhooks are not sent to this server's own network "
            "(localhost, private, link-local or reserved addresses)."
        )
    chosen = sorted(set(events))
    if not chosen or not set(chosen) <= set(WebhookEvent.values):
        errors["events"] = "Choose at least one event from the list."
    if errors:
        raise InvalidInputError("Please correct the highlighted fields.", field_errors=errors)
    return url, chosen


def _may_call(host: str) -> bool:
    """A host named as an IP address or localhost must be public; other names are checked at
    each delivery against the address they resolve to (`_check_peer`)."""
    if settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES:
        return True
    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
        return False
    try:
        return is_public_address(host)
    except ValueError:
        return True  # a name, not an address


def create_endpoint(
    *, clinic_id: uuid.UUID, url: str, events: Collection[str], created_by_id: uuid.UUID | None
) -> tuple[WebhookEndpoint, str]:
    """A new active endpoint and its signing secret (to be shown once). Raises
    `InvalidInputError` as `check_endpoint`."""
    url, chosen = check_endpoint(url, events)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        clinic_id=clinic_id, url=url, events=chosen, secret=secret, created_by_id=created_by_id
    )
    return endpoint, secret


def endpoints_of(clinic_id: uuid.UUID) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(clinic_id=clinic_id).order_by("-is_active", "-created_at")


def endpoint_of(clinic_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(clinic_id=clinic_id, pk=endpoint_id).first()


def set_endpoint_active(endpoint: WebhookEndpoint, *, active: bool) -> None:
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active", "updated_at"])


def deliveries_of(endpoint: WebhookEndpoint, *, limit: int = 200) -> list[WebhookDelivery]:
    """The endpoint's newest deliveries first."""
    return list(
        WebhookDelivery.objects.filter(clinic_id=endpoint.clinic_id, endpoint=endpoint).order_by(
            "-created_at", "-pk"
        )[:limit]
    )
