"""Stored hostile text never runs: script tags, event-handler attributes, attribute breakouts
and javascript: URLs are written into the free-text fields staff and patients fill (patient
and therapist names, preferences, plan focus and goals, referral letters, the visit note,
flare-ups, services, the clinic) through the services; then every staff and portal page of
test_pages.py is loaded in Chromium. No script ran, no dialog opened, no hostile element or
attribute reached the DOM (so the Content-Security-Policy never had to stop one), and the text
shows escaped, as typed.
"""

from collections.abc import Callable

import pytest
from django.urls import reverse
from playwright.sync_api import Dialog, Page, expect

from backcare.accounts.models import Clinic as ClinicRow
from backcare.accounts.models import User
from backcare.outcomes.services import record_flare_up
from backcare.patients.services import update_preferences
from backcare.plans.models import PlanGoal, TreatmentPlan
from backcare.scheduling.models import Service
from backcare.triage.services import write_referral_letter
from backcare.visits.services import save_note_draft
from tests.browser.test_pages import PORTAL_PAGES, STAFF_PAGES, Clinic, sign_in_by_cookie

pytestmark = pytest.mark.browser

__all__ = ["sign_in_by_cookie"]  # a fixture, used by name

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
SVG = '"><svg onload="window.__xss=1">'
LINK = "javascript:window.__xss=1"
LONG = " ".join([SCRIPT, IMG, SVG, LINK, "'><iframe srcdoc='<script>parent.__xss=1</script>'>"])

# Counts what must never be in the DOM: elements or attributes the hostile text would create.
INJECTED_JS = """() => [
    ...document.querySelectorAll('script:not([src]):not([type="application/json"])'),
    ...document.querySelectorAll('[onerror], [onload], iframe[srcdoc], img[src="x"]'),
    ...document.querySelectorAll('a[href^="javascript:"], form[action^="javascript:"]'),
].filter((el) => /__xss/.test(el.outerHTML)).map((el) => el.outerHTML.slice(0, 120))"""
RECORD_CSP_JS = """document.addEventListener("securitypolicyviolation", (e) => {
    (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI);
});"""


class HostileClinic(Clinic):
    """test_pages.py's clinic with hostile text in every free-text field it shows."""

    def __init__(self) -> None:
        super().__init__()
        patient_id = self.patient.pk
        self.patient.given_name, self.patient.family_name = IMG[:100], SVG
        self.patient.save()
        self.other_patient.given_name = SCRIPT
        self.other_patient.save()
        User.objects.filter(pk=self.therapist.user_id).update(full_name=SVG)
        ClinicRow.objects.filter(pk=self.clinic.pk).update(name=IMG[:80])
        Service.objects.filter(pk=self.service.pk).update(name=SCRIPT, description=LONG)
        update_preferences(actor=self.admin, patient_id=patient_id, avoid_areas_note=LONG[:200])
        TreatmentPlan.objects.filter(patient=self.patient).update(focus=LONG[:300])
        PlanGoal.objects.filter(plan__patient=self.patient).update(activity=LONG[:150])
        write_referral_letter(
            actor=self.admin, patient_id=patient_id, recipient_name=SVG, note=LONG
        )
        record_flare_up(
            actor=self.admin, patient_id=patient_id, started_on=self.clinic.local_date(), note=LONG
        )
        save_note_draft(
            actor=self.admin,
            note_id=self.visit.note.pk,
            subjective=LONG,
            changes_since_last=LONG,
            posture_note=SVG,
            assessment=LONG,
            next_focus=LONG,
            home_care=LONG,
            plan_changes=LONG,
        )


@pytest.fixture
def world() -> HostileClinic:
    return HostileClinic()


def _visit(page: Page, url: str, dialogs: list[str]) -> None:
    page.goto(url)
    expect(page.locator("h1")).to_be_visible()
    assert page.evaluate("window.__xss") is None, f"a stored script ran on {url}"
    assert page.evaluate(INJECTED_JS) == [], f"hostile markup reached the DOM of {url}"
    assert page.evaluate("window.__csp || []") == [], f"only the CSP stopped something on {url}"
    assert dialogs == [], f"a dialog opened on {url}"


def _watch(page: Page) -> list[str]:
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.add_init_script(RECORD_CSP_JS)
    return dialogs


def test_stored_hostile_text_never_runs_on_staff_pages(
    page: Page, world: HostileClinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    dialogs = _watch(page)
    for name, args in STAFF_PAGES:
        _visit(page, reverse(name, args=args(world)), dialogs)
    page.goto(reverse("patient_detail", args=[world.patient.pk]))
    expect(page.get_by_text(SVG).first).to_be_visible()


def test_stored_hostile_text_never_runs_on_portal_pages(
    page: Page, world: HostileClinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.patient_user)
    dialogs = _watch(page)
    for name in PORTAL_PAGES:
        _visit(page, reverse(name), dialogs)
    page.goto(reverse("portal_details"))
    expect(page.get_by_text(SVG).first).to_be_visible()


def test_the_visit_note_shows_hostile_text_as_typed(
    page: Page, world: HostileClinic, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.admin)
    dialogs = _watch(page)
    _visit(page, reverse("visit_detail", args=[world.visit.pk]), dialogs)
    expect(page.get_by_label("In the patient's words")).to_have_value(LONG)
