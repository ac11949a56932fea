"""The waitlist in Chromium: a patient joins it from their appointments, a cancelled time is
offered to them by email, and the link books it; axe-core on every page visited."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from backcare.accounts.models import Clinic, Role, User
from backcare.scheduling import services
from backcare.scheduling.models import Service, WaitlistEntry, WorkingHours
from backcare.triage.tests.factories import make_screening
from tests.browser.conftest import DASHBOARD_URL, assert_accessible, submit_password
from tests.factories import make_member, make_patient, make_therapist, make_user

pytestmark = pytest.mark.browser


def test_a_patient_joins_the_waitlist_and_books_a_freed_time_from_the_email(
    page: Page, clinic: Clinic
):
    desk = make_member(clinic, Role.FRONT_DESK)
    user: User = make_user(full_name="Wendy Waiting")
    patient = make_patient(clinic, user=user, email=user.email)
    make_screening(desk, patient)
    service = Service.objects.create(
        clinic=clinic, name="Back massage (60 min)", duration_minutes=60
    )
    therapist = make_therapist(clinic)
    for weekday in range(7):
        WorkingHours.objects.create(
            clinic=clinic, therapist=therapist, weekday=weekday, starts=time(9), ends=time(10)
        )
    in_two_days = clinic.local_date() + timedelta(days=2)
    other = make_patient(clinic)
    make_screening(desk, other)
    starts = datetime.combine(in_two_days, time(9)).replace(tzinfo=clinic.zone)
    taken = services.book_appointment(
        booked_by=desk,
        patient_id=other.pk,
        therapist_id=therapist.pk,
        service_id=service.pk,
        starts_at=starts,
    )

    page.goto("/accounts/login/")
    submit_password(page, user.email)
    expect(page).to_have_url(DASHBOARD_URL)
    page.goto("/portal/appointments/")
    page.get_by_role("link", name="No suitable time? Join the waitlist").click()
    expect(page.get_by_role("heading", name="My waitlist", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Therapist").select_option(label=therapist.user.full_name)
    page.get_by_label("From").fill(in_two_days.isoformat())
    page.get_by_label("To").fill(in_two_days.isoformat())
    page.get_by_label("Service").press("Tab")
    page.get_by_role("button", name="Join the waitlist").press("Enter")
    expect(page.get_by_text("On the waitlist")).to_be_visible()
    assert WaitlistEntry.objects.filter(patient=patient).count() == 1

    mail.outbox.clear()
    services.cancel_appointment(cancelled_by=desk, appointment_id=taken.pk)  # commits: offers
    [offer] = [m for m in mail.outbox if m.subject.startswith("A time has become free")]
    assert offer.to == [patient.email]
    link = next(line for line in offer.body.splitlines() if "/waitlist/offers/" in line)
    page.goto("/" + link.split("/", 3)[3])
    expect(page.get_by_role("heading", name="A time has become free")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Book this time").click()
    expect(page).to_have_url(re.compile(r"/portal/appointments/$"))
    expect(page.get_by_text("Booked: the time is yours.")).to_be_visible()
    upcoming = page.get_by_role("table", name="Upcoming appointments")
    expect(upcoming).to_contain_text(therapist.user.full_name)
    expect(upcoming).to_contain_text("09:00")
