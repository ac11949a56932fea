"""Booking pages: the patient books online, the front desk books for a patient; held patients,
unbookable therapists and taken slots are refused with their reason; strangers get 404."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent
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
