"""Webhooks against a real receiver on 127.0.0.1: written with the change or not at all, signed
so that a tampered or replayed delivery is detectable, retried with backoff, and accepted exactly
once per event with the same event id on every try."""

import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from backcare.core import webhooks
from backcare.core.errors import InvalidInputError
from backcare.core.models import (
    AuditEvent,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.threads import in_parallel

BOOKED = WebhookEvent.APPOINTMENT_BOOKED
CANCELLED = WebhookEvent.APPOINTMENT_CANCELLED


@pytest.fixture(autouse=True)
def internal_receivers_allowed(settings):
    """The receivers of these tests listen on 127.0.0.1, which a deployment refuses (see the
    tests of `BACKCARE_WEBHOOK_PRIVATE_ADDRESSES` at the end, which turn it off again)."""
    settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES = True


class Receiver:
    """An HTTP server on 127.0.0.1 (ephemeral port) that answers each event id's first
    `failures` requests with `failure_code`, then 200, and keeps every request it got."""

    def __init__(self, *, failures: int = 0, failure_code: int = 500) -> None:
        self.requests: list[tuple[Message, bytes, int]] = []
        seen: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = self.headers["X-BackCare-Event-Id"]
                seen[event_id] += 1
                code = failure_code if seen[event_id] <= failures else 200
                receiver.requests.append((self.headers, body, code))  # case-insensitive
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> Counter[str]:
        return Counter(h["X-BackCare-Event-Id"] for h, _, code in self.requests if code == 200)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=2)
    yield server
    server.close()


def _endpoint(url: str, events=(BOOKED, CANCELLED), clinic_id=None) -> tuple[WebhookEndpoint, str]:
    return webhooks.create_endpoint(
        clinic_id=clinic_id or uuid.uuid4(), url=url, events=list(events), created_by_id=None
    )


def _emit(endpoint: WebhookEndpoint, event=BOOKED, **resources) -> uuid.UUID | None:
    return webhooks.emit(
        clinic_id=endpoint.clinic_id,
        event=event,
        resources=resources or {"appointment_id": uuid.uuid4(), "patient_id": uuid.uuid4()},
    )


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


# --- Signatures ----------------------------------------------------------------------------------


def test_a_signature_made_now_verifies():
    body = b'{"id":"1"}'
    assert webhooks.verify_signature("whsec_a", webhooks.sign("whsec_a", body), body)


@pytest.mark.parametrize(
    ("secret", "body"),
    [("whsec_a", b'{"id":"2"}'), ("whsec_b", b'{"id":"1"}'), ("whsec_a", b'{"id":"1"} ')],
)
def test_a_tampered_body_or_wrong_secret_is_refused(secret, body):
    header = webhooks.sign("whsec_a", b'{"id":"1"}')
    assert not webhooks.verify_signature(secret, header, body)


def test_a_tampered_signature_is_refused():
    body = b'{"id":"1"}'
    stamp, digest = webhooks.sign("whsec_a", body).split(",v1=")
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    assert not webhooks.verify_signature("whsec_a", f"{stamp},v1={flipped}", body)


def test_a_changed_timestamp_breaks_the_signature():
    body = b'{"id":"1"}'
    made = int(time.time())
    digest = webhooks.sign("whsec_a", body, timestamp=made).split(",v1=")[1]
    assert not webhooks.verify_signature("whsec_a", f"t={made + 1},v1={digest}", body)


def test_an_old_signature_is_refused_as_a_replay():
    body = b'{"id":"1"}'
    old = webhooks.sign("whsec_a", body, timestamp=int(time.time()) - 301)
    assert not webhooks.verify_signature("whsec_a", old, body, tolerance=300)
    assert webhooks.verify_signature("whsec_a", old, body, tolerance=400)


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "v1=00", "t=1"])
def test_a_malformed_header_is_refused_without_an_error(header):
    assert not webhooks.verify_signature("whsec_a", header, b"{}")


