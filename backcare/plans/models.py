"""Treatment plans: the course planned for a patient's episode of back pain, with goals (PSFS
activities with target scores, pain and disability targets), the techniques per muscle and
side with their pressure, session length, frequency and number of sessions, re-assessment
points and home care advice.

A plan keeps the limits of the patient's screening (`triage.queries.limits_from`): a technique
the screening excludes is planned only with the therapist's acknowledged reason; a pressure
above the cap and work in a region to avoid are refused (RULES.md §2).
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from backcare.accounts.models import ClinicScopedModel, Technique, User
from backcare.clinical.body import MUSCLES, WORK_SIDES
from backcare.patients.models import Patient, PressurePreference

MAX_PLAN_SESSIONS = 52
SESSION_MINUTES = (30, 45, 60, 75, 90)


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class HomeCareAdvice(models.Model):
    """The small managed list of home care advice (stretches, heat, posture), added to in the
    Django admin; plans add free text beside it."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "home care advice"

    def __str__(self) -> str:
        return self.name


class TreatmentPlan(ClinicScopedModel):
    """A course of massage planned for one patient. One plan is active at a time; starting a
    new one ends the last."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    focus = models.CharField("focus of the course", max_length=300, blank=True)
    session_minutes = models.PositiveSmallIntegerField(
        choices=[(m, f"{m} minutes") for m in SESSION_MINUTES], default=60
    )
    every_weeks = models.PositiveSmallIntegerField(
        "every (weeks)", default=1, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    sessions_planned = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(MAX_PLAN_SESSIONS)]
    )
    reassess_at_sessions = models.JSONField(
        default=list, blank=True, help_text="Session numbers at which to re-assess, e.g. [5, 10]."
    )
    pain_target = models.PositiveSmallIntegerField(
        "pain target (0-10)", null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    disability_target_points = models.PositiveSmallIntegerField(
        "disability target (RMDQ points)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(24)],
    )
    home_care = models.ManyToManyField(HomeCareAdvice, blank=True, related_name="+")
    home_care_note = models.TextField("home care advice", max_length=2000, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "patient", "status"], name="plan_patient"),
            models.Index(fields=["clinic", "id"], name="plan_clinic_pk"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "patient"],
                condition=models.Q(status="active"),
                name="plan_one_active_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"Plan of {self.created_at:%Y-%m-%d} ({self.status})"


class PlanGoal(ClinicScopedModel):
    """A patient-specific function goal (PSFS): an activity, its score now and the target,
    0 (unable) to 10 (as before the problem)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="goals")
    activity = models.CharField(max_length=150)
    baseline_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    target_score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["clinic", "plan"], name="goal_plan")]

    def __str__(self) -> str:
        return f"{self.activity}: {self.baseline_score} to {self.target_score}"


class PlanTechnique(ClinicScopedModel):
    """A technique planned on a muscle and side at a pressure level. `acknowledged_reason` is
    set when the screening excludes the technique and the therapist plans it anyway."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="techniques")
    technique = models.ForeignKey(Technique, on_delete=models.PROTECT, related_name="+")
    muscle = models.CharField(max_length=40, choices=[(m.code, m.label) for m in MUSCLES])
    side = models.CharField(max_length=5, choices=[(s, s.title()) for s in WORK_SIDES])
    pressure_level = models.PositiveSmallIntegerField(choices=PressurePreference.choices)
    minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    acknowledged_reason = models.CharField(max_length=300, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["clinic", "plan"], name="plantechnique_plan")]

    def __str__(self) -> str:
        return f"{self.technique_id} on {self.muscle} ({self.side}) at {self.pressure_level}"
