"""No hard delete of clinical records (ARCHITECTURE.md §5): they are corrected by amendment or
marked entered-in-error. A `pre_delete` guard on each clinical model refuses every ORM delete,
of one object or a queryset, from any page, API call, admin action or job."""

from typing import Any

from django.apps import apps
from django.db.models.signals import pre_delete

CLINICAL_MODELS = (
    "patients.Patient",
    "patients.PatientPreferences",
    "patients.Consent",
    "triage.TriageAssessment",
    "triage.ReferralLetter",
    "triage.Clearance",
    "triage.HoldOverride",
    "triage.ScreeningReview",
    "outcomes.OutcomeMeasurement",
    "outcomes.CheckIn",
    "outcomes.FlareUp",
    "intake.Intake",
    "intake.IntakeDocument",
    "plans.TreatmentPlan",
    "plans.PlanGoal",
    "plans.PlanTechnique",
    "scheduling.Course",
    "scheduling.Appointment",
    "visits.Visit",
    "visits.VisitNote",
    "visits.AppliedTechnique",
    "visits.NoteAmendment",
)


class ClinicalRecordDeletionError(Exception):
    """Raised when code tries to delete a clinical record."""


def refuse_deletion(sender: Any, instance: Any, **kwargs: Any) -> None:
    raise ClinicalRecordDeletionError(
        f"{sender._meta.label} records are never deleted: correct them by amendment or mark "
        "them entered in error."
    )


def guard_clinical_models() -> None:
    """Connect the guard to every clinical model (from `CoreConfig.ready`)."""
    for label in CLINICAL_MODELS:
        pre_delete.connect(
            refuse_deletion, sender=apps.get_model(label), dispatch_uid=f"no-delete-{label}"
        )
