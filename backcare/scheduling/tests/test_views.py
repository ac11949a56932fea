"""Booking pages: the patient books online, the front desk books for a patient; held patients,
unbookable therapists and taken slots are refused with their reason; strangers get 404."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent
from backcare.scheduling import services
from backcare.scheduling.models import Appointment, WorkingHours
from backcare.scheduling.tests.test_services import World
from backcare.triage.tests.factories import make_screening
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_therapist, make_user


class PortalWorld(World):
    def __init__(self) -> None:
        super().__init__()
        self.patient_user = make_user(full_name="Pat Portal")
        self.portal_patient = make_patient(self.clinic, user=self.patient_user)
        make_screening(self.desk, self.portal_patient)

    def search(self, therapist: str = "any") -> dict[str, str]:
        return {
            "service": str(self.service.pk),
            "therapist": therapist,
            "week": self.monday.isoformat(),
        }

    def slot(self, hour: int) -> dict[str, str]:
        return {
            "service": str(self.service.pk),
            "therapist": str(self.therapist.pk),
            "starts_at": self.at(hour).isoformat(),
        }


@pytest.fixture
def world(db) -> PortalWorld:
    return PortalWorld()


def test_a_patient_sees_free_times_and_books_one(world):
    client = client_for(world.patient_user)
    page = client.get(reverse("portal_booking"), world.search())
    assert page.status_code == 200
    text = page.content.decode()
    assert "10:00" in text
    assert world.therapist.user.full_name in text
    response = client.post(reverse("portal_booking"), world.slot(10))
    assert response.status_code == 302
    assert response.url == reverse("portal_appointments")
    appointment = Appointment.objects.get()
    assert appointment.patient == world.portal_patient
    listing = client.get(response.url).content.decode()
    assert "Back massage 60" in listing
    assert "Your session is booked." in listing


def test_a_taken_slot_answers_409_with_the_next_free_times(world):
    world.book(world.at(10))
    response = client_for(world.patient_user).post(reverse("portal_booking"), world.slot(10))
    assert response.status_code == 409
    assert "Next free times" in response.content.decode()


def test_a_patient_on_hold_sees_why_and_no_times(world):
    user = make_user()
    held = make_patient(world.clinic, user=user)
    make_screening(world.desk, held, yes=("history_of_cancer",))
    client = client_for(user)
    page = client.get(reverse("portal_booking"), world.search()).content.decode()
    assert "Booking is not open yet" in page
    assert "Show free times" not in page
    response = client.post(reverse("portal_booking"), world.slot(10))
    assert response.status_code == 409
    assert not Appointment.objects.exists()


def test_a_therapist_with_an_expired_licence_is_not_offered(world):
    lapsed = make_therapist(world.clinic, expires_in_days=-1)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=lapsed, weekday=0, starts=time(9), ends=time(17)
    )
    page = client_for(world.patient_user).get(reverse("portal_booking"), world.search())
    assert lapsed.user.full_name not in page.content.decode()
    slot = {**world.slot(10), "therapist": str(lapsed.pk)}
    response = client_for(world.patient_user).post(reverse("portal_booking"), slot)
    assert response.status_code == 409
    assert "valid, verified licence" in response.content.decode()


def test_the_front_desk_books_for_a_patient_and_cancels(world):
    client = client_for(world.desk)
    url = reverse("patient_booking", args=[world.patient.pk])
    assert client.get(url, world.search(str(world.therapist.pk))).status_code == 200
    response = client.post(url, world.slot(11))
    assert response.url == reverse("patient_appointments", args=[world.patient.pk])
    appointment = Appointment.objects.get()
    cancel = client.post(reverse("appointment_cancel", args=[appointment.pk]))
    assert cancel.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_a_bad_week_is_a_422_with_a_message(world):
    search = {**world.search(), "week": (world.monday - timedelta(days=30)).isoformat()}
    response = client_for(world.patient_user).get(reverse("portal_booking"), search)
    assert response.status_code == 422
    assert "Choose today or a later date." in response.content.decode()


@pytest.mark.parametrize("outsider", ["other_clinic_staff", "stranger", "other_patient"])
def test_outsiders_get_404_and_are_audited(world, outsider):
    users = {
        "other_clinic_staff": lambda: make_member(make_clinic("Elsewhere"), Role.FRONT_DESK),
        "stranger": make_user,
        "other_patient": lambda: world.patient_user,
    }
    client = client_for(users[outsider]())
    appointment = world.book(world.at(10))
    for method, url, data in (
        ("get", reverse("patient_booking", args=[world.patient.pk]), {}),
        ("post", reverse("patient_booking", args=[world.patient.pk]), world.slot(12)),
        ("get", reverse("patient_appointments", args=[world.patient.pk]), {}),
        ("post", reverse("appointment_cancel", args=[appointment.pk]), {}),
    ):
        assert getattr(client, method)(url, data).status_code == 404, url
    assert AuditEvent.objects.filter(outcome="denied").count() >= 4
    assert Appointment.objects.filter(status="booked").count() == 1


def test_staff_see_a_therapists_day_and_week_and_move_with_htmx(world):
    world.book(world.at(10))
    client = client_for(world.desk)
    query = {"therapist": str(world.therapist.pk), "day": world.monday.isoformat()}
    page = client.get(reverse("staff_calendar"), query).content.decode()
    assert "10:00\N{EN DASH}11:00" in page
    assert world.patient.display_name in page
    week = client.get(reverse("staff_calendar"), {**query, "view": "week"}).content.decode()
    assert "Week from" in week
    assert world.patient.display_name in week
    nxt = (world.monday + timedelta(days=1)).isoformat()
    partial = client.get(
        reverse("staff_calendar"), {**query, "day": nxt}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in partial
    assert "No appointments." in partial
    [event] = AuditEvent.objects.filter(action="calendar.view").order_by("-id")[:1]
    assert event.detail["appointments"] == 0


def test_the_calendar_is_for_clinic_staff_only(world):
    assert client_for(world.patient_user).get(reverse("staff_calendar")).status_code == 404
    outsider = make_member(make_clinic("Elsewhere"), Role.FRONT_DESK)
    world.book(world.at(10))
    page = client_for(outsider).get(reverse("staff_calendar"), {"day": world.monday.isoformat()})
    assert world.patient.display_name not in page.content.decode()


def test_a_patient_previews_and_books_a_ten_week_course(world):
    client = client_for(world.patient_user)
    world.book(world.at(10, days=28))  # week 5 is taken at 10:00
    slot = {**world.slot(10), "sessions": "10"}
    preview = client.post(reverse("portal_booking"), slot)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Session 5:" in page
    assert "is not free" in page
    assert not Appointment.objects.filter(patient=world.portal_patient).exists()
    alternative = world.at(11, 15, days=28).isoformat()
    assert alternative in page
    booked = client.post(reverse("portal_booking"), {**slot, "confirm": "1", "alt_5": alternative})
    assert booked.status_code == 302
    mine = Appointment.objects.filter(patient=world.portal_patient).order_by("starts_at")
    assert mine.count() == 10
    assert mine[4].starts_at == world.at(11, 15, days=28)
    listing = client.get(booked.url).content.decode()
    assert "Your course of 10 sessions is booked." in listing


def test_confirming_a_course_with_a_taken_session_books_none(world):
    client = client_for(world.patient_user)
    world.book(world.at(10, days=14))
    response = client.post(
        reverse("portal_booking"), {**world.slot(10), "sessions": "4", "confirm": "1"}
    )
    assert response.status_code == 409
    assert "We could not book the course" in response.content.decode()
    assert not Appointment.objects.filter(patient=world.portal_patient).exists()


def test_a_garbled_slot_is_a_422_and_books_nothing(world):
    bad = {**world.slot(10), "starts_at": "tomorrow-ish"}
    response = client_for(world.patient_user).post(reverse("portal_booking"), bad)
    assert response.status_code == 422
    assert "Choose a time from the list of free times." in response.content.decode()
    assert not Appointment.objects.exists()


# --- Moving an appointment ------------------------------------------------------------------------


def _move(appointment: Appointment) -> str:
    return reverse("appointment_reschedule", args=[appointment.pk])


def _value(when: datetime) -> str:
    """A time as the reschedule page's radio buttons carry it."""
    return when.astimezone(UTC).isoformat()


