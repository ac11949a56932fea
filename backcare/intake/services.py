"""Starting, saving and submitting an intake. Submitting screens the patient (triage), records
the baseline questionnaires (outcomes) and the preferences and consents (patients)."""

import uuid
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from backcare.accounts.queries import Viewer, acting_user
from backcare.core.audit import record_event
from backcare.core.errors import ConflictError, InvalidInputError
from backcare.core.jsonable import without_nul
from backcare.core.models import WebhookEvent
from backcare.core.webhooks import emit
from backcare.intake.models import Intake, IntakeDocument, IntakeMethod, IntakeStatus
from backcare.intake.queries import find_intake
from backcare.intake.questions import QUESTIONS, rule_inputs
from backcare.outcomes.services import record_measurement
from backcare.patients.models import ConsentMethod
from backcare.patients.queries import SEE_ALL_ROLES, find_patient, get_patient
from backcare.patients.services import record_consent, update_preferences
from backcare.triage.models import EntryMethod
from backcare.triage.services import check_document, record_triage

# What a new intake takes over from the last one sent: history and preferences. Symptoms, the
# conditions of the moment, the questionnaires and consent are asked afresh.
CARRIED_ANSWERS = frozenset(
    {q.code for q in QUESTIONS if q.step == "history"}
    | {
        "visit_reason",
        "cause",
        "cause_other",
        "first_back_pain_age",
        "ng65_criteria",
        "medications",
        "other_conditions",
        "goals",
        "pressure",
        "avoid_areas",
        "therapist_gender",
        "language",
        "preference_notes",
    }
)


def start_intake(*, actor: Viewer, patient_id: uuid.UUID) -> Intake:
    """The patient's intake in progress, or a new one: online when the patient starts it, a
    paper intake when clinic staff enter it. Returns the existing draft if there is one; a new
    intake starts from the history and preferences of the last one sent (`CARRIED_ANSWERS`);
    symptoms, conditions, questionnaires and consent are asked again."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="intake.start")
    method = IntakeMethod.PORTAL if patient.user_id == actor.pk else IntakeMethod.PAPER
    draft = Intake.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()
    if draft is not None:
        return draft
    last = (
        Intake.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .order_by("-submitted_at")
        .first()
    )
    carried = {k: v for k, v in (last.answers if last else {}).items() if k in CARRIED_ANSWERS}
    try:
        with transaction.atomic():
            intake = Intake.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                method=method,
                answers=carried,
                started_by=acting_user(actor),
                saved_at=timezone.now(),
            )
            record_event(
                actor=actor,
                action="intake.start",
                clinic_id=patient.clinic_id,
                patient_id=patient.pk,
                obj=intake,
                detail={"method": method},
            )
            return intake
    except IntegrityError:
        draft = Intake.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()
        if draft is None:
            raise
        return draft


def save_answers(*, actor: Viewer, intake_id: uuid.UUID, answers: Mapping[str, Any]) -> Intake:
    """Keep what was typed (valid or not) in the intake in progress, so nothing is lost when a
    step does not validate, the session times out or the browser closes."""
    find_intake(actor, intake_id, action="intake.save")
    with transaction.atomic():
        intake = _locked_draft(intake_id)
        intake.answers = {**intake.answers, **without_nul(dict(answers))}
        intake.saved_at = timezone.now()
        intake.save(update_fields=["answers", "saved_at", "updated_at"])
        record_event(
            actor=actor,
            action="intake.save",
            clinic_id=intake.clinic_id,
            patient_id=intake.patient_id,
            obj=intake,
            detail={"fields": len(answers)},
        )
        return intake


def _check_open(intake: Intake) -> None:
    if intake.status != IntakeStatus.DRAFT:
        raise ConflictError("This intake was already sent; it can no longer be changed.")


def _locked_draft(intake_id: uuid.UUID) -> Intake:
    """The intake, locked until the transaction ends (a double click or an autosave in flight
    waits, then finds it sent); raises `ConflictError` when it was already sent."""
    intake = Intake.objects.select_for_update().select_related("patient__clinic").get(pk=intake_id)
    _check_open(intake)
    return intake


MEASURES = {
    "pain_nrs": lambda a: {k: a.get(f"pain_{k}") for k in ("now", "average", "worst")},
    "stress_nrs": lambda a: {"stress": a.get("stress")},
    "sleep_nrs": lambda a: {"sleep": a.get("sleep")},
    "analgesic_days": lambda a: {"days": a.get("analgesic_days")},
}


def baseline_answers(cleaned: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The questionnaires answered in the intake, by instrument, in the form `score()` takes."""
    found = {code: build(cleaned) for code, build in MEASURES.items()}
    found = {code: a for code, a in found.items() if any(v is not None for v in a.values())}
    activities = [
        (cleaned[f"psfs_activity_{n}"], cleaned[f"psfs_rating_{n}"])
        for n in range(1, 4)
        if cleaned.get(f"psfs_activity_{n}") and cleaned.get(f"psfs_rating_{n}") is not None
    ]
    if activities:
        found["psfs"] = {
            "activities": [name for name, _ in activities],
            "ratings": [rating for _, rating in activities],
        }
    rmdq = {k.removeprefix("rmdq_item_"): v for k, v in cleaned.items() if k.startswith("rmdq_")}
    if rmdq:
        found["rmdq"] = {"ticked_items": sorted(int(n) for n, ticked in rmdq.items() if ticked)}
    start = {
        k.removeprefix("start_back_"): v for k, v in cleaned.items() if k.startswith("start_back_")
    }
    if start:
        found["start_back"] = {k: v if k == "bothersomeness" else int(v) for k, v in start.items()}
    return found


