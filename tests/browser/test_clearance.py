"""A referral and its clearance in Chromium: a therapist writes the referral letter to the
patient's referring clinician from the safety page; the clinician signs in with TOTP, finds the
letter under "Referral letters", fetches its PDF and records the clearance with its conditions
and a signed PDF, and the hold lifts. A document of the wrong type is refused beside the file
field and keeps what was typed. axe-core on every page visited."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from backcare.accounts.models import Clinic, Role, User
from backcare.patients.models import Patient
from backcare.triage.models import Clearance, ReferralLetter
from backcare.triage.queries import HoldState, hold_status
from backcare.triage.services import write_referral_letter
from backcare.triage.tests.factories import PDF, make_screening
from tests.browser.conftest import DASHBOARD_URL, assert_accessible, sign_in_staff
from tests.factories import make_member, make_patient, make_therapist, make_user

pytestmark = pytest.mark.browser

CLINICIAN_NAME = "Dr Rhea Review"
SAFETY_URL = re.compile(r"/patients/[0-9a-f-]{36}/safety/$")
LETTER_URL = re.compile(r"/referral-letters/[0-9a-f-]{36}/$")
CLEARANCE_FORM_URL = re.compile(r"/patients/[0-9a-f-]{36}/clearances/new/$")
DOCUMENT_LABEL = "Signed clearance (PDF, JPEG or PNG)"
REGIONS = "Regions not to be massaged"
PRESSURE = "Highest pressure allowed (Walton scale 0 to 5)"
CONDITIONS = "No prone lying for longer than 20 minutes."


@pytest.fixture
def therapist(clinic: Clinic) -> User:
    return make_therapist(clinic).user


@pytest.fixture
def clinician(clinic: Clinic) -> User:
    return make_member(clinic, Role.REFERRING_CLINICIAN, make_user(full_name=CLINICIAN_NAME))


@pytest.fixture
def patient(clinic: Clinic, therapist: User, clinician: User) -> Patient:
    """Referred by the clinician and on hold: a history of cancer needs a referral."""
    patient = make_patient(clinic, given_name="Iris", family_name="Oakley", referred_by=clinician)
    make_screening(therapist, patient, yes=("history_of_cancer",))
    assert hold_status(patient).state == HoldState.ON_HOLD
    return patient


def safety_section(page: Page, heading: str) -> Locator:
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, level=2))


def open_clearance_form_from_the_letters(page: Page, patient: Patient) -> None:
    """From the clinician's dashboard to the clearance form, through "Referral letters"."""
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referral letters").click()
    expect(page.get_by_role("heading", name="Referral letters", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=f"Record clearance for {patient.display_name}").click()
    expect(page).to_have_url(CLEARANCE_FORM_URL)
    expect(
        page.get_by_role("heading", name=f"Record a clearance for {patient.display_name}")
    ).to_be_visible()


def test_a_referring_clinician_reads_the_letter_and_records_the_clearance_and_the_hold_lifts(
    new_page: Callable[..., Page],
    clinic: Clinic,
    therapist: User,
    clinician: User,
    patient: Patient,
):
    # The therapist writes the letter to the referring clinician from the safety page.
    staff_page = new_page()
    sign_in_staff(staff_page, therapist.email)
    staff_page.goto(reverse("patient_safety", args=[patient.pk]))
    safety_heading = f"Safety and clearances: {patient.display_name}"
    expect(staff_page.get_by_role("heading", name=safety_heading, level=1)).to_be_visible()
    expect(staff_page.locator(".hold__state")).to_have_text(
        "On hold: do not book or start a massage"
    )
    assert_accessible(staff_page)
    staff_page.get_by_role("link", name="Write referral letter").click()
    expect(
        staff_page.get_by_role(
            "heading", name=f"Write a referral letter about {patient.display_name}"
        )
    ).to_be_visible()
    assert_accessible(staff_page)
    staff_page.get_by_label(
        re.compile(rf"^Send to the referring clinician, {CLINICIAN_NAME}")
    ).check()
    staff_page.get_by_label("Note to the doctor").fill("She finished chemotherapy in 2019.")
    staff_page.get_by_role("button", name="Write the letter").click()
    expect(staff_page).to_have_url(LETTER_URL)
    expect(staff_page.get_by_role("status")).to_contain_text(
        f"Referral letter to {CLINICIAN_NAME} written."
    )
    assert_accessible(staff_page)
    letter = ReferralLetter.objects.get(patient=patient)
    assert letter.recipient == clinician

    # The clinician signs in, finds the letter, reads it and its PDF.
    page = new_page()
    sign_in_staff(page, clinician.email)
    expect(page).to_have_url(DASHBOARD_URL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referral letters").click()
    expect(page.get_by_role("heading", name="Referral letters", level=1)).to_be_visible()
    row = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=patient.display_name)
    )
    expect(row).to_have_count(1)
    expect(row).to_contain_text(clinic.name)
    assert_accessible(page)

    pdf_link = row.get_by_role("link", name=f"PDF of the letter about {patient.display_name}")
    pdf = page.request.get(pdf_link.get_attribute("href") or "")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    row.get_by_role("link", name=f"Read the letter about {patient.display_name}").click()
    expect(page).to_have_url(LETTER_URL)
    letter_text = page.get_by_role("article", name=f"Letter to {CLINICIAN_NAME}")
    expect(letter_text).to_contain_text(f"Dear {CLINICIAN_NAME},")
    expect(letter_text).to_contain_text("She finished chemotherapy in 2019.")
    assert_accessible(page)

    # ... and records the clearance.
    page.get_by_role("link", name="Record clearance").click()
    expect(page).to_have_url(CLEARANCE_FORM_URL)
    expect(page.get_by_label("Clinician's name")).to_have_value(CLINICIAN_NAME)
    expect(page.get_by_label("Clinician's role")).to_have_value("Referring clinician")
    assert_accessible(page)
    today = clinic.local_date()
    page.get_by_label("Date cleared").fill(today.isoformat())
    page.get_by_label("Valid until").fill((today + timedelta(days=180)).isoformat())
    page.get_by_role("group", name=REGIONS).get_by_label("Lower back (lumbar)").check()
    page.get_by_role("group", name=PRESSURE).get_by_label("2", exact=True).check()
    page.get_by_label("Other conditions or restrictions").fill(CONDITIONS)
    page.get_by_label(DOCUMENT_LABEL).set_input_files(
        {"name": "clearance.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Record the clearance").click()

    expect(page).to_have_url(SAFETY_URL)
    expect(page.get_by_role("status")).to_have_text("Clearance recorded.")
    expect(page.locator(".hold__state")).to_have_text("May be booked")
    assert_accessible(page)

    patient.refresh_from_db()
    hold = hold_status(patient)
    assert hold.may_book is True
    clearance = Clearance.objects.get(patient=patient)
    assert clearance.letter == letter
    assert clearance.recorded_by == clinician
    assert clearance.restricted_regions == ["lumbar"]
    assert clearance.max_pressure_level == 2
    assert clearance.document_type == "pdf"

    # The therapist sees the clearance and its conditions on the safety page.
    staff_page.goto(reverse("patient_safety", args=[patient.pk]))
    expect(staff_page.locator(".hold__state")).to_have_text("May be booked")
    cleared = safety_section(staff_page, "Clearances in force").get_by_role("listitem")
    expect(cleared).to_have_count(1)
    expect(cleared).to_contain_text(f"{CLINICIAN_NAME} (Referring clinician) cleared on")
    expect(cleared).to_contain_text("Lower back (lumbar)")
    expect(cleared).to_contain_text("Level 2 of 5")
    expect(cleared).to_contain_text(CONDITIONS)
    expect(
        cleared.get_by_role("link", name=re.compile(r"^Download the signed clearance"))
    ).to_be_visible()
    assert_accessible(staff_page)


def test_a_wrong_file_type_is_refused_and_the_typed_values_stay(
    page: Page, clinic: Clinic, therapist: User, clinician: User, patient: Patient
):
    write_referral_letter(
        actor=therapist, patient_id=patient.pk, recipient_name="", send_to_referrer=True
    )
    sign_in_staff(page, clinician.email)
    open_clearance_form_from_the_letters(page, patient)

    today = clinic.local_date().isoformat()
    page.get_by_label("Clinician's name").fill("Dr Rhea Review-Okafor")
    page.get_by_label("Clinician's role").fill("Oncologist")
    page.get_by_label("Date cleared").fill(today)
    page.get_by_role("group", name=REGIONS).get_by_label("Lower back (lumbar)").check()
    page.get_by_role("group", name=PRESSURE).get_by_label("2", exact=True).check()
    page.get_by_label("Other conditions or restrictions").fill(CONDITIONS)
    page.get_by_label(DOCUMENT_LABEL).set_input_files(
        {"name": "clearance.txt", "mimeType": "text/plain", "buffer": b"Cleared for massage.\n"}
    )
    page.get_by_role("button", name="Record the clearance").click()

    expect(page).to_have_url(CLEARANCE_FORM_URL)
    refusal = "Upload a PDF, JPEG or PNG document; this one is not a file type we recognise."
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the following")
    expect(summary.get_by_role("link", name=f"{DOCUMENT_LABEL}: {refusal}")).to_be_visible()
    document = page.get_by_label(DOCUMENT_LABEL)
    expect(document).to_have_attribute("aria-invalid", "true")
    expect(document).to_have_accessible_description(refusal)
    field = page.locator(".field--error").filter(has=document)
    expect(field).to_have_count(1)
    expect(field).to_contain_text(refusal)
    expect(page.get_by_label("Clinician's name")).to_have_value("Dr Rhea Review-Okafor")
    expect(page.get_by_label("Clinician's role")).to_have_value("Oncologist")
    expect(page.get_by_label("Date cleared")).to_have_value(today)
    expect(
        page.get_by_role("group", name=REGIONS).get_by_label("Lower back (lumbar)")
    ).to_be_checked()
    expect(page.get_by_role("group", name=PRESSURE).get_by_label("2", exact=True)).to_be_checked()
    expect(page.get_by_label("Other conditions or restrictions")).to_have_value(CONDITIONS)
    assert_accessible(page)

    assert not Clearance.objects.filter(patient=patient).exists()
    patient.refresh_from_db()
    assert hold_status(patient).state == HoldState.ON_HOLD
