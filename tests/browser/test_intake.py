"""The patient's online intake in Chromium: signed in through the login page, every step
answered by mouse and keyboard as a patient would, axe-core on each page; an emergency answer
ends on the emergency page with no way to book, a clean intake ends on "you can book"; a
refused step keeps what was chosen; the first step fits a phone."""

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from backcare.accounts.models import Clinic, User
from backcare.intake.forms import STEPS
from backcare.intake.questions import BY_CODE, NO, YES
from backcare.intake.tests.answers import clean_intake
from backcare.patients.models import ConsentKind
from tests.browser.conftest import (
    DASHBOARD_URL,
    PHONE_VIEWPORT,
    assert_accessible,
    submit_password,
)
from tests.factories import make_consent_text, make_patient, make_user

pytestmark = pytest.mark.browser

RESULT_URL = re.compile(r"/intake/[0-9a-f-]{36}/result/$")
TRI_LABELS = {YES: "Yes", NO: "No"}
SADDLE_NUMBNESS = re.compile(r"^Is there numbness or tingling around your genitals")


def step_url(step: str) -> re.Pattern[str]:
    return re.compile(rf"/intake/[0-9a-f-]{{36}}/{step}/$")


@pytest.fixture
def patient_user(clinic: Clinic) -> User:
    user = make_user(full_name="Pat Ient")
    make_patient(clinic, user=user)
    make_consent_text(clinic, ConsentKind.TREATMENT)
    return user


def answers(clinic: Clinic, **changes: Any) -> dict[str, dict[str, Any]]:
    """What the patient gives at each step: `clean_intake()` (no flags), with a date a month
    before the clinic's today (the form refuses a date in the future)."""
    steps = clean_intake(**changes)
    steps["back"]["pain_started_on"] = (clinic.local_date() - timedelta(days=30)).isoformat()
    return steps


