"""A visit in Chromium: a therapist opens today's appointment from the patient's appointments,
sees the patient's precautions and preferences beside the note, records the visit (pain before
and after, a technique on a muscle, a treated region), signs it and can no longer edit it, then
adds an amendment that shows beside the note. What is typed survives a lost connection. axe-core
on every page visited."""

import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from backcare.accounts.models import User
from backcare.outcomes.models import OutcomeMeasurement
from backcare.visits.models import NoteAmendment, NoteStatus, VisitNote
from backcare.visits.tests.factories import VisitWorld
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser

VISIT_URL = re.compile(r"/visits/[0-9a-f-]{36}/$")
SEEDS = (
    "backcare.accounts.migrations.0002_seed_techniques",
    "backcare.plans.migrations.0002_seed_home_care_advice",
)


@pytest.fixture
def world(transactional_db: Any) -> VisitWorld:
    # Browser tests run on a transactional database, which is emptied after each test, rows
    # seeded by migrations (techniques, home care advice) included: seed them again.
    for module in SEEDS:
        importlib.import_module(module).seed(apps, None)
    return VisitWorld()


@pytest.fixture
def sign_in_by_cookie(live_server: Any) -> Callable[[Page, User], None]:
    """Signs in without the login pages (test_login.py covers those)."""

    def sign_in(page: Page, user: User) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in


def _wait_for_autosave(page: Page) -> None:
    expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=5000)


def test_a_therapist_documents_signs_and_amends_a_visit(
    page: Page, world: VisitWorld, sign_in_by_cookie: Callable[[Page, User], None]
):
    sign_in_by_cookie(page, world.user)
    page.goto(reverse("patient_appointments", args=[world.patient.pk]))
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r"^Visit note")).click()
    expect(page).to_have_url(VISIT_URL)
    expect(page.get_by_role("heading", name=f"Visit: {world.patient.display_name}")).to_be_visible()
    assert_accessible(page)

    # Precautions and preferences beside the note.
    aside = page.get_by_role("complementary", name="About the patient")
    expect(aside).to_contain_text("Pressure cap: level 3")
    expect(aside).to_contain_text("Deep tissue")
    expect(aside).to_contain_text("Feet (ticklish)")
    expect(aside).to_contain_text("2 · Light")

    # The note: pain before, a treated region, pain after (autosaved as typed).
    note = page.locator("#note-form")
    note.get_by_label("Pain before the session (0-10)").fill("6")
    note.get_by_label("Pain before the session (0-10)").blur()
    _wait_for_autosave(page)
    # On the body map's figure: the area ticks the same box in the list.
    area = note.locator(
        '.body-map__area[data-for*="treated_regions"][data-value="quadratus_lumborum:right"]'
    )
    area.click()
    expect(page.locator(f"#{area.get_attribute('data-for')}")).to_be_checked()
    _wait_for_autosave(page)

    # A technique on a muscle; a pressure above the cap is refused with the rule's words.
    page.get_by_label("Technique:", exact=True).select_option("myofascial_release")
    page.get_by_label("Muscle:", exact=True).select_option("quadratus_lumborum")
    page.get_by_label("Side:", exact=True).select_option("right")
    page.get_by_label("Minutes").fill("10")
    page.get_by_label("Pressure:", exact=True).select_option("4")
    page.get_by_role("button", name="Record the technique").click()
    expect(page.get_by_role("alert")).to_contain_text("above the cap of 3")
    assert_accessible(page)
    page.get_by_label("Pressure:", exact=True).select_option("2")
    page.get_by_role("button", name="Record the technique").click()
    techniques = page.get_by_role("table", name="Techniques applied")
    expect(techniques).to_contain_text("Myofascial release")
    expect(techniques).to_contain_text("Quadratus lumborum")
    expect(note.get_by_label("Pain before the session (0-10)")).to_have_value("6")

    note.get_by_label("Pain after the session (0-10)").fill("3")
    note.get_by_label("Response to treatment").fill("Less guarding")
    page.get_by_role("button", name="Sign the note").click()

    # Signed: read-only, no form; the measurements are in outcomes.
    expect(page.get_by_text("The note is signed.")).to_be_visible()
    expect(page.locator("#note-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Save the draft")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign the note")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Pain before the session (0-10)")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("6/10")
    assert_accessible(page)
    stored = VisitNote.objects.get()
    assert stored.status == NoteStatus.SIGNED
    assert stored.treated_regions == [  # the plan's, pre-filled, and the one ticked
        "erector_spinae:left",
        "erector_spinae:right",
        "quadratus_lumborum:right",
    ]
    assert OutcomeMeasurement.objects.filter(patient=world.patient).count() == 2

    # An amendment, which shows beside the note with who, when and why.
    page.get_by_text("Amend this note").click()
    amend = page.locator("#amend-form")
    amend.get_by_label("Response to treatment").fill("Less guarding on the right")
    amend.get_by_label("Reason for the amendment").fill("Side was left out")
    amend.get_by_role("button", name="Add the amendment").click()
    amendments = page.get_by_role("region", name="Amendments")
    expect(amendments).to_contain_text("Side was left out")
    expect(amendments).to_contain_text("Less guarding on the right")
    expect(amendments).to_contain_text(world.user.full_name)
    assert_accessible(page)
    assert NoteAmendment.objects.get().changes == {"assessment": "Less guarding on the right"}
    assert VisitNote.objects.get().assessment == "Less guarding"


def test_what_is_typed_survives_a_lost_connection(
    page: Page, world: VisitWorld, sign_in_by_cookie: Callable[[Page, User], None]
):
    visit = world.open()
    sign_in_by_cookie(page, world.user)
    page.goto(reverse("visit_detail", args=[visit.pk]))
    page.context.set_offline(True)
    words = page.locator("#note-form").get_by_label("In the patient's words")
    words.fill("Worse after gardening on Sunday")
    words.blur()
    expect(page.locator("#autosave-status")).to_contain_text("Not saved on the server")
    page.context.set_offline(False)
    page.reload()
    expect(words).to_have_value("Worse after gardening on Sunday")
    expect(page.locator("#autosave-status")).to_contain_text("We restored what you typed")
    assert_accessible(page)
    assert VisitNote.objects.get().subjective == ""
