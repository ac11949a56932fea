"""Every page built so far, opened in Chromium by the role that uses it, passes axe-core; the
patient search works through htmx under our Content-Security-Policy; a refused form shows its
error summary."""

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from backcare.accounts.models import Licence, Role, Technique, Therapist, User
from backcare.outcomes.services import record_measurement
from backcare.patients.models import Patient
from backcare.plans.services import GoalInput
from backcare.plans.tests.factories import make_plan, plan_technique
from backcare.reports.models import ClinicExport
from backcare.scheduling.models import Appointment, Service, TimeOff, WorkingHours
from backcare.triage.models import ReferralLetter, TriageAssessment
from backcare.triage.services import write_referral_letter
from backcare.triage.tests.factories import make_screening
from backcare.visits.services import open_visit
from tests.browser.conftest import assert_accessible
from tests.factories import (
    make_clinic,
    make_consent_text,
    make_licence,
    make_member,
    make_patient,
    make_therapist,
    make_user,
    make_webhook_endpoint,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def sign_in_by_cookie(live_server: Any) -> Callable[[Page, User], None]:
    """Signs in without the login pages (test_login.py covers those): a session made by the
    test client, handed to the browser as its cookie."""

    def sign_in(page: Page, user: User) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in


class Clinic:
    def __init__(self) -> None:
        self.clinic = make_clinic("Riverside")
        self.admin = make_member(self.clinic, Role.CLINIC_ADMIN)
        self.therapist: Therapist = make_therapist(self.clinic, expires_in_days=None)
        self.licence: Licence = make_licence(
            self.therapist, expires_on=self.clinic.local_date() + timedelta(days=30), verified=False
        )
        self.patient_user = make_user(full_name="Harriet Home")
        self.patient: Patient = make_patient(
            self.clinic, user=self.patient_user, given_name="Harriet"
        )
        self.other_patient = make_patient(self.clinic, given_name="Zelda", family_name="Zephyr")
        make_consent_text(self.clinic)
        # On hold (history of cancer) with a referral letter: every safety page has content.
        self.screening: TriageAssessment = make_screening(
            self.admin, self.patient, yes=("history_of_cancer",)
        )
        self.letter: ReferralLetter = write_referral_letter(
            actor=self.admin, patient_id=self.patient.pk, recipient_name="Dr Rhea Review"
        )
        self._schedule()
        # A plan with a technique acknowledged against the screening: the plan page in full.
        # (Live-server tests flush the tables between tests, seeded techniques included.)
        Technique.objects.get_or_create(code="deep_tissue", defaults={"name": "Deep tissue"})
        plan = make_plan(self.admin, self.patient, goals=[GoalInput("Walk the dog", 8, 4)])
        plan_technique(self.admin, plan, technique_code="deep_tissue", acknowledged_reason="Agreed")
        # A webhook endpoint that refuses (a closed port): the delivery log has rows. Tests send
        # to 127.0.0.1 only, an address a deployment refuses to register.
        with override_settings(BACKCARE_WEBHOOK_PRIVATE_ADDRESSES=True):
            self.webhook = make_webhook_endpoint(self.clinic, url="http://127.0.0.1:9/closed")
        # Two pain readings: the progress pages draw a chart.
        for value, days in ((7, 21), (4, 1)):
            record_measurement(
                actor=self.admin,
                patient_id=self.patient.pk,
                instrument="pain_nrs",
                answers={"now": value},
                measured_at=timezone.now() - timedelta(days=days),
                method="paper",
            )

    def _schedule(self) -> None:
        """A service, weekly and one-off hours, time off, and an appointment left outside
        working time: every section of the hours page has rows."""
        self.service = Service.objects.create(
            clinic=self.clinic, name="Back massage 60", duration_minutes=60, buffer_minutes=15
        )
        today = self.clinic.local_date()
        monday = today + timedelta(days=7 - today.weekday())
        hours = {"clinic": self.clinic, "therapist": self.therapist}
        WorkingHours.objects.create(**hours, weekday=0, starts=time(9), ends=time(17))
        WorkingHours.objects.create(
            **hours, weekday=1, on_date=monday + timedelta(days=1), starts=time(9), ends=time(12)
        )
        local = datetime.combine(monday + timedelta(days=7), time(10), tzinfo=self.clinic.zone)
        TimeOff.objects.create(**hours, starts_at=local, ends_at=local + timedelta(hours=8))
        Appointment.objects.create(
            **hours,
            patient=self.other_patient,
            service=self.service,
            starts_at=local,
            ends_at=local + timedelta(hours=1),
            blocked_until=local + timedelta(hours=1, minutes=15),
            booked_by=self.admin,
        )
        # Today's appointment with its visit opened, and yesterday's not yet opened.
        now = timezone.now()
        self.today, self.yesterday = (
            Appointment.objects.create(
                **hours,
                patient=patient,
                service=self.service,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                blocked_until=start + timedelta(hours=1, minutes=15),
                booked_by=self.admin,
            )
            for patient, start in (
                (self.other_patient, now - timedelta(minutes=30)),
                (self.patient, now - timedelta(days=1)),
            )
        )
        self.visit = open_visit(actor=self.admin, appointment_id=self.today.pk)


@pytest.fixture
def world() -> Clinic:
    return Clinic()


STAFF_PAGES = [
    ("dashboard", lambda w: []),
    ("patient_booking", lambda w: [w.patient.pk]),
    ("staff_calendar", lambda w: []),
    ("patient_appointments", lambda w: [w.patient.pk]),
    ("patient_waitlist", lambda w: [w.patient.pk]),
    ("plan_detail", lambda w: [w.patient.pk]),
    ("patient_progress", lambda w: [w.patient.pk]),
    ("patient_questionnaires", lambda w: [w.patient.pk]),
    ("patient_questionnaire", lambda w: [w.patient.pk, "psfs"]),
    ("flare_up_add", lambda w: [w.patient.pk]),
    ("plan_create", lambda w: [w.patient.pk]),
    ("clinic_waitlist", lambda w: []),
    ("clinic_export", lambda w: []),
    ("patient_list", lambda w: []),
    ("patient_create", lambda w: []),
    ("patient_detail", lambda w: [w.patient.pk]),
    ("patient_edit", lambda w: [w.patient.pk]),
    ("patient_preferences", lambda w: [w.patient.pk]),
    ("consent_add", lambda w: [w.patient.pk]),
    ("therapist_list", lambda w: []),
    ("therapist_detail", lambda w: [w.therapist.pk]),
    ("therapist_edit", lambda w: [w.therapist.pk]),
    ("licence_add", lambda w: [w.therapist.pk]),
    ("licence_edit", lambda w: [w.licence.pk]),
    ("licence_list", lambda w: []),
    ("team_list", lambda w: []),
    ("member_add", lambda w: []),
    ("clinic_settings", lambda w: []),
    ("service_list", lambda w: []),
    ("service_add", lambda w: []),
    ("service_edit", lambda w: [w.service.pk]),
    ("scheduling_settings", lambda w: []),
    ("therapist_hours", lambda w: [w.therapist.pk]),
    ("audit_log", lambda w: []),
    ("clinic_analytics", lambda w: []),
    ("fhir_clinic_export", lambda w: []),
    ("clinical_settings", lambda w: []),
    ("api_tokens", lambda w: []),
    ("webhook_endpoints", lambda w: []),
    ("webhook_deliveries", lambda w: [w.webhook.pk]),
    ("triage_queue", lambda w: []),
    ("patient_safety", lambda w: [w.patient.pk]),
    ("assessment_detail", lambda w: [w.screening.pk]),
    ("referral_letter_create", lambda w: [w.patient.pk]),
    ("referral_letter_detail", lambda w: [w.letter.pk]),
    ("clearance_create", lambda w: [w.patient.pk]),
    ("hold_override", lambda w: [w.patient.pk]),
    ("rescreen", lambda w: [w.patient.pk]),
    ("visit_open", lambda w: [w.yesterday.pk]),
    ("visit_detail", lambda w: [w.visit.pk]),
]
PORTAL_PAGES = [
    "dashboard",
    "portal_details",
    "portal_contact_edit",
    "portal_preferences",
    "portal_consents",
    "portal_rescreen",
    "portal_booking",
    "portal_appointments",
    "portal_waitlist",
    "portal_progress",
    "portal_questionnaires",
    "portal_my_data",
    "calendar_feeds",
]


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_staff_pages_pass_axe(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None], name: str, args: Any
):
    sign_in_by_cookie(page, world.admin)
    page.goto(reverse(name, args=args(world)))
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_portal_pages_pass_axe_on_a_phone(
    phone_page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None], name: str
):
    sign_in_by_cookie(phone_page, world.patient_user)
    phone_page.goto(reverse(name))
    expect(phone_page.locator("h1")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)


