import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from backcare.accounts.models import Role
from backcare.core.audit import Outcome, bound_ip_address, events_for_clinic, record_event
from backcare.core.models import AppendOnlyError, AuditEvent
from tests.factories import make_clinic, make_member, make_user

pytestmark = pytest.mark.django_db


def test_record_event_stores_actor_clinic_patient_object_outcome_and_ip():
    clinic = make_clinic()
    actor = make_member(clinic, Role.FRONT_DESK)
    patient_id = uuid.uuid4()
    with bound_ip_address("203.0.113.7"):
        event = record_event(
            actor=actor,
            action="patient.view",
            clinic_id=clinic.pk,
            patient_id=patient_id,
            obj=clinic,
        )
    event.refresh_from_db()
    assert (event.actor_id, event.actor_email) == (actor.pk, actor.email)
    assert (event.clinic_id, event.patient_id) == (clinic.pk, patient_id)
    assert (event.object_type, event.object_id) == ("accounts.clinic", str(clinic.pk))
    assert event.outcome == Outcome.ALLOWED
    assert event.ip_address == "203.0.113.7"


def test_nul_characters_in_what_a_stranger_sent_are_kept_as_replacement_characters():
    """PostgreSQL stores no NUL in text or JSON: an audited denial echoing one must not fail."""
    event = record_event(
        actor=None,
        action="clinic.switch",
        object_id="id\x00x",
        outcome=Outcome.DENIED,
        detail={"clinic\x00": ["a\x00b", {"c": "\x00"}]},
    )
    event.refresh_from_db()
    assert event.object_id == "id\ufffdx"
    assert event.detail == {"clinic\ufffd": ["a\ufffdb", {"c": "\ufffd"}]}


def test_anonymous_actor_is_recorded_without_identity():
    event = record_event(actor=None, action="patient.view", outcome=Outcome.DENIED)
    assert event.actor_id is None
    assert event.actor_email == ""
    assert event.ip_address is None


def test_saving_an_existing_event_again_is_refused():
    event = record_event(actor=None, action="x")
    event.action = "y"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_deleting_an_event_is_refused():
    event = record_event(actor=None, action="x")
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(action="changed")
    assert AuditEvent.objects.get(pk=event.pk).action == "x"


def test_database_refuses_to_update_an_event_even_with_raw_sql():
    event = record_event(actor=None, action="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'changed' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "x"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the DELETE trigger is PostgreSQL's")
def test_postgresql_refuses_to_delete_an_event_even_with_raw_sql():
    event = record_event(actor=None, action="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_events_for_clinic_filters_by_patient_and_actor_newest_first():
    clinic, other = make_clinic(), make_clinic()
    alice, bob = make_user(), make_user()
    patient_id = uuid.uuid4()
    first = record_event(actor=alice, action="a", clinic_id=clinic.pk, patient_id=patient_id)
    second = record_event(actor=bob, action="b", clinic_id=clinic.pk, patient_id=patient_id)
    third = record_event(actor=alice, action="c", clinic_id=clinic.pk)
    record_event(actor=alice, action="elsewhere", clinic_id=other.pk, patient_id=patient_id)

    assert list(events_for_clinic(clinic.pk)) == [third, second, first]
    assert list(events_for_clinic(clinic.pk, patient_id=patient_id)) == [second, first]
    assert list(events_for_clinic(clinic.pk, actor_id=alice.pk)) == [third, first]
    assert list(events_for_clinic(clinic.pk, patient_id=patient_id, actor_id=bob.pk)) == [second]


@override_settings(BACKCARE_AUDIT=False)
def test_record_event_stores_nothing_when_the_bench_turns_audit_off():
    clinic = make_clinic()
    event = record_event(actor=None, action="patient.view", clinic_id=clinic.pk)
    assert event.action == "patient.view"
    assert not AuditEvent.objects.filter(clinic_id=clinic.pk).exists()