def _own_booking(world: PortalWorld, hour: int = 10) -> Appointment:
    """The portal patient's own booking on the Monday after next (outside the 24-hour window
    whatever the weekday today)."""
    return world.book(
        world.at(hour, days=7), patient=world.portal_patient, actor=world.patient_user
    )


def test_a_patient_moves_their_appointment_and_its_old_time_is_free_again(world):
    appointment = _own_booking(world)
    client = client_for(world.patient_user)
    listing = client.get(reverse("portal_appointments")).content.decode()
    assert _move(appointment) in listing

    page = client.get(_move(appointment))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Move your appointment" in text
    assert "Back massage 60" in text
    assert world.therapist.user.full_name in text
    assert f'value="{_value(world.at(14, days=7))}"' in text
    # Its own time does not stand in its way, but the current start itself is not offered.
    assert f'value="{_value(world.at(10, 30, days=7))}"' in text
    assert f'value="{_value(world.at(10, days=7))}"' not in text

    moved = client.post(_move(appointment), {"starts_at": _value(world.at(14, days=7))})

    assert moved.status_code == 302
    assert moved.url == reverse("portal_appointments")
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(14, days=7)
    assert "Moved to Mon" in client.get(moved.url).content.decode()
    assert world.book(world.at(10, days=7), patient=world.other_patient)


