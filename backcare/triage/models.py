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


class TriageAssessment(ClinicScopedModel):
    """One safety screening of a patient. Never edited: a new screening is a new row."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=EntryMethod.choices)
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