def test_the_documented_check_in_docs_verifies_a_real_delivery(receiver, db):
    endpoint, secret = _endpoint(receiver.url)
    _emit(endpoint)
    webhooks.deliver_due_webhooks()
    headers, body, _ = receiver.requests[0]
    snippet = _docs_snippet()
    namespace: dict[str, object] = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)  # noqa: S102 (our own docs)
    verify = namespace["verify"]
    assert verify(secret, headers["X-BackCare-Signature"], body)  # type: ignore[operator]
    assert not verify(secret, headers["X-BackCare-Signature"], body + b" ")  # type: ignore[operator]


def _docs_snippet() -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "webhooks.md").read_text()
    return text.split("```python\n", 1)[1].split("```", 1)[0]


# --- Emitting ------------------------------------------------------------------------------------


def test_emit_writes_one_delivery_per_subscribed_endpoint_with_ids_only(db):
    clinic_id = uuid.uuid4()
    wants, _ = _endpoint("https://a.example/hooks", events=[BOOKED], clinic_id=clinic_id)
    _endpoint("https://b.example/hooks", events=[CANCELLED], clinic_id=clinic_id)
    appointment_id, patient_id = uuid.uuid4(), uuid.uuid4()
    event_id = _emit(wants, appointment_id=appointment_id, patient_id=patient_id)
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == wants
    assert delivery.event_id == event_id
    assert delivery.payload == {
        "id": str(event_id),
        "type": "appointment.booked",
        "occurred_at": delivery.payload["occurred_at"],
        "clinic_id": str(clinic_id),
        "data": {"appointment_id": str(appointment_id), "patient_id": str(patient_id)},
    }


def test_emit_writes_nothing_when_no_endpoint_wants_the_event(db):
    endpoint, _ = _endpoint("https://a.example/hooks", events=[CANCELLED])
    assert _emit(endpoint, BOOKED) is None
    assert not WebhookDelivery.objects.exists()


def test_emit_writes_nothing_for_a_disabled_endpoint_or_another_clinic(db):
    endpoint, _ = _endpoint("https://a.example/hooks")
    webhooks.set_endpoint_active(endpoint, active=False)
    assert _emit(endpoint) is None
    assert webhooks.emit(clinic_id=uuid.uuid4(), event=BOOKED, resources={}) is None
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_change_emits_nothing(db):
    endpoint, _ = _endpoint("https://a.example/hooks")

    def failing_change() -> None:
        with transaction.atomic():
            _emit(endpoint)
            raise RuntimeError("the booking failed after emitting")

    with pytest.raises(RuntimeError):
        failing_change()
    assert not WebhookDelivery.objects.exists()


def test_emit_asks_for_a_delivery_once_the_change_commits(db, django_capture_on_commit_callbacks):
    receiver_ok = Receiver()
    endpoint, _ = _endpoint(receiver_ok.url)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _emit(endpoint)
        assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED
        assert len(receiver_ok.requests) == 1
    finally:
        receiver_ok.close()


def test_a_transaction_of_many_events_asks_for_one_delivery_run(
    db, django_capture_on_commit_callbacks
):
    """A course of sessions booked at once emits an event per session: one task sends them."""
    endpoint, _ = _endpoint("https://hooks.example.org/backcare")
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(5):
            _emit(endpoint)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 5
    assert callbacks == [webhooks._ask_for_delivery]


# --- Delivering ----------------------------------------------------------------------------------


