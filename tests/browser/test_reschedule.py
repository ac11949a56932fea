"""Moving an appointment in Chromium: a patient opens My appointments, follows Move, chooses
another time by keyboard (on a desktop) or by touch (on a phone), and sees the new time in My
appointments. axe-core on every page visited."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from backcare.accounts.models import Clinic, Role, User
from backcare.scheduling import services
from backcare.scheduling.models import Appointment, Service, WorkingHours
from backcare.triage.tests.factories import make_screening
from tests.browser.conftest import DASHBOARD_URL, assert_accessible, submit_password
from tests.factories import make_member, make_patient, make_therapist, make_user

pytestmark = pytest.mark.browser


def _listed(day: date, at: time) -> str:
    """A time as the appointments table shows it ("D j M Y, H:i")."""
    return f"{day:%a} {day.day} {day:%b %Y}, {at:%H:%M}"


@pytest.fixture
def booked(clinic: Clinic) -> Appointment:
    """The patient's own appointment at 10:00 eight days from now (outside the clinic's 24-hour
    window), with a therapist who works 09:00-17:00 every day."""
    desk = make_member(clinic, Role.FRONT_DESK)
    user = make_user(full_name="Pat Mover")
    patient = make_patient(clinic, user=user)
    make_screening(desk, patient)
    service = Service.objects.create(
        clinic=clinic, name="Back massage (60 min)", duration_minutes=60, buffer_minutes=15
    )
    therapist = make_therapist(clinic)
    for weekday in range(7):
        WorkingHours.objects.create(
            clinic=clinic, therapist=therapist, weekday=weekday, starts=time(9), ends=time(17)
        )
    day = clinic.local_date() + timedelta(days=8)
    return services.book_appointment(
        booked_by=user,
        patient_id=patient.pk,
        therapist_id=therapist.pk,
        service_id=service.pk,
        starts_at=datetime.combine(day, time(10), tzinfo=clinic.zone),
    )


def _open_move_page(page: Page, user: User, day: date) -> None:
    page.goto("/accounts/login/")
    submit_password(page, user.email)
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    upcoming = page.get_by_role("table", name="Upcoming appointments")
    expect(upcoming).to_contain_text(_listed(day, time(10)))
    assert_accessible(page)
    upcoming.get_by_role("link", name=re.compile(r"^Move")).click()
    expect(page.get_by_role("heading", name="Move your appointment", level=1)).to_be_visible()
    assert_accessible(page)


def _see_moved(page: Page, day: date, at: time) -> None:
    expect(page).to_have_url(re.compile(r"/portal/appointments/$"))
    expect(page.get_by_text(re.compile(r"^Moved to "))).to_be_visible()
    upcoming = page.get_by_role("table", name="Upcoming appointments")
    expect(upcoming).to_contain_text(_listed(day, at))
    expect(upcoming).not_to_contain_text(_listed(day, time(10)))
    assert_accessible(page)


def test_a_patient_moves_an_appointment_with_the_keyboard(
    page: Page, clinic: Clinic, booked: Appointment
):
    day = clinic.local_date(booked.starts_at)
    user = booked.patient.user
    assert user is not None
    _open_move_page(page, user, day)

    that_day = page.get_by_role("group", name=f"{day:%A} {day.day} {day:%B}")
    that_day.get_by_role("radio", name="14:00").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")  # arrow keys move through the group's times
    expect(that_day.get_by_role("radio", name="14:15")).to_be_checked()
    assert_accessible(page)
    page.keyboard.press("Enter")

    _see_moved(page, day, time(14, 15))


def test_a_patient_moves_an_appointment_by_touch_on_a_phone(
    phone_page: Page, clinic: Clinic, booked: Appointment
):
    day = clinic.local_date(booked.starts_at)
    user = booked.patient.user
    assert user is not None
    _open_move_page(phone_page, user, day)

    that_day = phone_page.get_by_role("group", name=f"{day:%A} {day.day} {day:%B}")
    that_day.get_by_text("15:30", exact=True).tap()
    expect(that_day.get_by_role("radio", name="15:30")).to_be_checked()
    phone_page.get_by_role("button", name="Move the appointment").tap()

    _see_moved(phone_page, day, time(15, 30))
