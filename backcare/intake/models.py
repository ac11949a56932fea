"""An intake in progress or submitted: the answers as typed, kept between visits to the form."""

from django.db import models

from backcare.accounts.models import ClinicScopedModel, User
from backcare.patients.models import Patient
from backcare.triage.models import TriageAssessment


class IntakeStatus(models.TextChoices):
    DRAFT = "draft", "In progress"
    SUBMITTED = "submitted", "Submitted"


class IntakeMethod(models.TextChoices):
    PORTAL = "portal", "Patient, online"
    PAPER = "paper", "Staff, from a paper form"


class Intake(ClinicScopedModel):
    """One intake of a patient. `answers` holds what was typed, step by step, even when it did
    not pass validation yet, so nothing is lost; submitting stores the screening and the
    baseline measurements and freezes the intake."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=IntakeMethod.choices)
    status = models.CharField(
        max_length=10, choices=IntakeStatus.choices, default=IntakeStatus.DRAFT
    )
    answers = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessment = models.OneToOneField(
        TriageAssessment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-saved_at"]
        indexes = [models.Index(fields=["clinic", "patient", "status"], name="intake_patient")]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "patient"],
                condition=models.Q(status="draft"),
                name="intake_one_draft_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"Intake of {self.patient_id} ({self.status})"


def intake_document_path(instance: "IntakeDocument", filename: str) -> str:
    # The stored name never reuses what the uploader typed.
    return f"intake/{instance.clinic_id}/{instance.pk}.{instance.file_type}"


class IntakeDocument(ClinicScopedModel):
    """A document the patient (or staff) attached to an intake: a doctor's letter, a scan
    report, an earlier clearance. Checked by content on upload; read through a scoped view."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="documents")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=intake_document_path, max_length=200)
    description = models.CharField(max_length=200)
    original_name = models.CharField(max_length=200)
    file_type = models.CharField(max_length=10)
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.description} ({self.file_type})"
