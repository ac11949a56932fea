"""Check-ins in Chromium: the patient answers the check-in after a visit from the emailed link
(no login), then sees the new point in their progress and its PDF report (read back with
poppler: page 1 rendered to an image, the text with pdftotext); and answers a follow-up after
the course, reporting a flare-up that their progress then shows. axe on each page."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from backcare.accounts.models import Clinic, Role
from backcare.clinical.recurrence import follow_up_dates
from backcare.outcomes.services import record_measurement
from backcare.plans.services import end_plan, start_plan
from backcare.scheduling import services
from backcare.scheduling.models import Service, WorkingHours
from backcare.triage.tests.factories import make_screening
from tests.browser.conftest import DASHBOARD_URL, assert_accessible, submit_password
from tests.factories import make_member, make_patient, make_therapist, make_user
from tests.pdf import pdf_page_png, pdf_text

pytestmark = pytest.mark.browser


def test_a_patient_answers_the_check_in_from_the_email_and_sees_the_new_point(
    page: Page, clinic: Clinic
):
    desk = make_member(clinic, Role.FRONT_DESK)
    user = make_user(full_name="Chris Checkin")
    patient = make_patient(clinic, user=user, email=user.email)
    make_screening(desk, patient)
    record_measurement(
        actor=desk,
        patient_id=patient.pk,
        instrument="pain_nrs",
        answers={"now": 7},
        measured_at=timezone.now() - timedelta(days=14),
        method="paper",
    )
    service = Service.objects.create(clinic=clinic, name="Back massage", duration_minutes=60)
    therapist = make_therapist(clinic)
    for weekday in range(7):
        WorkingHours.objects.create(
            clinic=clinic, therapist=therapist, weekday=weekday, starts=time(8), ends=time(20)
        )
    visit_day = clinic.local_date() - timedelta(days=2)
    starts = datetime.combine(visit_day, time(10)).replace(tzinfo=clinic.zone)
    with time_machine.travel(starts - timedelta(days=1)):  # booked the day before
        services.book_appointment(
            booked_by=desk,
            patient_id=patient.pk,
            therapist_id=therapist.pk,
            service_id=service.pk,
            starts_at=starts,
        )
    mail.outbox.clear()
    assert services.enqueue_check_ins() == 1
    services.deliver_due_notifications()
    [message] = [m for m in mail.outbox if "/check-in/" in m.body]
    assert message.to == [patient.email]
    link = next(line for line in message.body.splitlines() if "/check-in/" in line)
    path = "/" + link.split("//", 1)[1].split("/", 1)[1]

    page.goto(path)  # no login
    expect(page.get_by_role("heading", name="How are you since your massage?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("radio", name="2", exact=True).check()
    page.get_by_role("radio", name="Much improved", exact=True).check()
    page.get_by_role("radio", name="Mild", exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Your answers are saved")).to_be_visible()
    assert_accessible(page)

    page.goto("/accounts/login/")
    submit_password(page, user.email)
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My progress").click()
    readings = page.get_by_role("table", name="Readings of Pain numeric rating scale (0-10) (0-10)")
    expect(readings.locator("tbody tr")).to_have_count(2)
    expect(readings.locator("tbody tr").last).to_contain_text("2")
    expect(
        page.get_by_text("Your back pain is 5 points lower than when you started")
    ).to_be_visible()
    assert_accessible(page)

    pdf_url = page.get_by_role("link", name="Progress report (PDF)").get_attribute("href")
    assert pdf_url
    pdf = page.request.get(pdf_url)
    assert pdf.ok
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf_page_png(pdf.body()).startswith(b"\x89PNG")
    text = pdf_text(pdf.body())
    assert "Progress report" in text
    assert "Your back pain is 5 points lower than when you started" in text
    assert "soreness, mild" in text  # the check-in's answer, under side effects


def test_a_patient_reports_a_flare_up_at_a_follow_up_and_sees_it_in_their_progress(
    page: Page, clinic: Clinic
):
    therapist = make_member(clinic, Role.THERAPIST)
    user = make_user(full_name="Fiona Followup")
    patient = make_patient(clinic, user=user, email=user.email)
    for value, days_ago in ((7, 70), (3, 41)):
        record_measurement(
            actor=therapist,
            patient_id=patient.pk,
            instrument="pain_nrs",
            answers={"now": value},
            measured_at=timezone.now() - timedelta(days=days_ago),
            method="paper",
        )
    plan = start_plan(actor=therapist, patient_id=patient.pk)
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        end_plan(actor=therapist, plan_id=plan.pk)
    ended = (timezone.now() - timedelta(days=40)).astimezone(clinic.zone).date()
    due = datetime.combine(follow_up_dates(ended)[0], time(11), tzinfo=clinic.zone)
    mail.outbox.clear()
    assert services.enqueue_follow_ups(now=due) == 1
    services.deliver_due_notifications(now=due)
    [message] = mail.outbox
    link = next(line for line in message.body.splitlines() if "/check-in/" in line)
    path = "/check-in/" + link.split("/check-in/", 1)[1].strip()

    page.goto(path)  # no login
    expect(page.get_by_role("heading", name="How is your back?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("radio", name="6", exact=True).check()
    page.get_by_role("radio", name="Minimally improved", exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Choose yes or no.", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("group", name="flared up").get_by_role("radio", name="Yes").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Your answers are saved")).to_be_visible()

    page.goto("/accounts/login/")
    submit_password(page, user.email)
    page.goto("/portal/progress/")
    expect(page.get_by_role("heading", name="Since the course ended")).to_be_visible()
    expect(page.get_by_text("until a flare-up on")).to_be_visible()
    flare_ups = page.get_by_role("table", name="Flare-ups")
    expect(flare_ups.locator("tbody tr")).to_have_count(1)
    expect(flare_ups).to_contain_text("Patient, at a follow-up check-in")
    assert_accessible(page)