def submit_intake(*, actor: Viewer, intake_id: uuid.UUID, cleaned: Mapping[str, Any]) -> Intake:
    """Send the intake: screen the patient with the clinic's rules, record the baseline
    questionnaires, the preferences and the consents ticked, and freeze the intake. All or
    nothing. `cleaned` is every step's validated answers. Raises `ConflictError` when the
    intake was already sent, `InvalidInputError` naming a field the rules refuse."""
    intake = find_intake(actor, intake_id, action="intake.submit")
    _check_open(intake)
    patient = intake.patient
    today = patient.clinic.local_date()
    triage_items, conditions = rule_inputs(cleaned, today=today)
    is_self = patient.user_id == actor.pk
    with transaction.atomic():
        intake = _locked_draft(intake.pk)
        assessment = record_triage(
            actor=actor,
            patient_id=patient.pk,
            answers=triage_items,
            contraindication_answers=conditions,
            method=None if is_self else EntryMethod.PAPER,
        )
        method = None if is_self else "paper"
        for code, answers in baseline_answers(cleaned).items():
            record_measurement(
                actor=actor, patient_id=patient.pk, instrument=code, answers=answers, method=method
            )
        _save_preferences(actor, patient.pk, cleaned)
        _record_consents(actor, patient.pk, cleaned, is_self=is_self)
        intake.status = IntakeStatus.SUBMITTED
        intake.submitted_at = timezone.now()
        intake.submitted_by = acting_user(actor)
        intake.assessment = assessment
        intake.save()
        record_event(
            actor=actor,
            action="intake.submit",
            clinic_id=intake.clinic_id,
            patient_id=patient.pk,
            obj=intake,
            detail={"action": assessment.action},
        )
        emit(
            clinic_id=intake.clinic_id,
            event=WebhookEvent.INTAKE_TRIAGED,
            resources={
                "intake_id": intake.pk,
                "assessment_id": assessment.pk,
                "patient_id": patient.pk,
            },
        )
        return intake


def _save_preferences(actor: Viewer, patient_id: uuid.UUID, cleaned: Mapping[str, Any]) -> None:
    values = {
        "pressure": cleaned.get("pressure"),
        "avoid_areas": list(cleaned.get("avoid_areas") or []),
        "therapist_gender": cleaned.get("therapist_gender") or "",
        "language": cleaned.get("language") or "",
        "notes": cleaned.get("preference_notes") or "",
    }
    update_preferences(actor=actor, patient_id=patient_id, **values)


def _record_consents(
    actor: Viewer, patient_id: uuid.UUID, cleaned: Mapping[str, Any], *, is_self: bool
) -> None:
    method = ConsentMethod.PORTAL if is_self else ConsentMethod.PAPER
    given = {c.text_id for c in get_patient(actor, patient_id).consents if c.withdrawn_at is None}
    for key, agreed in cleaned.items():
        text_id = uuid.UUID(key.removeprefix("consent_")) if key.startswith("consent_") else None
        if agreed and text_id is not None and text_id not in given:
            record_consent(actor=actor, patient_id=patient_id, text_id=text_id, method=method)


def attach_document(
    *,
    actor: Viewer,
    intake_id: uuid.UUID,
    upload: UploadedFile | None,
    description: str,
) -> IntakeDocument:
    """Attach a document to the intake in progress (a doctor's letter, a scan report). The file
    is checked by its content (PDF, JPEG or PNG; not empty; within the size limit). Raises
    `InvalidInputError` naming the `document` field; the intake's answers are untouched."""
    intake = find_intake(actor, intake_id, action="intake.document")
    _check_open(intake)
    described = description.strip()
    if not described or len(described) > 200:
        message = "Say in a few words what the document is (at most 200 characters)."
        raise InvalidInputError(message, field_errors={"description": message})
    file_type = check_document(upload, what="document")
    assert upload is not None
    with transaction.atomic():
        document = IntakeDocument(
            clinic_id=intake.clinic_id,
            intake=intake,
            patient_id=intake.patient_id,
            description=described,
            original_name=(upload.name or "document")[-200:],
            file_type=file_type,
            size_bytes=upload.size or 0,
            uploaded_by=acting_user(actor),
            uploaded_at=timezone.now(),
        )
        document.file.save(f"{document.pk}.{file_type}", upload, save=False)
        document.save()
        record_event(
            actor=actor,
            action="intake.document",
            clinic_id=intake.clinic_id,
            patient_id=intake.patient_id,
            obj=document,
            detail={"file_type": file_type},
        )
        return document