def test_the_front_desk_moves_a_patients_appointment(world):
    appointment = world.book(world.at(10))
    client = client_for(world.desk)
    listing = client.get(reverse("patient_appointments", args=[world.patient.pk]))
    assert _move(appointment) in listing.content.decode()
    page = client.get(_move(appointment))
    assert page.status_code == 200
    assert world.patient.display_name in page.content.decode()

    moved = client.post(_move(appointment), {"starts_at": _value(world.at(15))})

    assert moved.status_code == 302
    assert moved.url == reverse("patient_appointments", args=[world.patient.pk])
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(15)


@pytest.mark.parametrize("outsider", ["other_clinic_staff", "stranger", "other_patient"])
def test_outsiders_get_404_on_the_move_page_and_are_audited(world, outsider):
    users = {
        "other_clinic_staff": lambda: make_member(make_clinic("Elsewhere"), Role.FRONT_DESK),
        "stranger": make_user,
        "other_patient": lambda: world.patient_user,
    }
    client = client_for(users[outsider]())
    appointment = world.book(world.at(10))

    assert client.get(_move(appointment)).status_code == 404
    assert client.post(_move(appointment), {"starts_at": _value(world.at(14))}).status_code == 404

    assert AuditEvent.objects.filter(outcome="denied").count() == 2
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(10)


def test_an_unknown_appointment_is_a_404(world):
    missing = reverse("appointment_reschedule", args=["00000000-0000-0000-0000-000000000000"])
    assert client_for(world.desk).get(missing).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", action="appointment.view").exists()


def test_inside_the_window_a_patient_gets_409_with_the_window_but_staff_may_move(world):
    appointment = _own_booking(world)
    window = "Appointments can be changed up to 24 hours before; please call the clinic"
    with time_machine.travel(world.at(9, days=7), tick=True):  # an hour before
        patient = client_for(world.patient_user)
        page = patient.get(_move(appointment)).content.decode()
        assert window in page
        assert 'name="starts_at"' not in page

        refused = patient.post(_move(appointment), {"starts_at": _value(world.at(14, days=7))})

        assert refused.status_code == 409
        assert window in refused.content.decode()
        appointment.refresh_from_db()
        assert appointment.starts_at == world.at(10, days=7)
        staff = client_for(world.desk)
        moved = staff.post(_move(appointment), {"starts_at": _value(world.at(14, days=7))})
        assert moved.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(14, days=7)


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        ("tomorrow-ish", "That time could not be read"),
        ("", "Choose a new time from the list of free times."),
    ],
)
def test_a_garbled_or_missing_time_is_a_422_and_moves_nothing(world, starts_at, message):
    appointment = _own_booking(world)
    response = client_for(world.patient_user).post(_move(appointment), {"starts_at": starts_at})
    assert response.status_code == 422
    assert message in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(10, days=7)