def test_the_clinic_analytics_fit_a_phone_with_their_tables_scrolling_inside(
    phone_page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(phone_page, world.admin)
    phone_page.goto(reverse("clinic_analytics"))
    expect(phone_page.get_by_role("table", name="All courses")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)


def test_the_group_analytics_fit_a_phone_with_their_table_scrolling_inside(
    phone_page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    make_member(make_clinic("Hillside"), Role.CLINIC_ADMIN, user=world.admin)
    sign_in_by_cookie(phone_page, world.admin)
    phone_page.goto(reverse("group_analytics"))
    caption = "All courses by clinic, and the whole group"
    expect(phone_page.get_by_role("table", name=caption)).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone_page)


def test_the_not_found_page_passes_axe(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)


def test_patient_search_narrows_the_list_as_you_type_without_reloading(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    page.goto(reverse("patient_list"))
    rows = page.locator("#patient-results tbody tr")
    expect(rows).to_have_count(2)
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Find a patient").fill("zel")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Zephyr, Zelda")
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped; no page load
    assert page.url.endswith("?q=zel")


def test_a_refused_form_shows_an_error_summary_and_keeps_what_was_typed(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    page.goto(reverse("patient_create"))
    page.get_by_label("Given name").fill("Nia")
    page.get_by_role("button", name="Save").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the following")
    expect(summary.get_by_role("link", name="Family name: This field is required.")).to_be_visible()
    expect(page.get_by_label("Given name")).to_have_value("Nia")
    expect(page.get_by_label("Family name")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_a_refused_hours_block_shows_its_error_summary_and_keeps_what_was_typed(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    page.goto(reverse("therapist_hours", args=[world.therapist.pk]))
    weekly = page.get_by_role("form", name="Add to the weekly pattern")
    weekly.get_by_label("Day").select_option("Monday")
    weekly.get_by_label("Starts").fill("16:00")
    weekly.get_by_label("Ends").fill("18:00")
    weekly.get_by_role("button", name="Add weekly hours").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("This block overlaps Monday 09:00\N{EN DASH}17:00.")
    weekly = page.get_by_role("form", name="Add to the weekly pattern")
    expect(weekly.get_by_label("Starts")).to_have_value("16:00")
    expect(weekly.get_by_label("Starts")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_a_token_made_on_its_page_is_shown_once_listed_and_the_page_passes_axe(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    page.goto(reverse("api_tokens"))
    page.get_by_label("Name").fill("Reports script")
    page.get_by_label("Read and write (book, cancel, record)").check()
    page.get_by_label("Outcome measurements").uncheck()
    page.get_by_role("button", name="Make token").click()
    token = page.get_by_label("Token").input_value()
    assert len(token) >= 43
    expect(page.get_by_role("cell", name="Reports script", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="clinical, patients, scheduling")).to_be_visible()
    assert_accessible(page)
    page.goto(reverse("api_tokens"))
    assert token not in page.content()


def test_the_api_docs_render_from_our_own_files_under_the_csp(page: Page, live_server: Any):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if live_server.url not in r.url else None)
    page.goto(live_server.url + reverse("api-v1:openapi-view"))
    expect(page.get_by_role("heading", name="BackCare API")).to_be_visible()
    expect(page.get_by_text("/api/v1/patients/{patient_id}/measurements").first).to_be_visible()
    assert refused == []
    assert outside == []


def test_the_export_page_polls_its_progress_and_offers_the_download_when_done(
    page: Page, world: Clinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    export = ClinicExport.objects.create(
        clinic=world.clinic,
        requested_by=world.admin,
        status="running",
        rows_total=40,
        rows_done=10,
    )
    sign_in_by_cookie(page, world.admin)
    page.goto(reverse("clinic_export"))
    progress = page.locator("#export-progress")
    expect(progress).to_have_attribute("aria-live", "polite")
    expect(progress).to_contain_text("10 of 40 rows written (25%)")
    assert_accessible(page)
    page.evaluate("window.__sameDocument = true")
    ClinicExport.objects.filter(pk=export.pk).update(status="done", rows_done=40)
    expect(progress).to_contain_text("40 rows written.", timeout=6000)
    expect(progress.get_by_role("link", name="Download the export (zip)")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped; no page load
