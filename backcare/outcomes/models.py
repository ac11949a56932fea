"""Stored outcome measurements, licensed instrument wording loaded by the clinic, and a clinic's
change thresholds."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from backcare.accounts.models import ClinicScopedModel, User
from backcare.core.models import BaseModel
from backcare.patients.models import Patient


class MeasurementMethod(models.TextChoices):
    PORTAL = "portal", "Patient, online"
    PAPER = "paper", "Staff, from a paper form"
    THERAPIST = "therapist", "Therapist, measured or asked at a visit"
    CHECK_IN = "check_in", "Patient, from an emailed check-in link"


class OutcomeMeasurement(ClinicScopedModel):
    """One administration of one instrument: the answers item by item, the exact score and how
    it was computed (instrument version and policy), who entered it, when and how. Never
    edited or deleted: a correction is a new measurement, and the old one is withdrawn (kept,
    with why and what replaced it, and left out of progress and analytics)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=80)
    measured_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=MeasurementMethod.choices)
    entered_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for answers from a check-in link (no login).",
    )
    answers = models.JSONField()
    valid = models.BooleanField()
    reason = models.CharField(max_length=40, blank=True, help_text="Why there is no score.")
    score_exact = models.CharField(
        max_length=40, blank=True, help_text='Exact value, e.g. "320/9".'
    )
    score_display = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    details = models.JSONField(default=dict, blank=True)
    policy = models.JSONField(default=dict, blank=True)
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the record it came from was corrected."
    )
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-measured_at"]
        indexes = [
            models.Index(
                fields=["clinic", "patient", "instrument", "measured_at"],
                name="measurement_patient",
            ),
            models.Index(fields=["clinic", "id"], name="measurement_clinic_pk"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} of {self.patient_id} at {self.measured_at:%Y-%m-%d}"


class InstrumentText(BaseModel):
    """Licensed wording of one instrument item, loaded from a file the clinic supplies (never
    shipped with BackCare). One row per item and language."""

    instrument = models.CharField(max_length=40)
    version = models.CharField(max_length=80)
    language = models.CharField(max_length=10, default="en")
    item_id = models.CharField(max_length=40)
    text = models.TextField(max_length=2000)
    options = models.JSONField(
        default=list, blank=True, help_text="Answer wording, in scale order."
    )
    licence = models.CharField(max_length=300, help_text="Whose wording, and the licence held.")
    loaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "version", "language", "item_id"],
                name="instrument_text_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.version} {self.language} {self.item_id}"


class OutcomeSettings(ClinicScopedModel):
    """A clinic's changes to change thresholds (RULES.md §3.8) and the ODI missing-section
    policy. Empty means the cited defaults."""

    odi_max_missing = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    thresholds = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "outcome settings"
        constraints = [
            models.UniqueConstraint(fields=["clinic"], name="outcome_settings_one_per_clinic")
        ]

    def __str__(self) -> str:
        return f"Outcome settings of clinic {self.clinic_id}"


class Soreness(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


CHECK_IN_SENT_AFTER_HOURS = 24
CHECK_IN_OPEN_HOURS = 72
FOLLOW_UP_OPEN_DAYS = 14


class CheckIn(ClinicScopedModel):
    """A short check-in answered once from an emailed link that needs no login. Either after a
    visit (`visit_ref`, the appointment: pain now, global change, soreness or other effects;
    open `CHECK_IN_OPEN_HOURS` after the visit) or a follow-up after a course ended
    (`plan_ref`, the treatment plan, and `follow_up_number` 1-6: pain now, global change, and
    whether the pain flared up; open `FOLLOW_UP_OPEN_DAYS`). The link carries a signed token of
    the check-in's id; nothing secret is stored. Scheduling owns appointments and plans own
    plans, so both are references here."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    visit_ref = models.UUIDField(
        null=True, blank=True, unique=True, help_text="The appointment this check-in follows."
    )
    plan_ref = models.UUIDField(
        null=True, blank=True, help_text="The ended course this follow-up is about."
    )
    follow_up_number = models.PositiveSmallIntegerField(
        default=0, help_text="1-6: which monthly follow-up after the course; 0 after a visit."
    )
    visit_ended_at = models.DateTimeField(
        help_text="When the visit ended, or when the follow-up fell due."
    )
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    soreness = models.CharField(max_length=10, choices=Soreness.choices, blank=True)
    other_effects = models.CharField(max_length=300, blank=True)
    pain = models.ForeignKey(
        OutcomeMeasurement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    global_change = models.ForeignKey(
        OutcomeMeasurement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    flare_up = models.BooleanField(
        null=True, blank=True, help_text="Follow-ups: has the pain flared up since the last?"
    )

    class Meta:
        ordering = ["-visit_ended_at"]
        indexes = [models.Index(fields=["clinic", "patient"], name="checkin_patient")]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "plan_ref", "follow_up_number"],
                condition=models.Q(plan_ref__isnull=False),
                name="checkin_one_follow_up",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(visit_ref__isnull=False, plan_ref__isnull=True, follow_up_number=0)
                    | models.Q(
                        visit_ref__isnull=True, plan_ref__isnull=False, follow_up_number__gt=0
                    )
                ),
                name="checkin_after_visit_or_follow_up",
            ),
        ]

    @property
    def is_follow_up(self) -> bool:
        return self.plan_ref is not None

    def __str__(self) -> str:
        return f"Check-in after {self.visit_ended_at:%Y-%m-%d}"


class FlareUpSource(models.TextChoices):
    CHECK_IN = "check_in", "Patient, at a follow-up check-in"
    STAFF = "staff", "Recorded by the clinic"


class FlareUp(ClinicScopedModel):
    """The back pain came back after a course of massage: when, how it became known and what
    was said. Shown on the patient's progress; ends the relief counted by
    `clinical.recurrence`."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField()
    source = models.CharField(max_length=10, choices=FlareUpSource.choices)
    check_in = models.OneToOneField(
        CheckIn, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_on"]
        indexes = [models.Index(fields=["clinic", "patient"], name="flare_up_patient")]

    def __str__(self) -> str:
        return f"Flare-up of {self.patient_id} on {self.started_on}"