def test_a_taken_time_is_a_409_that_keeps_the_page_with_the_next_free_times(world):
    appointment = _own_booking(world)
    world.book(world.at(14, days=7), patient=world.other_patient)
    week = (world.monday + timedelta(days=7)).isoformat()

    response = client_for(world.patient_user).post(
        _move(appointment), {"starts_at": _value(world.at(14, days=7)), "week": week}
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "That time was just taken. Next free times: Mon" in text
    assert "You chose Mon" in text
    assert f'value="{_value(world.at(15, 15, days=7))}"' in text
    assert f'name="week" value="{week}"' in text
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(10, days=7)


def _weekly_course(world: PortalWorld, sessions: int) -> list[Appointment]:
    course = services.book_course(
        booked_by=world.desk,
        patient_id=world.patient.pk,
        therapist_id=world.therapist.pk,
        service_id=world.service.pk,
        first_starts_at=world.at(10),
        sessions_count=sessions,
    )
    return list(Appointment.objects.filter(course=course).order_by("starts_at"))


def test_the_later_sessions_of_a_course_move_together(world):
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=world.therapist, weekday=1, starts=time(9), ends=time(17)
    )
    sessions = _weekly_course(world, 4)
    client = client_for(world.desk)
    page = client.get(_move(sessions[1])).content.decode()
    assert "Move this and the later sessions of the course to the same weekday and time" in page
    assert "2 later sessions" in page

    moved = client.post(
        _move(sessions[1]),
        {"starts_at": _value(world.at(14, days=8)), "remaining_in_course": "on"},
    )

    assert moved.status_code == 302
    assert [a.starts_at for a in Appointment.objects.order_by("starts_at")] == [
        world.at(10),
        world.at(14, days=8),
        world.at(14, days=15),
        world.at(14, days=22),
    ]
    listing = client.get(moved.url).content.decode()
    assert "The later sessions of the course moved" in listing


def test_a_course_move_with_a_taken_session_is_a_409_that_moves_none(world):
    sessions = _weekly_course(world, 3)
    world.book(world.at(14, days=14), patient=world.other_patient)

    response = client_for(world.desk).post(
        _move(sessions[0]), {"starts_at": _value(world.at(14)), "remaining_in_course": "on"}
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "Session 3" in text
    assert "Nothing was booked" in text
    assert (
        'name="remaining_in_course" value="1" aria-describedby="remaining_in_course_help" checked'
        in text
    )
    assert f'value="{_value(world.at(14))}" checked' in text
    assert [a.starts_at for a in Appointment.objects.filter(course__isnull=False)] == [
        world.at(10, days=7 * n) for n in range(3)
    ]


def test_the_move_page_shows_a_week_at_a_time(world):
    appointment = _own_booking(world)
    client = client_for(world.patient_user)
    later = (world.monday + timedelta(days=14)).isoformat()
    page = client.get(_move(appointment), {"week": later}).content.decode()
    assert f"?week={(world.monday + timedelta(days=21)).isoformat()}" in page
    assert f"?week={(world.monday + timedelta(days=7)).isoformat()}" in page
    assert f'value="{_value(world.at(9, days=14))}"' in page
    assert f'value="{_value(world.at(9, days=7))}"' not in page

    past = (world.monday - timedelta(days=30)).isoformat()
    bad = client.get(_move(appointment), {"week": past})
    assert bad.status_code == 422
    assert "Choose today or a later date." in bad.content.decode()


def test_past_and_cancelled_appointments_offer_no_move(world):
    cancelled = world.book(world.at(10))
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=cancelled.pk)
    client = client_for(world.desk)
    listing = client.get(reverse("patient_appointments", args=[world.patient.pk]))
    assert _move(cancelled) not in listing.content.decode()
    page = client.get(_move(cancelled)).content.decode()
    assert "Only a booked or requested appointment can be moved." in page
    assert 'name="starts_at"' not in page


