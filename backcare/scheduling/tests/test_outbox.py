"""Confirmations, reminders and change notices through the outbox: each (appointment, kind,
channel) is sent once, whether the jobs run three times or two workers send at once, and a
worker that dies mid-batch loses nothing; a cancelled or moved appointment gets no stale
reminder; messages carry no clinical details."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from backcare.core.sms import RecordingSmsBackend
from backcare.scheduling import services
from backcare.scheduling.models import (
    Appointment,
    Notification,
    NotificationKind,
    NotificationStatus,
    SchedulingSettings,
    Service,
)
from backcare.scheduling.tests.test_services import World
from tests.factories import make_clinic, make_patient, make_therapist, make_user
from tests.threads import in_parallel


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture(autouse=True)
def _recorded_text_messages(settings):
    settings.SMS_BACKEND = "backcare.core.sms.RecordingSmsBackend"
    RecordingSmsBackend.outbox.clear()


def _reminder_time(world: World):
    """Sunday 15:00 before the world's Monday: its appointments up to 15:00 are within 24 hours."""
    return world.at(15, days=-1)


def _book_monday(world: World, hours=(10, 12, 14)) -> list:
    patients = [world.patient, world.other_patient, world._screened()]
    return [
        world.book(world.at(hour), patient=patient)
        for hour, patient in zip(hours, patients, strict=False)
    ]


def _sent(kind: str) -> Counter:
    return Counter(
        Notification.objects.filter(kind=kind, status=NotificationStatus.SENT).values_list(
            "appointment_id", flat=True
        )
    )


def test_booking_writes_its_confirmation_in_the_same_transaction_and_sends_it_with_an_ics(world):
    appointment = world.book(world.at(10))
    [notice] = Notification.objects.filter(appointment=appointment)
    assert (notice.kind, notice.channel, notice.status) == ("confirmation", "email", "pending")
    report = services.deliver_due_notifications()
    assert report == services.DeliveryReport(sent=1)
    [message] = mail.outbox
    assert message.to == [world.patient.email]
    assert message.extra_headers["Message-ID"] == f"<{notice.pk}@backcare>"
    assert "is booked" in message.body
    assert "10:00" in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("appointment.ics", "text/calendar")
    [event] = Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("dtstart") == appointment.starts_at


def test_a_booking_that_rolls_back_leaves_nothing_in_the_outbox(world):
    from django.db import transaction

    def book_then_fail() -> None:
        with transaction.atomic():
            world.book(world.at(10))
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError):
        book_then_fail()
    assert not Notification.objects.exists()


def test_reminder_jobs_run_three_times_write_one_reminder_per_appointment(world):
    _book_monday(world)
    now = _reminder_time(world)
    written = [services.enqueue_due_reminders(now=now) for _ in range(3)]
    assert written == [3, 0, 0]
    assert Notification.objects.filter(kind="reminder").count() == 3


def test_reminders_are_not_written_before_their_time_nor_for_a_clinic_that_wants_none(world):
    _book_monday(world)
    assert services.enqueue_due_reminders(now=world.at(9, days=-2)) == 0  # 49 hours before
    SchedulingSettings.objects.create(clinic=world.clinic, reminder_hours_before=0)
    assert services.enqueue_due_reminders(now=_reminder_time(world)) == 0


