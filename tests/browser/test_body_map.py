"""The body map on the intake's first step in Chromium: a patient chooses two places by
clicking the figure and one with the keyboard in the list, and exactly those are saved; the
figure follows the list; the page passes axe-core, and on a phone it fits 390 px with every
area a 24 px touch target. Without JavaScript the grouped list alone does the job."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from backcare.accounts.models import Clinic, User
from backcare.intake.models import Intake
from backcare.patients.models import ConsentKind
from tests.browser.conftest import PHONE_VIEWPORT, assert_accessible
from tests.browser.test_intake import answers, fill_step, sign_in_and_start_intake, step_url
from tests.factories import make_consent_text, make_patient, make_user

pytestmark = pytest.mark.browser

MIN_TARGET_PX = 24


@pytest.fixture
def patient_user(clinic: Clinic) -> User:
    user = make_user(full_name="Pat Ient")
    make_patient(clinic, user=user)
    make_consent_text(clinic, ConsentKind.TREATMENT)
    return user


def area(page: Page, code: str) -> Locator:
    return page.locator(f'.body-map__area[data-value="{code}"]')


def checkbox(page: Page, code: str) -> Locator:
    return page.locator(f'input[name="pain_regions"][value="{code}"]')


def test_a_patient_chooses_places_on_the_figure_and_in_the_list_and_exactly_those_are_saved(
    page: Page, clinic: Clinic, patient_user: User
):
    sign_in_and_start_intake(page, patient_user)
    expect(page.locator(".body-map__figure")).to_be_visible()

    area(page, "piriformis:left").click()  # back view
    area(page, "iliopsoas:right").click()  # front view
    expect(checkbox(page, "piriformis:left")).to_be_checked()
    expect(checkbox(page, "iliopsoas:right")).to_be_checked()
    expect(area(page, "piriformis:left")).to_have_class(re.compile(r"\bis-selected\b"))

    # The keyboard goes from the question before straight into the list: the figure is not a
    # tab stop. Upper trapezius, right is the list's second place.
    page.locator('[name="cause_other"]').focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.name, document.activeElement.value]")
    assert focused == ["pain_regions", "trapezius_upper:right"]
    expect(area(page, "trapezius_upper:right")).to_have_class(re.compile(r"\bis-pointed\b"))
    page.keyboard.press("Space")
    expect(checkbox(page, "trapezius_upper:right")).to_be_checked()
    expect(area(page, "trapezius_upper:right")).to_have_class(re.compile(r"\bis-selected\b"))

    # A second click takes a place off again, in the list too.
    area(page, "hamstrings:left").click()
    area(page, "hamstrings:left").click()
    expect(checkbox(page, "hamstrings:left")).not_to_be_checked()
    expect(area(page, "hamstrings:left")).not_to_have_class(re.compile(r"\bis-selected\b"))
    assert_accessible(page)

    back = {k: v for k, v in answers(clinic)["back"].items() if k != "pain_regions"}
    fill_step(page, back)
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(step_url("safety"))

    saved = Intake.objects.get().answers["pain_regions"]
    assert sorted(saved) == ["iliopsoas:right", "piriformis:left", "trapezius_upper:right"]


def test_the_body_map_fits_a_phone_with_touch_targets_of_24_px(
    phone_page: Page, patient_user: User
):
    sign_in_and_start_intake(phone_page, patient_user)
    areas = phone_page.locator(".body-map__area")
    expect(areas).to_have_count(36)
    areas.first.scroll_into_view_if_needed()

    area(phone_page, "multifidus:right").tap()
    expect(checkbox(phone_page, "multifidus:right")).to_be_checked()

    sizes = phone_page.evaluate(
        """() => Array.from(document.querySelectorAll(".body-map__area"), (el) => {
            const box = el.getBoundingClientRect();
            return [el.dataset.value, box.width, box.height];
        })"""
    )
    small = [code for code, width, height in sizes if min(width, height) < MIN_TARGET_PX]
    assert small == []
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert_accessible(phone_page)


def test_without_javascript_the_list_alone_chooses_the_places(
    new_page: Callable[..., Page], clinic: Clinic, patient_user: User
):
    page = new_page(java_script_enabled=False)
    sign_in_and_start_intake(page, patient_user)
    expect(page.locator(".body-map__figure")).to_be_hidden()
    page.get_by_role("group", name="Lower back").get_by_label(
        "Multifidus (deep muscles of the lower spine), left"
    ).check()
    fill_step(page, {k: v for k, v in answers(clinic)["back"].items() if k != "pain_regions"})
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(step_url("safety"))
    assert Intake.objects.get().answers["pain_regions"] == ["multifidus:left"]
