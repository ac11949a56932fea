"""Reads of intakes, scoped to the acting user: the patient themself and their clinic's staff."""

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, deny, require_roles
from backcare.core.audit import record_event
from backcare.core.export import ExportTable, table_of
from backcare.intake.models import Intake, IntakeDocument, IntakeStatus
from backcare.intake.questions import QUESTIONS
from backcare.patients.queries import SEE_ALL_ROLES, find_patient
from backcare.triage.queries import (
    HoldStatus,
    findings_of,
    get_hold_status,
    overall_level,
    patient_reasons,
)


def find_intake(viewer: Viewer, intake_id: uuid.UUID, *, action: str) -> Intake:
    """The intake if the viewer is its patient or clinic staff; else an audited 404. Audits only
    a denial: callers record what they then do."""
    intake = (
        Intake.objects.filter(pk=intake_id)
        .select_related("patient__clinic")
        .prefetch_related("documents")
        .first()
    )
    if intake is None:
        raise deny(viewer, action=action, object_type="intake.intake", object_id=str(intake_id))
    find_patient(viewer, intake.patient_id, roles=SEE_ALL_ROLES, action=action)
    return intake


def get_intake(viewer: Viewer, intake_id: uuid.UUID) -> Intake:
    """One intake with its answers so far; one `intake.view` event."""
    intake = find_intake(viewer, intake_id, action="intake.view")
    record_event(
        actor=viewer,
        action="intake.view",
        clinic_id=intake.clinic_id,
        patient_id=intake.patient_id,
        obj=intake,
    )
    return intake


def get_intake_document(viewer: Viewer, document_id: uuid.UUID) -> IntakeDocument:
    """A document attached to an intake, for the patient and their clinic's staff; audited."""
    document = IntakeDocument.objects.filter(pk=document_id).select_related("intake").first()
    if document is None:
        raise deny(
            viewer,
            action="intake.document_view",
            object_type="intake.intakedocument",
            object_id=str(document_id),
        )
    find_patient(viewer, document.patient_id, roles=SEE_ALL_ROLES, action="intake.document_view")
    record_event(
        actor=viewer,
        action="intake.document_view",
        clinic_id=document.clinic_id,
        patient_id=document.patient_id,
        obj=document,
    )
    return document


def list_intakes(
    viewer: Viewer,
    patient_id: uuid.UUID,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[Intake]:
    """The patient's intakes, newest first (at most one in progress), optionally last saved
    between two days (inclusive, the clinic's calendar); one `intake.list` event."""
    patient = find_patient(viewer, patient_id, roles=SEE_ALL_ROLES, action="intake.list")
    found = Intake.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    zone = patient.clinic.zone
    if first_day is not None:
        found = found.filter(saved_at__gte=datetime.combine(first_day, time.min, tzinfo=zone))
    if last_day is not None and last_day < date.max:
        after = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        found = found.filter(saved_at__lt=after)
    rows = list(found.select_related("assessment"))
    record_event(
        actor=viewer,
        action="intake.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(rows)},
    )
    return rows


def has_draft(intakes: list[Intake]) -> bool:
    return any(i.status == IntakeStatus.DRAFT for i in intakes)


@dataclass(frozen=True)
class IntakeResult:
    """What the patient and staff see after an intake: the level, whether booking is open, why
    not in plain words, and the answers to take to a doctor."""

    level: str
    hold: HoldStatus
    reasons: list[str]
    answers_to_show: list[str]
    unanswered: list[str]
    precautions: Mapping[str, Any]

    @property
    def may_book(self) -> bool:
        return self.hold.may_book


def get_result(viewer: Viewer, intake: Intake) -> IntakeResult:
    """The result of a sent intake, from its screening; one `hold.view` event."""
    assessment = intake.assessment
    assert assessment is not None
    hold = get_hold_status(viewer, intake.patient_id)
    reasons = list(patient_reasons(assessment))
    fired = sorted({item for *_, items in findings_of(assessment) for item in items})
    return IntakeResult(
        level=hold.level or overall_level(assessment),
        hold=hold,
        reasons=reasons,
        answers_to_show=[_wording(item) for item in fired],
        unanswered=list(
            dict.fromkeys(
                _wording(item)
                for item in [
                    *assessment.unanswered,
                    *assessment.contraindication_result.get("unanswered", []),
                ]
            )
        ),
        precautions=assessment.contraindication_result,
    )


def _wording(item: str) -> str:
    """The question that gave a rule item, in the patient's words."""
    for question in QUESTIONS:
        if any(name == item for _, name in question.feeds):
            return question.text
    return item.replace("_", " ").capitalize()


# --- Clinic analytics (reports.analytics) --------------------------------------------------------


def list_sent_intakes_of(
    viewer: Viewer, clinic: Clinic | None, patient_ids: Collection[uuid.UUID]
) -> list[Intake]:
    """The sent intakes of the given patients of the clinic, oldest first, for its admins;
    one query. `NotFoundError` (audited) for anyone else. Not audited itself: the analytics
    page records one event."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")
    return list(
        Intake.objects.filter(
            clinic=clinic, patient_id__in=list(patient_ids), status=IntakeStatus.SUBMITTED
        )
        .only("patient", "submitted_at", "answers")
        .order_by("submitted_at", "id")
    )


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every intake table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(Intake.objects.filter(clinic=clinic)),
        table_of(IntakeDocument.objects.filter(clinic=clinic)),
    ]
