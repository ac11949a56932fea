"""Typed helpers for the triage tests: screenings with chosen answers, uploads, clearances."""

from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from backcare.accounts.models import User
from backcare.clinical.red_flags import BOOLEAN_ITEMS
from backcare.patients.models import Patient
from backcare.triage import services
from backcare.triage.models import Clearance, TriageAssessment

ALL_NO: dict[str, Any] = {**dict.fromkeys(BOOLEAN_ITEMS, False), "ng65_criteria": []}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00;"


def make_screening(
    actor: User,
    patient: Patient,
    *,
    yes: tuple[str, ...] = (),
    unanswered: tuple[str, ...] = (),
    conditions: dict[str, Any] | None = None,
) -> TriageAssessment:
    """A screening with every red-flag item "no" except those in `yes` (and `unanswered` left
    out); the NG65 onset questions are answered so that only the chosen rules fire."""
    answers = {
        **ALL_NO,
        "lbp_onset_age": 40,
        "lbp_duration_months": 2,
        **dict.fromkeys(yes, True),
    }
    for item in unanswered:
        answers.pop(item)
    return services.record_triage(
        actor=actor,
        patient_id=patient.pk,
        answers=answers,
        contraindication_answers=conditions or {},
    )


def make_pdf(name: str = "clearance.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def make_clearance(actor: User, patient: Patient, **fields: Any) -> Clearance:
    values: dict[str, Any] = {
        "clinician_name": "Dr Ada Lovelace",
        "clinician_role": "GP",
        "cleared_on": patient.clinic.local_date(),
        "document": make_pdf(),
    }
    values.update(fields)
    return services.record_clearance(actor=actor, patient_id=patient.pk, **values)


def today_of(patient: Patient) -> date:
    return patient.clinic.local_date()
