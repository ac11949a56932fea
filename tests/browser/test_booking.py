"""Online booking in Chromium: a patient who may book finds free times for a service, books
one and sees it in their appointments; a therapist with an expired licence is not offered.
axe-core on every page visited."""

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect

from backcare.accounts.models import Clinic, Role, User
from backcare.scheduling.models import Service, WorkingHours
from backcare.triage.tests.factories import make_screening
from tests.browser.conftest import DASHBOARD_URL, assert_accessible, submit_password
from tests.factories import make_member, make_patient, make_therapist, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def booking_world(clinic: Clinic) -> dict:
    desk = make_member(clinic, Role.FRONT_DESK)
    user = make_user(full_name="Pat Booker")
    patient = make_patient(clinic, user=user)
    make_screening(desk, patient)
    service = Service.objects.create(
        clinic=clinic, name="Back massage (60 min)", duration_minutes=60, buffer_minutes=15
    )
    valid = make_therapist(clinic)
    lapsed = make_therapist(clinic, expires_in_days=-3)
    for therapist in (valid, lapsed):
        for weekday in range(7):
            WorkingHours.objects.create(
                clinic=clinic, therapist=therapist, weekday=weekday, starts=time(9), ends=time(17)
            )
    return {
        "user": user,
        "patient": patient,
        "service": service,
        "valid": valid,
        "lapsed": lapsed,
    }


def test_a_patient_books_a_session_and_sees_it_and_a_lapsed_therapist_is_not_offered(
    page: Page, clinic: Clinic, booking_world: dict
):
    user: User = booking_world["user"]
    page.goto("/accounts/login/")
    submit_password(page, user.email)
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book").click()
    expect(page.get_by_role("heading", name="Book a session", level=1)).to_be_visible()
    assert_accessible(page)

    therapist_choice = page.get_by_label("Therapist")
    options = therapist_choice.locator("option").all_inner_texts()
    assert booking_world["valid"].user.full_name in options
    assert booking_world["lapsed"].user.full_name not in options

    page.locator('input[name="service"]').first.check()
    next_week = clinic.local_date() + timedelta(days=7)
    page.get_by_label("Week starting").fill(next_week.isoformat())
    page.get_by_role("button", name="Show free times").click()
    expect(page.get_by_role("heading", name="Free times")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_text(booking_world["lapsed"].user.full_name)).to_have_count(0)

    first = page.locator(".slot-list button").first
    chosen = first.inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/portal/appointments/$"))
    expect(page.get_by_text("Your session is booked.")).to_be_visible()
    upcoming = page.get_by_role("table", name="Upcoming appointments")
    expect(upcoming).to_contain_text("Back massage (60 min)")
    expect(upcoming).to_contain_text(booking_world["valid"].user.full_name)
    expect(upcoming).to_contain_text(chosen.split()[0])
    assert_accessible(page)


def test_a_patient_books_a_ten_week_course_online_and_sees_it(
    page: Page, clinic: Clinic, booking_world: dict
):
    user: User = booking_world["user"]
    page.goto("/accounts/login/")
    submit_password(page, user.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book").click()
    page.locator('input[name="service"]').first.check()
    page.get_by_label("Weekly sessions").fill("10")
    page.get_by_label("Week starting").fill((clinic.local_date() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.locator(".slot-list button").first.click()
    expect(page.get_by_role("heading", name="Check your course", level=1)).to_be_visible()
    expect(page.locator(".course-sessions > li")).to_have_count(10)
    assert_accessible(page)
    page.get_by_role("button", name="Book all 10 sessions").click()
    expect(page).to_have_url(re.compile(r"/portal/appointments/$"))
    expect(page.get_by_text("Your course of 10 sessions is booked.")).to_be_visible()
    rows = page.get_by_role("table", name="Upcoming appointments").locator("tbody tr")
    expect(rows).to_have_count(10)
    assert_accessible(page)


def test_my_appointments_with_an_upcoming_session_fits_a_phone(
    phone_page: Page, clinic: Clinic, booking_world: dict, live_server
):
    from datetime import datetime

    from django.conf import settings
    from django.test import Client

    from backcare.scheduling import services

    user: User = booking_world["user"]
    day = clinic.local_date() + timedelta(days=3)
    services.book_appointment(
        booked_by=user,
        patient_id=booking_world["patient"].pk,
        therapist_id=booking_world["valid"].pk,
        service_id=booking_world["service"].pk,
        starts_at=datetime.combine(day, time(10)).replace(tzinfo=clinic.zone),
    )
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    phone_page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
    )
    phone_page.goto(live_server.url + "/portal/appointments/")
    expect(phone_page.get_by_role("table", name="Upcoming appointments")).to_be_visible()
    # Hidden labels inside a scrolling table must not widen the page.
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)