@pytest.mark.django_db(transaction=True)
def test_three_enqueue_runs_and_two_parallel_workers_send_each_reminder_exactly_once():
    world = World()
    booked = _book_monday(world)
    now = _reminder_time(world)
    mail.outbox.clear()
    in_parallel([lambda: services.enqueue_due_reminders(now=now)] * 3)
    services.enqueue_due_reminders(now=now)
    in_parallel([lambda: services.deliver_due_notifications(now=now)] * 2)
    services.deliver_due_notifications(now=now)
    assert _sent("reminder") == Counter({a.pk: 1 for a in booked})
    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert sorted(m.to[0] for m in reminders) == sorted(a.patient.email for a in booked)


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing catches it."""


def test_a_worker_that_dies_mid_batch_leaves_the_rest_for_the_next_run_and_sends_none_twice(
    world, monkeypatch
):
    booked = _book_monday(world)
    now = _reminder_time(world)
    Notification.objects.all().delete()  # only the reminders, for a clear count
    services.enqueue_due_reminders(now=now)
    real = services._hand_over
    handed: list = []

    def dies_at_the_second(row) -> None:
        if len(handed) == 1:
            raise WorkerDied
        handed.append(row.pk)
        real(row)

    monkeypatch.setattr(services, "_hand_over", dies_at_the_second)
    with pytest.raises(WorkerDied):
        services.deliver_due_notifications(now=now)
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    assert statuses == Counter({"sent": 1, "pending": 2})
    monkeypatch.setattr(services, "_hand_over", real)
    assert services.deliver_due_notifications(now=now) == services.DeliveryReport(sent=2)
    assert _sent("reminder") == Counter({a.pk: 1 for a in booked})
    assert len(mail.outbox) == 3


def test_a_cancelled_appointment_gets_no_reminder_but_its_cancellation(world):
    appointment = world.book(world.at(10))
    now = _reminder_time(world)
    services.enqueue_due_reminders(now=now)
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)
    services.deliver_due_notifications(now=now)
    kinds = dict(Notification.objects.values_list("kind", "status"))
    assert kinds == {"confirmation": "skipped", "reminder": "skipped", "cancelled": "sent"}
    [message] = mail.outbox
    assert "is cancelled" in message.body


def test_a_moved_appointment_gets_a_reminder_for_its_new_time_only(world):
    appointment = world.book(world.at(10))
    now = _reminder_time(world)
    services.enqueue_due_reminders(now=now)
    services.reschedule_appointment(
        actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(15)
    )
    assert services.enqueue_due_reminders(now=now) == 1
    services.deliver_due_notifications(now=now)
    reminders = Notification.objects.filter(kind="reminder").order_by("about_starts_at")
    assert [(r.about_starts_at, r.status) for r in reminders] == [
        (world.at(10), "skipped"),
        (world.at(15), "sent"),
    ]
    sent = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert len(sent) == 1
    assert "15:00" in sent[0].body
    assert "10:00" not in sent[0].body
    moved = [m for m in mail.outbox if m.subject.startswith("Your appointment has moved")]
    assert len(moved) == 1
    assert "15:00" in moved[0].body


def test_messages_carry_no_clinical_details(world):
    from backcare.patients.models import PatientPreferences

    PatientPreferences.objects.update_or_create(
        patient=world.patient,
        defaults={"clinic": world.clinic, "notes": "Sciatica after disc surgery"},
    )
    SchedulingSettings.objects.create(clinic=world.clinic, sms_enabled=True)
    world.patient.phone = "+44 20 7946 0000"
    world.patient.save()
    appointment = world.book(world.at(10))
    services.enqueue_due_reminders(now=_reminder_time(world))
    services.deliver_due_notifications(now=_reminder_time(world))
    texts = [f"{m.subject}\n{m.body}" for m in mail.outbox]
    texts += [m.body for m in RecordingSmsBackend.outbox]
    texts += [str(a[1]) for m in mail.outbox for a in m.attachments]
    assert len(texts) == 5  # confirmation and reminder by email and text, one .ics
    for text in texts:
        for clinical in (
            "Sciatica",
            "disc",
            "surgery",
            "pain",
            "red flag",
            world.patient.family_name,
        ):
            assert clinical.lower() not in text.lower()
    assert {m.reference for m in RecordingSmsBackend.outbox} == set(
        map(
            str,
            Notification.objects.filter(channel="sms", appointment=appointment).values_list(
                "pk", flat=True
            ),
        )
    )


def test_text_messages_go_to_patients_with_a_phone_when_the_clinic_turned_them_on(world):
    SchedulingSettings.objects.create(clinic=world.clinic, sms_enabled=True)
    world.patient.phone = "+44 20 7946 0000"
    world.patient.save()
    world.other_patient.phone = ""
    world.other_patient.save()
    with_phone = world.book(world.at(10))
    without_phone = world.book(world.at(12), patient=world.other_patient)
    services.deliver_due_notifications()
    [text] = RecordingSmsBackend.outbox
    assert text.to == "+44 20 7946 0000"
    assert "is booked" in text.body
    sms = Notification.objects.get(appointment=with_phone, channel="sms")
    assert text.reference == str(sms.pk)
    skipped = Notification.objects.get(appointment=without_phone, channel="sms")
    assert (skipped.status, skipped.last_error) == ("skipped", "The patient has no phone number.")


def test_a_failed_hand_over_is_retried_later_and_given_up_after_five_tries(world, settings):
    settings.SMS_BACKEND = "backcare.core.sms.NoSmsBackend"
    SchedulingSettings.objects.create(clinic=world.clinic, sms_enabled=True)
    world.patient.phone = "+44 20 7946 0000"
    world.patient.save()
    world.book(world.at(10))
    now = world.at(9, days=-3)
    services.deliver_due_notifications(now=now)
    sms = Notification.objects.get(channel="sms")
    assert (sms.status, sms.attempts) == ("pending", 1)
    assert "No text message provider" in sms.last_error
    assert sms.due_at == now + timedelta(minutes=2)
    assert services.deliver_due_notifications(now=now) == services.DeliveryReport()  # not yet due
    for day in range(1, 5):
        services.deliver_due_notifications(now=now + timedelta(days=day))
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("failed", 5)
    assert Notification.objects.get(channel="email").status == "sent"


def test_a_course_is_confirmed_once_with_all_its_sessions_in_the_ics(world):
    course = services.book_course(
        booked_by=world.desk,
        patient_id=world.patient.pk,
        therapist_id=world.therapist.pk,
        service_id=world.service.pk,
        first_starts_at=world.at(10),
        sessions_count=4,
    )
    assert course.sessions_count == 4
    [notice] = Notification.objects.all()
    assert notice.covers_course
    services.deliver_due_notifications()
    [message] = mail.outbox
    assert "and the later sessions of your course is booked" in message.body
    events = Calendar.from_ical(message.attachments[0][1]).walk("VEVENT")
    assert len(events) == 4


def test_a_request_waiting_for_approval_is_acknowledged_then_confirmed(world):
    SchedulingSettings.objects.create(clinic=world.clinic, new_patients_need_approval=True)
    user = make_user()
    from tests.factories import make_patient

    patient = make_patient(world.clinic, user=user)
    from backcare.triage.tests.factories import make_screening

    make_screening(world.desk, patient)
    appointment = world.book(world.at(10), patient=patient, actor=user)
    assert appointment.status == "requested"
    services.approve_appointment(actor=world.desk, appointment_id=appointment.pk)
    services.deliver_due_notifications()
    kinds = dict(Notification.objects.values_list("kind", "status"))
    # The acknowledgement was overtaken by the approval before it left: only the confirmation.
    assert kinds == {NotificationKind.REQUEST: "skipped", NotificationKind.CONFIRMATION: "sent"}


def test_sending_is_audited_without_clinical_detail(world):
    from backcare.core.models import AuditEvent

    world.book(world.at(10))
    services.deliver_due_notifications()
    event = AuditEvent.objects.get(action="notification.sent")
    assert event.patient_id == world.patient.pk
    assert event.detail == {"kind": "confirmation", "channel": "email"}


def test_a_check_in_follows_each_attended_visit_once_with_a_working_link(world):
    from django.test import Client

    from backcare.outcomes.models import CheckIn

    attended = world.book(world.at(10))
    cancelled = world.book(world.at(12), patient=world.other_patient)
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=cancelled.pk)
    Notification.objects.all().delete()
    mail.outbox.clear()
    too_soon = world.at(10, days=1)  # 23 hours after the visit ended
    assert services.enqueue_check_ins(now=too_soon) == 0
    later = world.at(12, days=1)
    assert [services.enqueue_check_ins(now=later) for _ in range(3)] == [1, 0, 0]
    assert CheckIn.objects.get().visit_ref == attended.pk
    services.deliver_due_notifications(now=later)
    [message] = mail.outbox
    assert message.subject.startswith("How are you since your massage?")
    link = next(line for line in message.body.splitlines() if "/check-in/" in line)
    path = "/" + link.split("http://", 1)[1].split("/", 1)[1].split(" ")[0]
    assert Client().get(path).status_code == 200
    assert services.enqueue_check_ins(now=world.at(12, days=4)) == 0  # past three days


# --- Reminders written by the database: the same rows as the per-row writer they replaced ------

REMINDER_COLUMNS = (
    "clinic_id",
    "patient_id",
    "appointment_id",
    "waitlist_offer_id",
    "check_in_id",
    "kind",
    "channel",
    "about_starts_at",
    "covers_course",
    "key",
    "due_at",
    "status",
    "attempts",
    "sent_at",
    "last_error",
)


def _reminders_as_written_one_by_one(now) -> set[tuple]:
    """The rows the per-row writer (before the set-based INSERT) wrote at `now`: for each
    booked appointment after `now` within its clinic's reminder hours (24 without settings, 0
    none) and without a reminder for its current time, one by email and, where the clinic
    sends texts, one by text message, keyed by `str(id)` and `starts_at.isoformat()`."""
    rules = {s.clinic_id: s for s in SchedulingSettings.objects.all()}
    reminded = set(
        Notification.objects.filter(kind="reminder").values_list(
            "appointment_id", "about_starts_at"
        )
    )
    rows = set()
    for appointment in Appointment.objects.filter(status="booked", starts_at__gt=now):
        rule = rules.get(appointment.clinic_id, SchedulingSettings())
        hours = rule.reminder_hours_before
        if not hours or appointment.starts_at - timedelta(hours=hours) > now:
            continue
        if (appointment.pk, appointment.starts_at) in reminded:
            continue
        for channel in ["email", "sms"] if rule.sms_enabled else ["email"]:
            key = f"reminder:{appointment.pk}:{channel}:{appointment.starts_at.isoformat()}"
            rows.add(
                (
                    *(appointment.clinic_id, appointment.patient_id, appointment.pk, None, None),
                    *("reminder", channel, appointment.starts_at, False, key, now),
                    *("pending", 0, None, ""),
                )
            )
    return rows


def _reminder_rows() -> set[tuple]:
    return set(Notification.objects.filter(kind="reminder").values_list(*REMINDER_COLUMNS))


class MixedOutbox:
    """Three clinics and the cases the reminder job tells apart, seen from `now`: the default
    24-hour window (no settings row), 72 hours with text messages, and a clinic that sends no
    reminders; in each, booked appointments inside and outside the window, one already past,
    a cancelled and a completed one, one with microseconds in its time; and reminders already
    queued: one for an appointment's current time, one for the time it was moved from, and an
    email-only one at the texting clinic (written before it turned texts on)."""

    def __init__(self) -> None:
        self.now = timezone.now().replace(microsecond=0) + timedelta(days=30)
        self.clinics = [make_clinic("Default"), make_clinic("Texts"), make_clinic("None")]
        SchedulingSettings.objects.create(
            clinic=self.clinics[1], reminder_hours_before=72, sms_enabled=True
        )
        SchedulingSettings.objects.create(clinic=self.clinics[2], reminder_hours_before=0)
        self.appointments = {
            (clinic.pk, label): self._appointment(clinic, hours, status)
            for clinic in self.clinics
            for label, hours, status in [
                ("past", -3, "booked"),
                ("soon", 2, "booked"),
                ("cancelled", 5, "cancelled"),
                ("completed", 8, "completed"),
                ("queued", 11, "booked"),
                ("moved", 14, "booked"),
                ("microseconds", 17.0001, "booked"),
                ("day", 23.99, "booked"),
                ("after a day", 25, "booked"),
                ("three days", 71, "booked"),
                ("after three days", 73, "booked"),
            ]
        }
        for clinic in self.clinics:
            self._queued(self.appointments[clinic.pk, "queued"], "email")
            moved = self.appointments[clinic.pk, "moved"]
            self._queued(moved, "email", about=moved.starts_at - timedelta(hours=1))
        self._queued(self.appointments[self.clinics[1].pk, "three days"], "email")

    def _appointment(self, clinic, hours: float, status: str) -> Appointment:
        therapist = make_therapist(clinic)
        starts_at = self.now + timedelta(hours=hours)
        return Appointment.objects.create(
            clinic=clinic,
            patient=make_patient(clinic),
            therapist=therapist,
            service=Service.objects.get_or_create(
                clinic=clinic, name="Back massage", defaults={"duration_minutes": 60}
            )[0],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            blocked_until=starts_at + timedelta(hours=1),
            status=status,
            booked_by=therapist.user,
        )

    def _queued(self, appointment: Appointment, channel: str, about=None) -> None:
        about = about or appointment.starts_at
        Notification.objects.create(
            clinic=appointment.clinic,
            patient=appointment.patient,
            appointment=appointment,
            kind="reminder",
            channel=channel,
            about_starts_at=about,
            key=f"reminder:{appointment.pk}:{channel}:{about.isoformat()}",
            due_at=self.now - timedelta(hours=1),
        )


def test_reminders_written_in_one_statement_are_the_rows_the_per_row_writer_wrote(db):
    outbox = MixedOutbox()
    before = _reminder_rows()
    expected = _reminders_as_written_one_by_one(outbox.now)
    assert services.enqueue_due_reminders(now=outbox.now) == len(expected)
    assert _reminder_rows() - before == expected
    written = {r[2] for r in expected}
    assert written == {  # the cases above, spelled out, so that the oracle is checked too
        outbox.appointments[clinic.pk, label].pk
        for clinic, labels in zip(
            outbox.clinics,
            [
                ["soon", "moved", "microseconds", "day"],
                ["soon", "moved", "microseconds", "day", "after a day"],
                [],
            ],
            strict=True,
        )
        for label in labels
    }
    assert Counter(r[6] for r in expected) == Counter({"email": 9, "sms": 5})
    fresh = Notification.objects.filter(kind="reminder", due_at=outbox.now)
    assert {n.pk.version for n in fresh} == {4}
    assert all(n.created_at is not None for n in fresh)


def test_a_second_run_of_the_set_based_reminders_adds_nothing(db):
    outbox = MixedOutbox()
    services.enqueue_due_reminders(now=outbox.now)
    rows = _reminder_rows()
    assert services.enqueue_due_reminders(now=outbox.now) == 0
    assert _reminder_rows() == rows


@pytest.mark.django_db(transaction=True)
def test_parallel_set_based_reminder_runs_write_each_reminder_once(migration_seeds):
    outbox = MixedOutbox()
    expected = _reminders_as_written_one_by_one(outbox.now)
    before = _reminder_rows()
    counts: list[int] = []
    in_parallel([lambda: counts.append(services.enqueue_due_reminders(now=outbox.now))] * 3)
    assert sum(counts) == len(expected)
    assert _reminder_rows() - before == expected
    assert Notification.objects.filter(kind="reminder").count() == len(before) + len(expected)