def test_a_receiver_failing_twice_accepts_exactly_one_signed_delivery_per_event(receiver, db):
    endpoint, secret = _endpoint(receiver.url)
    first, second = _emit(endpoint, BOOKED), _emit(endpoint, CANCELLED)
    now = timezone.now()
    # Tries at 0 and +2 min fail (500); backoff waits 2, then 4 minutes; the third is accepted.
    moments = [
        now,
        now + timedelta(minutes=1),
        now + timedelta(minutes=3),
        now + timedelta(minutes=8),
    ]
    reports = [webhooks.deliver_due_webhooks(now=moment) for moment in moments]
    assert [r.retrying for r in reports] == [2, 0, 2, 0]
    assert reports[-1].delivered == 2
    for later in range(1, 4):  # the job keeps running: nothing is sent again
        webhooks.deliver_due_webhooks(now=now + timedelta(days=later))

    assert receiver.accepted() == Counter({str(first): 1, str(second): 1})
    assert len(receiver.requests) == 6
    for headers, body, _ in receiver.requests:
        assert webhooks.verify_signature(secret, headers["X-BackCare-Signature"], body)
        assert json.loads(body)["id"] == headers["X-BackCare-Event-Id"]
    tries = Counter(json.loads(body)["id"] for _, body, _ in receiver.requests)
    assert tries == Counter({str(first): 3, str(second): 3})
    for delivery in WebhookDelivery.objects.all():
        assert delivery.status == WebhookDeliveryStatus.DELIVERED
        assert (delivery.attempts, delivery.last_response_code) == (3, 200)


