"""Stored safety assessments: red-flag triage and massage contraindications, with the inputs,
the result, and the rule-set version and settings that produced them."""

from django.db import models

from backcare.accounts.models import ClinicScopedModel, User
from backcare.patients.models import Patient


class ClinicRuleSettings(ClinicScopedModel):
    """A clinic's changes to the ⚙ defaults of the red-flag and contraindication rules. Empty
    means the defaults; each key overrides one default (names as in the clinical modules)."""

    triage = models.JSONField(default=dict, blank=True)
    contraindications = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "clinic rule settings"
        constraints = [
            models.UniqueConstraint(fields=["clinic"], name="rule_settings_one_per_clinic")
        ]

    def __str__(self) -> str:
        return f"Rule settings of clinic {self.clinic_id}"


class EntryMethod(models.TextChoices):
    PORTAL = "portal", "Patient, online"
    STAFF = "staff", "Staff, from the patient's answers"
    PAPER = "paper", "Staff, from a paper form"


class ScreeningKind(models.TextChoices):
    INTAKE = "intake", "Intake"
    RESCREEN = "rescreen", "Re-screen before a visit"


class TriageAssessment(ClinicScopedModel):
    """One safety screening of a patient. Never edited: a new screening is a new row."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=EntryMethod.choices)
    kind = models.CharField(max_length=10, choices=ScreeningKind.choices, default="intake")
    changes_since_last = models.TextField(
        "changes since the last visit", max_length=2000, blank=True
    )
    carried_items = models.JSONField(
        default=list, blank=True, help_text="Re-screen: items carried from earlier screenings."
    )
    # Red flags (RULES.md §1.2)
    answers = models.JSONField(help_text="Items as answered; unanswered items are listed apart.")
    unanswered = models.JSONField(default=list, blank=True)
    action = models.CharField(max_length=32)
    triggered = models.JSONField(default=list, blank=True)
    referral = models.CharField(max_length=40, blank=True)
    rules_version = models.CharField(max_length=80)
    rule_settings = models.JSONField(default=dict)
    # Contraindications (RULES.md §2)
    contraindication_answers = models.JSONField(default=dict, blank=True)
    contraindication_result = models.JSONField(default=dict, blank=True)
    contraindication_version = models.CharField(max_length=80)
    contraindication_settings = models.JSONField(default=dict)

    class Meta:
        ordering = ["-assessed_at"]
        indexes = [
            models.Index(fields=["clinic", "patient", "assessed_at"], name="triage_patient_time")
        ]

    def __str__(self) -> str:
        return f"Triage of {self.patient_id} at {self.assessed_at:%Y-%m-%d %H:%M}: {self.action}"


class ReferralLetter(ClinicScopedModel):
    """A letter asking the patient's doctor to review the findings of one screening. The PDF is
    rendered from these fields and the screening, so it reads the same every time."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(TriageAssessment, on_delete=models.PROTECT, related_name="+")
    recipient_name = models.CharField("doctor's name", max_length=150)
    recipient_address = models.TextField("doctor's address or practice", max_length=500, blank=True)
    # A referring clinician with a BackCare login may read it and record the clearance.
    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("note to the doctor", max_length=2000, blank=True)
    written_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["-written_at"]
        indexes = [
            models.Index(fields=["clinic", "patient"], name="letter_patient"),
            models.Index(fields=["clinic", "id"], name="letter_clinic_pk"),
        ]

    def __str__(self) -> str:
        return f"Referral letter for {self.patient_id} to {self.recipient_name}"


def clearance_upload_path(instance: "Clearance", filename: str) -> str:
    # The stored name never reuses what the uploader typed.
    return f"clearances/{instance.clinic_id}/{instance.pk}.{instance.document_type}"


class Clearance(ClinicScopedModel):
    """A clinician's clearance of the hold raised by one screening, with any conditions. It
    covers the rules and conditions listed in `covers` (those of that screening)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(TriageAssessment, on_delete=models.PROTECT, related_name="+")
    letter = models.ForeignKey(
        ReferralLetter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    covers = models.JSONField(help_text="Rule and condition IDs this clearance answers.")
    clinician_name = models.CharField(max_length=150)
    clinician_role = models.CharField(max_length=100)
    cleared_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    restricted_regions = models.JSONField(default=list, blank=True)
    excluded_techniques = models.JSONField(default=list, blank=True)
    max_pressure_level = models.PositiveSmallIntegerField(null=True, blank=True)
    conditions = models.TextField("conditions or restrictions", max_length=2000, blank=True)
    document = models.FileField(upload_to=clearance_upload_path, max_length=200)
    document_name = models.CharField(max_length=200)
    document_type = models.CharField(max_length=10)
    document_bytes = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["clinic", "patient"], name="clearance_patient")]

    def __str__(self) -> str:
        return f"Clearance of {self.patient_id} by {self.clinician_name} on {self.cleared_on}"


class HoldOverride(ClinicScopedModel):
    """Staff's written decision to let a patient on hold be booked without a clearance. It
    answers one screening only; a later screening with flags holds again."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(TriageAssessment, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=2000)
    overridden_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    overridden_at = models.DateTimeField()

    class Meta:
        ordering = ["-overridden_at"]
        indexes = [models.Index(fields=["clinic", "patient"], name="override_patient")]

    def __str__(self) -> str:
        return f"Hold override for {self.patient_id} at {self.overridden_at:%Y-%m-%d}"


class ScreeningReview(ClinicScopedModel):
    """Staff have read a screening (it leaves the triage queue once nothing else waits)."""

    assessment = models.OneToOneField(
        TriageAssessment, on_delete=models.PROTECT, related_name="review"
    )
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Review of {self.assessment_id}"