def sign_in_and_start_intake(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    submit_password(page, user.email)
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_role("link", name="Complete your health intake").click()
    expect(page).to_have_url(step_url(STEPS[0].code))


def fill_step(page: Page, values: dict[str, Any]) -> None:
    """Answers one step. Yes/no questions are found as the patient meets them, by the group
    their question names and the answer's label; other fields by name (and value)."""
    for name, value in values.items():
        question = BY_CODE.get(name)
        if question is not None and question.kind in {"tri", "yesno"}:
            group = page.get_by_role("group", name=question.text, exact=True)
            group.get_by_label(TRI_LABELS[value], exact=True).check()
            continue
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("el => el.type")
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox" and isinstance(value, list):
            for item in value:
                page.locator(f'input[name="{name}"][value="{item}"]').check()
        elif kind == "checkbox":
            field.check()
        elif kind == "select-one":
            field.select_option(value)
        else:
            page.fill(f'[name="{name}"]', value)


def complete_intake(page: Page, steps: dict[str, dict[str, Any]]) -> None:
    """From the first step to the result page, axe-core on every page on the way."""
    for index, step in enumerate(STEPS):
        expect(page).to_have_url(step_url(step.code))
        expect(page.get_by_role("heading", level=2).first).to_have_text(
            f"Step {index + 1} of {len(STEPS)}: {step.title}"
        )
        assert_accessible(page)
        fill_step(page, steps[step.code])
        if step.code == "consent":
            page.get_by_label(re.compile(r"^I agree to ")).check()
            page.get_by_role("button", name="Send my intake").click()
        else:
            page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(RESULT_URL)


def test_a_patient_reporting_saddle_numbness_sees_the_emergency_page_and_cannot_book(
    page: Page, clinic: Clinic, patient_user: User
):
    sign_in_and_start_intake(page, patient_user)
    complete_intake(page, answers(clinic, saddle_numbness=YES))

    expect(page).to_have_url(RESULT_URL)
    expect(page.get_by_role("heading", name="Seek emergency care now", level=1)).to_be_visible()
    book = re.compile("book", re.IGNORECASE)
    expect(page.get_by_role("link", name=book)).to_have_count(0)
    expect(page.get_by_role("button", name=book)).to_have_count(0)
    expect(page.locator("a, button, input[type=submit]").filter(has_text=book)).to_have_count(0)
    assert_accessible(page)

    page.goto("/")
    booking = page.get_by_role("region", name="Your next steps")
    expect(booking).to_contain_text("Your answers need emergency care")
    expect(booking).to_contain_text("Booking waits until a doctor has cleared you")
    expect(page.locator("main")).not_to_contain_text(re.compile("you can book", re.IGNORECASE))


def test_a_patient_with_no_flags_completes_intake_and_can_go_on_to_book(
    page: Page, clinic: Clinic, patient_user: User
):
    sign_in_and_start_intake(page, patient_user)
    complete_intake(page, answers(clinic))

    expect(page.get_by_role("heading", name="You can book your massage")).to_be_visible()
    assert_accessible(page)
    go_on = page.get_by_role("link", name="Go on to booking")
    with page.expect_response(lambda r: r.request.is_navigation_request()) as navigation:
        go_on.click()
    assert navigation.value.status == 200
    expect(page).to_have_url(re.compile(r"/portal/book/$"))
    expect(page.get_by_role("heading", name="Book a session", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Show free times")).to_be_visible()
    assert_accessible(page)
    page.goto("/")
    expect(page.locator("main")).to_contain_text("you can book")


def test_the_intake_keeps_typed_answers_after_a_validation_error(
    page: Page, clinic: Clinic, patient_user: User
):
    sign_in_and_start_intake(page, patient_user)
    steps = answers(clinic)
    fill_step(page, steps["back"])
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(step_url("safety"))

    safety = dict(steps["safety"])
    left_out = "saddle_numbness"
    del safety[left_out]
    safety["thoracic_spine_pain"] = "not_sure"  # a choice other than "No" must survive too
    for name, value in safety.items():
        page.locator(f'input[name="{name}"][value="{value}"]').check()
    page.get_by_role("button", name="Save and continue").click()

    expect(page).to_have_url(step_url("safety"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check these answers")
    expect(
        summary.get_by_role("link", name=re.compile(r"^Is there numbness or tingling"))
    ).to_contain_text("Choose yes, no or “I'm not sure”.")
    for name, value in safety.items():
        expect(page.locator(f'input[name="{name}"][value="{value}"]')).to_be_checked()
    expect(page.locator(f'input[name="{left_out}"]:checked')).to_have_count(0)
    assert_accessible(page)

    saddle = page.get_by_role("group", name=SADDLE_NUMBNESS)
    saddle.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(step_url("history"))
    expect(page.get_by_role("heading", level=2).first).to_have_text(
        "Step 3 of 7: Your health history"
    )


def test_the_first_intake_step_passes_axe_on_a_phone(phone_page: Page, patient_user: User):
    sign_in_and_start_intake(phone_page, patient_user)
    expect(phone_page.get_by_role("heading", level=2).first).to_have_text(
        "Step 1 of 7: Your back pain"
    )
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert_accessible(phone_page)


def test_enter_in_a_text_field_moves_the_intake_forward(
    page: Page, clinic: Clinic, patient_user: User
):
    sign_in_and_start_intake(page, patient_user)
    steps = answers(clinic)
    for step in STEPS[:4]:
        fill_step(page, steps[step.code])
        page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(step_url("questionnaires"))
    fill_step(page, steps["questionnaires"])
    page.locator('[name="psfs_activity_1"]').press("Enter")
    expect(page).to_have_url(step_url("goals"))


def test_answers_typed_when_the_session_ends_are_back_after_signing_in_again(
    page: Page, clinic: Clinic, patient_user: User
):
    sign_in_and_start_intake(page, patient_user)
    step = page.url
    page.context.clear_cookies(name="sessionid")  # the session ends (timeout, signed out)
    page.fill('[name="visit_reason"]', "Typed just before my session ended")
    page.locator('input[name="cause"][value="sciatica"]').check()
    expect(page.locator("#autosave-status")).to_contain_text("Not saved on the server")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    submit_password(page, patient_user.email)
    expect(page).to_have_url(step)
    expect(page.locator('[name="visit_reason"]')).to_have_value(
        "Typed just before my session ended"
    )
    expect(page.locator('input[name="cause"][value="sciatica"]')).to_be_checked()
    expect(page.locator("#autosave-status")).to_contain_text("We restored the answers")
    assert_accessible(page)
