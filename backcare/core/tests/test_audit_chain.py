"""The audit log's hash chain (issue 9): `seal_audit` seals events older than ten minutes in id
order; `verify_audit` finds an event changed, deleted, added or moved after sealing. Tampering
is simulated as a database superuser would do it: with the append-only triggers out of the way,
inside the test's transaction (rolled back afterwards)."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from backcare.core.audit import record_event
from backcare.core.audit_chain import GENESIS, link_hash, seal_events, verify_chain
from backcare.core.models import AppendOnlyError, AuditEvent, AuditSeal

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=11)


def _events(n: int) -> list[AuditEvent]:
    return [
        record_event(actor=None, action=f"test.{i}", detail={"count": i, "ids": ["a", "b"]})
        for i in range(n)
    ]


def _as_superuser(sql: str, params: list[Any]) -> None:
    """Run `sql` on the audit table past its append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")


def test_events_older_than_ten_minutes_are_sealed_once_in_id_order():
    events = _events(5)
    assert seal_events() == 0  # all younger than ten minutes
    now = timezone.now() + LATER
    assert seal_events(now=now) == 5
    assert seal_events(now=now) == 0
    seals = list(AuditSeal.objects.order_by("id"))
    assert [s.event_id for s in seals] == [e.pk for e in events]
    assert seals[0].prev_hash == GENESIS
    assert seals[1].prev_hash == seals[0].hash
    assert seals[1].hash == link_hash(seals[0].hash, events[1])
    report = verify_chain()
    assert (report.ok, report.checked, report.unsealed) == (True, 5, 0)


def test_new_events_wait_and_are_counted_as_not_sealed_yet():
    _events(3)
    seal_events(now=timezone.now() + LATER)
    _events(2)
    report = verify_chain()
    assert (report.ok, report.checked, report.unsealed) == (True, 3, 2)


def _sealed(n: int) -> list[AuditEvent]:
    events = _events(n)
    seal_events(now=timezone.now() + LATER)
    return events


def test_a_changed_event_is_found():
    events = _sealed(4)
    _as_superuser("UPDATE core_auditevent SET action = %s WHERE id = %s", ["x", events[2].pk])
    assert verify_chain().problems == [f"Event {events[2].pk} was changed after it was sealed."]


def test_a_changed_detail_is_found():
    events = _sealed(2)
    _as_superuser(
        "UPDATE core_auditevent SET detail = %s WHERE id = %s", ['{"count": 9}', events[0].pk]
    )
    assert verify_chain().problems == [f"Event {events[0].pk} was changed after it was sealed."]


def test_a_deleted_event_is_found():
    events = _sealed(4)
    _as_superuser("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    assert verify_chain().problems == [f"Event {events[1].pk} was deleted after it was sealed."]


def test_a_reordered_event_is_found():
    # Two events swap places: their ids are exchanged (through a free id).
    events = _sealed(4)
    first, second = events[1].pk, events[2].pk
    free = events[-1].pk + 1000
    for old, new in ((first, free), (second, first), (free, second)):
        _as_superuser("UPDATE core_auditevent SET id = %s WHERE id = %s", [new, old])
    assert verify_chain().problems == [
        f"Event {first} was changed after it was sealed.",
        f"Event {second} was changed after it was sealed.",
    ]


def test_an_event_added_inside_the_sealed_range_is_found():
    # Ids have gaps (a rolled-back transaction's id is never used); a forged event fills one.
    events = _events(3)
    gap = events[1].pk
    _as_superuser("DELETE FROM core_auditevent WHERE id = %s", [gap])
    seal_events(now=timezone.now() + LATER)
    assert verify_chain().ok
    _as_superuser(
        "INSERT INTO core_auditevent (id, occurred_at, actor_email, action, object_type,"
        " object_id, outcome, detail) VALUES (%s, %s, '', 'forged', '', '', 'allowed', '{}')",
        [gap, timezone.now()],
    )
    assert verify_chain().problems == [
        f"Event {gap} is not in the chain: added or moved after sealing."
    ]


def test_verify_audit_exits_non_zero_and_names_the_event(capsys):
    events = _sealed(3)
    call_command("verify_audit")
    assert "3 events verified, 0 problems, 0 not sealed yet." in capsys.readouterr().out
    _as_superuser("DELETE FROM core_auditevent WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match="tampered"):
        call_command("verify_audit")
    assert f"Event {events[0].pk} was deleted" in capsys.readouterr().out


def test_seal_audit_command_reports_how_many(capsys):
    call_command("seal_audit")
    assert "Audit events sealed: 0." in capsys.readouterr().out


def test_seals_are_append_only():
    _sealed(1)
    seal = AuditSeal.objects.get()
    with pytest.raises(AppendOnlyError):
        seal.save()
    with pytest.raises(AppendOnlyError):
        AuditSeal.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditSeal.objects.update(hash="0")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_the_application_role_cannot_change_seals_on_postgresql():
    from django.db import DatabaseError, transaction

    _sealed(1)
    for sql in ("UPDATE core_auditseal SET hash = 'x'", "DELETE FROM core_auditseal"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql)
    assert AuditSeal.objects.count() == 1
