"""The waitlist: a freed time goes to the first patient in line that it suits, by email with a
signed link that expires; declined or expired, it goes to the next."""

from datetime import time, timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.scheduling import services
from backcare.scheduling.models import (
    Appointment,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from backcare.scheduling.services import SlotTakenError
from backcare.scheduling.tests.test_services import World
from backcare.triage.tests.factories import make_screening
from tests.factories import make_clinic, make_member, make_patient, make_therapist, make_user


class Line(World):
    """The world with a full Monday morning for `patient`, and a line of three patients
    waiting for that Monday with the therapist."""

    def __init__(self) -> None:
        super().__init__()
        self.booked = self.book(self.at(10))
        self.waiting = [self._screened() for _ in range(3)]
        self.entries = [self.join(p) for p in self.waiting]

    def join(self, patient, **kwargs) -> WaitlistEntry:
        values: dict[str, Any] = {
            "therapist_id": self.therapist.pk,
            "first_date": self.monday,
            "last_date": self.monday,
        } | kwargs
        return services.join_waitlist(
            actor=self.desk, patient_id=patient.pk, service_id=self.service.pk, **values
        )

    def free_the_booked_time(self, django_capture_on_commit_callbacks) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_appointment(cancelled_by=self.desk, appointment_id=self.booked.pk)


@pytest.fixture
def line(db) -> Line:
    return Line()


def _offer_links() -> list[str]:
    return [
        line.strip()
        for message in mail.outbox
        if message.subject.startswith("A time has become free")
        for line in message.body.splitlines()
        if "/waitlist/offers/" in line
    ]


def test_a_cancelled_time_is_offered_to_the_first_in_line_by_email_with_a_link(
    line, django_capture_on_commit_callbacks
):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    assert offer.entry == line.entries[0]
    assert offer.starts_at == line.at(10)
    line.entries[0].refresh_from_db()
    assert line.entries[0].status == WaitlistStatus.OFFERED
    [link] = _offer_links()
    token = link.rsplit("/waitlist/offers/", 1)[1].strip("/")
    assert services.waitlist_offer_id(token) == offer.pk
    assert AuditEvent.objects.filter(action="waitlist.offer", patient_id=line.waiting[0].pk)


def test_the_offer_lasts_the_clinics_hours_but_not_past_the_time_itself(line):
    now = line.at(10) - timedelta(hours=5)
    offer = services.offer_freed_time(
        clinic_id=line.clinic.pk, therapist_id=line.therapist.pk, starts_at=line.at(12), now=now
    )
    assert offer is not None
    assert offer.expires_at == line.at(12) - services.OFFER_MIN_NOTICE  # 12 hours would pass it


def test_accepting_books_the_time_for_the_waiting_patient(line, django_capture_on_commit_callbacks):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    appointment = services.accept_waitlist_offer(actor=line.desk, offer_id=offer.pk)
    assert (appointment.patient, appointment.starts_at) == (line.waiting[0], line.at(10))
    offer.refresh_from_db()
    assert (offer.status, offer.appointment) == ("accepted", appointment)
    line.entries[0].refresh_from_db()
    assert line.entries[0].status == WaitlistStatus.BOOKED


def test_the_patient_accepts_their_own_offer_and_nobody_elses(line):
    user = make_user()
    patient = make_patient(line.clinic, user=user)
    make_screening(line.desk, patient)
    entry = line.join(patient)
    WaitlistEntry.objects.filter(pk__in=[e.pk for e in line.entries]).update(status="withdrawn")
    services.cancel_appointment(cancelled_by=line.desk, appointment_id=line.booked.pk)
    offer = services.offer_freed_time(
        clinic_id=line.clinic.pk, therapist_id=line.therapist.pk, starts_at=line.at(10)
    )
    assert offer is not None
    assert offer.entry == entry
    with pytest.raises(NotFoundError):
        services.accept_waitlist_offer(actor=make_user(), offer_id=offer.pk)
    assert AuditEvent.objects.filter(action="waitlist.accept", outcome="denied").exists()
    appointment = services.accept_waitlist_offer(actor=user, offer_id=offer.pk)
    assert appointment.booked_by == user


def test_a_declined_offer_goes_to_the_next_in_line(line, django_capture_on_commit_callbacks):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    first = WaitlistOffer.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_waitlist_offer(actor=line.desk, offer_id=first.pk)
    second = WaitlistOffer.objects.exclude(pk=first.pk).get()
    assert second.entry == line.entries[1]
    line.entries[0].refresh_from_db()
    assert line.entries[0].status == WaitlistStatus.WAITING  # keeps its place for other times


def test_an_expired_offer_ends_and_the_time_goes_to_the_next_in_line(
    line, django_capture_on_commit_callbacks
):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    first = WaitlistOffer.objects.get()
    later = first.expires_at + timedelta(minutes=1)
    assert services.expire_waitlist_offers(now=first.expires_at - timedelta(minutes=1)) == 0
    assert services.expire_waitlist_offers(now=later) == 1
    first.refresh_from_db()
    assert first.status == "expired"
    second = WaitlistOffer.objects.exclude(pk=first.pk).get()
    assert second.entry == line.entries[1]
    assert services.expire_waitlist_offers(now=later) == 0  # again: nothing more


def test_an_expired_or_answered_offer_cannot_be_accepted(line, django_capture_on_commit_callbacks):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    services.expire_waitlist_offers(now=offer.expires_at)
    with pytest.raises(ConflictError, match="no longer open"):
        services.accept_waitlist_offer(actor=line.desk, offer_id=offer.pk)
    assert not Appointment.objects.filter(patient=line.waiting[0]).exists()


def test_a_time_taken_meanwhile_ends_the_offer_and_keeps_the_patients_place(
    line, django_capture_on_commit_callbacks
):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    line.book(line.at(10), patient=line.other_patient)  # the front desk filled it by phone
    with pytest.raises(SlotTakenError):
        services.accept_waitlist_offer(actor=line.desk, offer_id=offer.pk)
    offer.refresh_from_db()
    line.entries[0].refresh_from_db()
    assert (offer.status, line.entries[0].status) == ("taken", WaitlistStatus.WAITING)


def test_an_offer_goes_only_to_entries_the_time_suits(line):
    WaitlistEntry.objects.update(status="withdrawn")
    other_therapist = make_therapist(line.clinic)
    line.join(line._screened(), therapist_id=other_therapist.pk)
    line.join(line._screened(), earliest_time=time(11))
    line.join(line._screened(), latest_time=time(9, 30))
    tuesday = line.monday + timedelta(days=1)
    line.join(line._screened(), first_date=tuesday, last_date=tuesday)
    services.cancel_appointment(cancelled_by=line.desk, appointment_id=line.booked.pk)
    args = {"clinic_id": line.clinic.pk, "therapist_id": line.therapist.pk}
    assert services.offer_freed_time(**args, starts_at=line.at(10)) is None
    anyone = line.join(line._screened(), therapist_id=None)
    offer = services.offer_freed_time(**args, starts_at=line.at(10))
    assert offer is not None
    assert offer.entry == anyone


def test_no_second_offer_of_a_time_already_offered_or_too_close(line):
    services.cancel_appointment(cancelled_by=line.desk, appointment_id=line.booked.pk)
    args = {"clinic_id": line.clinic.pk, "therapist_id": line.therapist.pk}
    assert services.offer_freed_time(**args, starts_at=line.at(10)) is not None
    assert services.offer_freed_time(**args, starts_at=line.at(10)) is None
    soon = line.at(12) - timedelta(hours=1)
    assert services.offer_freed_time(**args, starts_at=line.at(12), now=soon) is None


def test_a_patient_on_hold_cannot_join_and_is_skipped_when_put_on_hold_later(line):
    unscreened = make_patient(line.clinic)
    with pytest.raises(ConflictError, match="cannot be booked yet"):
        line.join(unscreened)
    WaitlistEntry.objects.filter(pk=line.entries[0].pk).update(status="waiting")
    make_screening(line.desk, line.waiting[0], yes=("history_of_cancer",))  # now held
    services.cancel_appointment(cancelled_by=line.desk, appointment_id=line.booked.pk)
    offer = services.offer_freed_time(
        clinic_id=line.clinic.pk, therapist_id=line.therapist.pk, starts_at=line.at(10)
    )
    assert offer is not None
    assert offer.entry == line.entries[1]


@pytest.mark.parametrize(
    ("first", "last", "earliest", "latest", "field"),
    [
        (-1, 0, None, None, "first_date"),
        (3, 2, None, None, "last_date"),
        (0, 93, None, None, "last_date"),
        (0, 1, time(12), time(11), "latest_time"),
    ],
)
def test_waitlist_dates_and_times_are_checked(line, first, last, earliest, latest, field):
    today = line.clinic.local_date()
    with pytest.raises(InvalidInputError) as refused:
        line.join(
            line._screened(),
            first_date=today + timedelta(days=first),
            last_date=today + timedelta(days=last),
            earliest_time=earliest,
            latest_time=latest,
        )
    assert field in refused.value.field_errors


def test_strangers_cannot_join_leave_or_answer_for_a_patient(line):
    outsider = make_member(make_clinic("Elsewhere"), Role.FRONT_DESK)
    with pytest.raises(NotFoundError):
        services.join_waitlist(
            actor=outsider,
            patient_id=line.patient.pk,
            service_id=line.service.pk,
            therapist_id=None,
            first_date=line.monday,
            last_date=line.monday,
        )
    with pytest.raises(NotFoundError):
        services.leave_waitlist(actor=outsider, entry_id=line.entries[0].pk)
    assert AuditEvent.objects.filter(action="waitlist.leave", outcome="denied").exists()


def test_leaving_the_waitlist_ends_an_open_offer(line, django_capture_on_commit_callbacks):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    entry = services.leave_waitlist(actor=line.desk, entry_id=line.entries[0].pk)
    offer.refresh_from_db()
    assert (entry.status, offer.status) == (WaitlistStatus.WITHDRAWN, "declined")
    with pytest.raises(ConflictError):
        services.leave_waitlist(actor=line.desk, entry_id=line.entries[0].pk)


@pytest.mark.parametrize(
    "token",
    ["nonsense", signing.dumps("not-a-uuid", salt=services.OFFER_SALT), signing.dumps("x")],
    # Signed tokens carry a timestamp: fixed ids keep parallel workers' collections equal.
    ids=["nonsense", "not-a-uuid", "other-salt"],
)
def test_an_altered_or_foreign_link_is_not_found_and_the_attempt_is_audited(db, token):
    with pytest.raises(NotFoundError):
        services.waitlist_offer_id(token)
    assert AuditEvent.objects.filter(action="waitlist.offer.view", outcome="denied").count() == 1


def test_an_old_link_is_not_found(line, django_capture_on_commit_callbacks, time_machine):
    line.free_the_booked_time(django_capture_on_commit_callbacks)
    [link] = _offer_links()
    token = link.rsplit("/waitlist/offers/", 1)[1].strip("/")
    time_machine.move_to(timezone.now() + timedelta(hours=73))
    with pytest.raises(NotFoundError):
        services.waitlist_offer_id(token)