def _past_appointments(world: PortalWorld, count: int, offset: int = 0) -> None:
    Appointment.objects.bulk_create(
        Appointment(
            clinic=world.clinic,
            patient=world.portal_patient,
            therapist=world.therapist,
            service=world.service,
            starts_at=world.at(10) - timedelta(days=7 * n),
            ends_at=world.at(11) - timedelta(days=7 * n),
            blocked_until=world.at(11, 15) - timedelta(days=7 * n),
            status="completed",
            booked_by=world.desk,
        )
        for n in range(offset + 1, offset + count + 1)
    )


# Session, user and memberships (3); the appointment, its patient and the clinic's settings (3);
# the hold (3); working hours, time off and busy times (3); the licence (1); the audit event (1).
MOVE_PAGE_QUERIES = 14


def test_the_move_page_takes_a_fixed_number_of_queries_whatever_the_history(
    world, django_assert_num_queries
):
    appointment = _own_booking(world)
    client = client_for(world.patient_user)

    _past_appointments(world, 10)
    with django_assert_num_queries(MOVE_PAGE_QUERIES):
        assert client.get(_move(appointment)).status_code == 200
    _past_appointments(world, 990, offset=10)
    with django_assert_num_queries(MOVE_PAGE_QUERIES):
        assert client.get(_move(appointment)).status_code == 200


def test_the_booking_page_does_not_offer_times_the_patient_is_booked_elsewhere(world):
    other = make_therapist(world.clinic)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=other, weekday=0, starts=time(9), ends=time(17)
    )
    world.book(world.at(10), patient=world.portal_patient)  # 10:00-11:00 (+15 buffer) with one
    client = client_for(world.patient_user)
    page = client.get(reverse("portal_booking"), world.search(therapist=str(other.pk)))
    offered = {slot.starts_at for _, slots in page.context["days"] for slot in slots}
    monday = {t.astimezone(world.clinic.zone).time() for t in offered if t.date() == world.monday}
    assert time(10) not in monday
    assert time(10, 30) not in monday
    assert time(11) in monday  # the first therapist's buffer is not the patient's


def test_a_patient_cancels_the_rest_of_a_course_in_one_step(world):
    from backcare.scheduling import services

    course = services.book_course(
        booked_by=world.patient_user,
        patient_id=world.portal_patient.pk,
        therapist_id=world.therapist.pk,
        service_id=world.service.pk,
        first_starts_at=world.at(10),
        sessions_count=4,
    )
    sessions = list(Appointment.objects.filter(course=course).order_by("starts_at"))
    client = client_for(world.patient_user)
    listing = client.get(reverse("portal_appointments")).content.decode()
    assert "Cancel this and later sessions" in listing
    response = client.post(reverse("appointment_cancel", args=[sessions[1].pk]), {"remaining": "1"})
    assert response.status_code == 302
    statuses = [a.status for a in Appointment.objects.filter(course=course).order_by("starts_at")]
    assert statuses == ["booked", "cancelled", "cancelled", "cancelled"]


def test_the_booking_page_offers_no_day_after_a_licence_lapses_that_week(world):
    wednesday = world.monday + timedelta(days=2)
    lapsing = make_therapist(
        world.clinic, expires_in_days=(wednesday - world.clinic.local_date()).days
    )
    for weekday in range(5):
        WorkingHours.objects.create(
            clinic=world.clinic, therapist=lapsing, weekday=weekday, starts=time(9), ends=time(17)
        )
    client = client_for(world.patient_user)
    page = client.get(reverse("portal_booking"), world.search(therapist=str(lapsing.pk)))
    days = {day for day, _ in page.context["days"]}
    assert world.monday in days
    assert wednesday in days  # valid through its expiry date
    assert not days & {wednesday + timedelta(days=1), wednesday + timedelta(days=2)}
