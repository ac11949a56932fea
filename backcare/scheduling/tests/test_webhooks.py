"""Booking, moving, approving and cancelling tell the clinic's webhooks in the same transaction
(ids only), and nothing when no endpoint wants the event or the change is refused; an imported
appointment is heard of only when it is still ahead."""

from datetime import timedelta

import pytest

from backcare.accounts.models import Role
from backcare.core.errors import NotFoundError
from backcare.core.models import AuditEvent, WebhookDelivery, WebhookEvent
from backcare.scheduling import services
from backcare.scheduling.models import AppointmentStatus, Notification, SchedulingSettings, Service
from backcare.scheduling.services import SlotTakenError
from backcare.scheduling.tests.test_services import World
from backcare.triage.tests.factories import make_screening
from tests.factories import make_member, make_patient, make_user, make_webhook_endpoint


@pytest.fixture
def world(db) -> World:
    return World()


def _events() -> list[tuple[str, dict]]:
    return [
        (d.event_type, d.payload["data"]) for d in WebhookDelivery.objects.order_by("created_at")
    ]


def _ids(appointment) -> dict:
    return {"appointment_id": str(appointment.pk), "patient_id": str(appointment.patient_id)}


def test_booking_writes_an_appointment_booked_event(world):
    make_webhook_endpoint(world.clinic)
    appointment = world.book(world.at(10))
    assert _events() == [("appointment.booked", _ids(appointment))]


def test_booking_writes_nothing_when_no_endpoint_wants_bookings(world):
    make_webhook_endpoint(world.clinic, [WebhookEvent.APPOINTMENT_CANCELLED])
    world.book(world.at(10))
    assert _events() == []


def test_a_refused_booking_writes_no_event(world):
    make_webhook_endpoint(world.clinic)
    world.book(world.at(10))
    with pytest.raises(SlotTakenError):
        world.book(world.at(10), patient=world.other_patient)
    assert len(_events()) == 1


def test_moving_writes_an_appointment_changed_event(world):
    appointment = world.book(world.at(10))
    make_webhook_endpoint(world.clinic)
    services.reschedule_appointment(
        actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(14)
    )
    assert _events() == [("appointment.changed", _ids(appointment))]


def test_cancelling_writes_an_appointment_cancelled_event(world):
    appointment = world.book(world.at(10))
    make_webhook_endpoint(world.clinic, [WebhookEvent.APPOINTMENT_CANCELLED])
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)
    assert _events() == [("appointment.cancelled", _ids(appointment))]


def test_a_course_writes_one_booked_event_per_session(world):
    make_webhook_endpoint(world.clinic, [WebhookEvent.APPOINTMENT_BOOKED])
    course = services.book_course(
        booked_by=world.desk,
        patient_id=world.patient.pk,
        therapist_id=world.therapist.pk,
        service_id=world.service.pk,
        first_starts_at=world.at(10),
        sessions_count=3,
        every_weeks=1,
    )
    booked = sorted(str(a.pk) for a in course.appointments.all())
    events = _events()
    assert {kind for kind, _ in events} == {"appointment.booked"}
    assert sorted(data["appointment_id"] for _, data in events) == booked


def test_approving_a_requested_booking_writes_an_appointment_changed_event(world):
    SchedulingSettings.objects.update_or_create(
        clinic=world.clinic, defaults={"new_patients_need_approval": True}
    )
    user = make_user()
    patient = make_patient(world.clinic, user=user)
    make_screening(world.desk, patient)
    requested = world.book(world.at(10), patient=patient, actor=user)
    assert requested.status == "requested"
    make_webhook_endpoint(world.clinic, [WebhookEvent.APPOINTMENT_CHANGED])
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    services.approve_appointment(actor=admin, appointment_id=requested.pk)
    assert _events() == [("appointment.changed", _ids(requested))]


def test_an_imported_appointment_keeps_its_status_and_only_an_upcoming_one_is_heard_of(world):
    make_webhook_endpoint(world.clinic)
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    last_week = world.at(10, days=-14)
    past = services.import_appointment(
        actor=admin,
        patient_id=world.patient.pk,
        therapist_id=world.therapist.pk,
        service_name="Back massage 60",
        starts_at=last_week,
        ends_at=last_week + timedelta(minutes=45),
        status=AppointmentStatus.COMPLETED,
    )
    upcoming = services.import_appointment(
        actor=admin,
        patient_id=world.patient.pk,
        therapist_id=world.therapist.pk,
        service_name="Hot stones",
        starts_at=world.at(10),
        ends_at=world.at(11, 30),
        status=AppointmentStatus.BOOKED,
    )
    assert (past.status, past.ends_at - past.starts_at) == ("completed", timedelta(minutes=45))
    assert Service.objects.get(clinic=world.clinic, name="Hot stones").duration_minutes == 90
    assert _events() == [("appointment.booked", _ids(upcoming))]
    assert not Notification.objects.filter(clinic=world.clinic).exists()


def test_an_imported_appointment_finds_its_service_whatever_the_case_or_adds_it_audited(world):
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    last_week = world.at(10, days=-14)
    for name, day in (("hot stones", 0), ("Hot Stones", 1)):
        services.import_appointment(
            actor=admin,
            patient_id=world.patient.pk,
            therapist_id=world.therapist.pk,
            service_name=name,
            starts_at=last_week + timedelta(days=day),
            ends_at=last_week + timedelta(days=day, minutes=90),
            status=AppointmentStatus.COMPLETED,
        )
    assert Service.objects.filter(clinic=world.clinic, name__iexact="hot stones").count() == 1
    created = AuditEvent.objects.filter(action="service.create", actor_id=admin.pk)
    assert created.count() == 1


def test_an_imported_appointment_may_not_take_a_held_time(world):
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    world.book(world.at(10))
    with pytest.raises(SlotTakenError):
        services.import_appointment(
            actor=admin,
            patient_id=world.other_patient.pk,
            therapist_id=world.therapist.pk,
            service_name="Back massage 60",
            starts_at=world.at(10, 30),
            ends_at=world.at(11, 30),
            status=AppointmentStatus.BOOKED,
        )


def test_only_the_clinics_admins_import_an_appointment(world):
    with pytest.raises(NotFoundError):
        services.import_appointment(
            actor=world.desk,
            patient_id=world.patient.pk,
            therapist_id=world.therapist.pk,
            service_name="Back massage 60",
            starts_at=world.at(10),
            ends_at=world.at(11),
            status=AppointmentStatus.BOOKED,
        )