@pytest.mark.django_db(transaction=True)
def test_three_workers_at_once_deliver_each_event_exactly_once():
    server = Receiver()
    try:
        endpoint, _ = _endpoint(server.url)
        emitted = {str(_emit(endpoint)) for _ in range(6)}
        in_parallel([webhooks.deliver_due_webhooks] * 3)
        webhooks.deliver_due_webhooks()
        assert server.accepted() == Counter(dict.fromkeys(emitted, 1))
        assert len(server.requests) == 6
    finally:
        server.close()


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing catches it."""


def test_a_worker_that_dies_mid_batch_loses_nothing_and_sends_none_twice(receiver, db, monkeypatch):
    ok = Receiver()
    try:
        endpoint, _ = _endpoint(ok.url)
        emitted = {str(_emit(endpoint)) for _ in range(3)}
        real = webhooks._post

        def dies_at_the_second(*args, **kwargs):
            if ok.requests:
                raise WorkerDied
            return real(*args, **kwargs)

        monkeypatch.setattr(webhooks, "_post", dies_at_the_second)
        with pytest.raises(WorkerDied):
            webhooks.deliver_due_webhooks()
        statuses = Counter(WebhookDelivery.objects.values_list("status", flat=True))
        assert statuses == Counter({"delivered": 1, "pending": 2})
        monkeypatch.setattr(webhooks, "_post", real)
        assert webhooks.deliver_due_webhooks() == webhooks.WebhookReport(delivered=2)
        assert ok.accepted() == Counter(dict.fromkeys(emitted, 1))
    finally:
        ok.close()


def test_a_delivery_is_retried_with_growing_backoff_and_fails_after_the_last_attempt(db):
    failing = Receiver(failures=99)
    try:
        endpoint, _ = _endpoint(failing.url)
        _emit(endpoint)
        moment = timezone.now()
        for attempt in range(1, webhooks.WEBHOOK_ATTEMPTS + 1):
            webhooks.deliver_due_webhooks(now=moment)
            delivery = WebhookDelivery.objects.get()
            assert delivery.attempts == attempt
            assert delivery.last_response_code == 500
            if attempt < webhooks.WEBHOOK_ATTEMPTS:
                assert delivery.due_at == moment + timedelta(minutes=2**attempt)
                early = delivery.due_at - timedelta(seconds=1)
                assert webhooks.deliver_due_webhooks(now=early) == webhooks.WebhookReport()
                moment = delivery.due_at
        assert delivery.status == WebhookDeliveryStatus.FAILED
        webhooks.deliver_due_webhooks(now=moment + timedelta(days=30))
        assert len(failing.requests) == webhooks.WEBHOOK_ATTEMPTS
        assert AuditEvent.objects.filter(action="webhook.failed", object_id=str(delivery.pk))
    finally:
        failing.close()


def test_a_connection_error_is_retried_without_a_response_code(db):
    endpoint, _ = _endpoint(_closed_port_url())
    _emit(endpoint)
    assert webhooks.deliver_due_webhooks().retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.last_response_code is None
    assert delivery.last_error


def test_a_redirect_is_retried_not_followed(db):
    redirecting = Receiver(failures=1, failure_code=302)
    try:
        endpoint, _ = _endpoint(redirecting.url)
        _emit(endpoint)
        assert webhooks.deliver_due_webhooks().retrying == 1
        assert WebhookDelivery.objects.get().last_response_code == 302
        assert len(redirecting.requests) == 1
    finally:
        redirecting.close()


def test_a_delivery_to_a_disabled_endpoint_is_skipped(receiver, db):
    endpoint, _ = _endpoint(receiver.url)
    _emit(endpoint)
    webhooks.set_endpoint_active(endpoint, active=False)
    assert webhooks.deliver_due_webhooks().skipped == 1
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.SKIPPED


def test_the_command_sends_the_outbox_and_reports(receiver, db, capsys):
    endpoint, _ = _endpoint(receiver.url)
    _emit(endpoint)
    call_command("deliver_webhooks")
    assert "to retry: 1" in capsys.readouterr().out
    assert len(receiver.requests) == 1


# --- Registering ---------------------------------------------------------------------------------


def test_a_new_endpoint_gets_a_fresh_secret(db):
    first, secret = _endpoint("https://a.example/hooks")
    _, other = _endpoint("https://a.example/hooks")
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert secret != other
    assert first.secret == secret


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("ftp://a.example/hooks", [BOOKED], "url"),
        ("javascript:alert(1)", [BOOKED], "url"),
        ("a.example/hooks", [BOOKED], "url"),
        ("https://a.example/" + "x" * 500, [BOOKED], "url"),
        ("https://a.example/hooks", [], "events"),
        ("https://a.example/hooks", ["patient.deleted"], "events"),
    ],
)
def test_an_endpoint_needs_an_http_url_and_known_events(db, url, events, field):
    with pytest.raises(InvalidInputError) as refused:
        webhooks.create_endpoint(clinic_id=uuid.uuid4(), url=url, events=events, created_by_id=None)
    assert field in refused.value.field_errors
    assert not WebhookEndpoint.objects.exists()


# --- Never to the server's own network (SSRF) ----------------------------------------------------


@pytest.mark.parametrize(
    ("host", "public"),
    [
        ("127.0.0.1", False),  # loopback
        ("10.1.2.3", False),  # RFC 1918
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),  # link-local: cloud metadata services
        ("100.64.0.1", False),  # RFC 6598 shared address space
        ("0.0.0.0", False),  # noqa: S104 (an address under test, not one bound)
        ("224.0.0.1", False),  # multicast
        ("::1", False),
        ("fd00::1", False),  # unique local
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ],
)
def test_only_public_addresses_are_called(host, public):
    assert webhooks.is_public_address(host) is public


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "https://api.localhost/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://10.0.0.5/hooks",
    ],
)
def test_an_endpoint_inside_the_servers_network_is_refused(settings, url):
    settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES = False
    with pytest.raises(InvalidInputError) as refused:
        webhooks.check_endpoint(url, [BOOKED])
    assert "public address" in refused.value.field_errors["url"]


def test_a_public_address_or_a_name_is_accepted(settings):
    settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES = False
    assert (
        webhooks.check_endpoint("https://93.184.215.14/h", [BOOKED])[0] == "https://93.184.215.14/h"
    )
    assert (
        webhooks.check_endpoint("https://crm.example.org/h", [BOOKED])[0]
        == "https://crm.example.org/h"
    )


def test_a_delivery_that_connects_inside_the_servers_network_sends_nothing(db, settings, receiver):
    """A name can resolve to an internal address after it was registered (DNS rebinding): the
    address actually connected to is checked before the request is sent."""
    # A name, registered while internal receivers were allowed, that resolves to 127.0.0.1.
    endpoint, _ = _endpoint(receiver.url.replace("127.0.0.1", "localhost"))
    settings.BACKCARE_WEBHOOK_PRIVATE_ADDRESSES = False
    _emit(endpoint)
    webhooks.deliver_due_webhooks()
    row = WebhookDelivery.objects.get(endpoint=endpoint)
    assert receiver.requests == []
    assert row.status == WebhookDeliveryStatus.PENDING
    assert row.last_response_code is None
    assert "inside this server's network" in row.last_error
