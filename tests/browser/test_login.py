"""Signing in through the real pages in Chromium, for every role, with axe-core on each page."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from backcare.accounts.models import Clinic, Role, User
from tests.browser.conftest import (
    DASHBOARD_URL,
    PHONE_VIEWPORT,
    TWO_FACTOR_URL,
    assert_accessible,
    sign_in_staff,
    submit_authenticator_code,
    submit_password,
    tab_through,
)
from tests.factories import PASSWORD, make_member, make_patient, make_user

pytestmark = pytest.mark.browser

TOTP_SETUP_URL = re.compile(r"/accounts/2fa/totp/activate/$")
# allauth's "Confirm Access" page, which goes on to the set-up page once the password is given.
CONFIRM_ACCESS_URL = re.compile(
    r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F$"
)


def staff(role: Role) -> Callable[[Clinic], User]:
    return lambda clinic: make_member(clinic, role)


def patient_with_record(clinic: Clinic) -> User:
    user = make_user(full_name="Pat Ient")
    make_patient(clinic, user=user)
    return user


def enter_authenticator_code(page: Page) -> None:
    expect(page).to_have_url(TWO_FACTOR_URL)
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    assert_accessible(page)
    submit_authenticator_code(page)


def straight_to_the_dashboard(page: Page) -> None:
    expect(page).to_have_url(DASHBOARD_URL)


@pytest.mark.parametrize(
    ("make_person", "second_step", "dashboard_heading"),
    [
        pytest.param(
            patient_with_record, straight_to_the_dashboard, "Your next steps", id="patient"
        ),
        pytest.param(
            staff(Role.THERAPIST), enter_authenticator_code, "Today at {clinic}", id="therapist"
        ),
        pytest.param(
            staff(Role.FRONT_DESK), enter_authenticator_code, "Today at {clinic}", id="front-desk"
        ),
        pytest.param(
            staff(Role.CLINIC_ADMIN),
            enter_authenticator_code,
            "Today at {clinic}",
            id="clinic-admin",
        ),
        pytest.param(
            staff(Role.REFERRING_CLINICIAN),
            enter_authenticator_code,
            "Patients you referred",
            id="referring-clinician",
        ),
    ],
)
def test_sign_in_through_the_login_pages_lands_on_the_dashboard_of_each_role(
    page: Page,
    clinic: Clinic,
    make_person: Callable[[Clinic], User],
    second_step: Callable[[Page], None],
    dashboard_heading: str,
):
    user = make_person(clinic)
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in to BackCare")).to_be_visible()
    assert_accessible(page)

    submit_password(page, user.email)
    second_step(page)

    expect(page).to_have_url(DASHBOARD_URL)
    heading = dashboard_heading.format(clinic=clinic.name)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert_accessible(page)


def test_staff_sign_in_leads_to_authenticator_setup_when_totp_is_not_enrolled(
    page: Page, clinic: Clinic
):
    therapist = make_member(clinic, Role.THERAPIST, with_totp=False)
    page.goto("/accounts/login/")

    submit_password(page, therapist.email)
    # allauth asks for the password once more before any MFA change, even straight after login.
    expect(page).to_have_url(CONFIRM_ACCESS_URL)
    expect(page.get_by_role("heading", name="Confirm Access")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(TOTP_SETUP_URL)
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_accessible(page)


def test_navigation_is_visible_and_reachable_by_keyboard_when_viewed_on_a_phone(
    phone_page: Page, clinic: Clinic
):
    desk = make_member(clinic, Role.FRONT_DESK)
    sign_in_staff(phone_page, desk.email)
    expect(phone_page).to_have_url(DASHBOARD_URL)
    nav_links = phone_page.get_by_role("navigation", name="Main").get_by_role("link")
    expected_nav = [
        "Home",
        "Patients",
        "Calendar",
        "Triage queue",
        "Therapists",
        "Licences",
        "Team",
    ]

    expect(nav_links).to_have_text(expected_nav)
    for link in nav_links.all():
        expect(link).to_be_in_viewport()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    phone_page.keyboard.press("Tab")
    skip_link = phone_page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    assert tab_through(phone_page, 1 + len(expected_nav)) == ["BackCare", *expected_nav]
    assert_accessible(phone_page)
