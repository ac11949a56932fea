"""Visits and their SOAP notes, opened from an appointment.

A visit note is written as a draft (autosaved), then signed: a signed note never changes. A
correction is a `NoteAmendment` linked to it (who, when, why, the corrected fields); a note that
should never have been written (the wrong patient or appointment) is marked entered in error
with a reason. Nothing here is ever deleted.
"""

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from backcare.accounts.models import ClinicScopedModel, Technique, Therapist, User
from backcare.clinical.body import MUSCLES, WORK_SIDES
from backcare.core.errors import ConflictError
from backcare.patients.models import Patient, PressurePreference
from backcare.plans.models import TreatmentPlan
from backcare.scheduling.models import Appointment
from backcare.visits.soap import POSITIONS


class VisitStatus(models.TextChoices):
    OPEN = "open", "Open (note in progress)"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Visit(ClinicScopedModel):
    """One session given (or due) at an appointment: who treated whom under which plan. One
    per appointment; its note says what was done."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=VisitStatus.choices, default=VisitStatus.OPEN)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "patient", "status"], name="visit_patient"),
            models.Index(fields=["clinic", "id"], name="visit_clinic_pk"),
        ]

    def __str__(self) -> str:
        return f"Visit of {self.created_at:%Y-%m-%d} ({self.status})"


# The fields a therapist writes: saved as a draft, frozen at signing, corrected by amendment.
NOTE_FIELDS = (
    "subjective",
    "changes_since_last",
    "pain_regions",
    "pain_before",
    "analgesic_days",
    "palpation",
    "posture",
    "posture_note",
    "schober_span_cm",
    "fingertip_floor_cm",
    "position",
    "treated_regions",
    "assessment",
    "pain_after",
    "adverse_events",
    "next_focus",
    "home_care",
    "plan_changes",
)


class VisitNote(ClinicScopedModel):
    """The SOAP note of a visit. S: the patient's words, changes since the last visit, where it
    hurts, pain before (NRS 0-10) and medication use (days with pain medicine of the last 7).
    O: palpation findings per muscle and side (tension and tenderness 0-3), posture, modified
    Schober and fingertip-to-floor (cm). A: response to treatment. P: next focus, home care,
    plan changes. Then the position, the regions treated, pain after and adverse events (with
    severity). The applied techniques are child rows.

    The structured JSON fields are validated by the services (`visits/soap.py`). Once the note
    is signed or entered in error, `save()` refuses any change to these fields."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="note")
    status = models.CharField(max_length=20, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    # S
    subjective = models.TextField("in the patient's words", max_length=4000, blank=True)
    changes_since_last = models.TextField(
        "changes since the last visit", max_length=2000, blank=True
    )
    pain_regions = models.JSONField("where it hurts", default=list, blank=True)
    pain_before = models.PositiveSmallIntegerField(
        "pain before (0-10)", null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    analgesic_days = models.PositiveSmallIntegerField(
        "days with pain medicine in the last 7",
        null=True,
        blank=True,
        validators=[MaxValueValidator(7)],
    )
    # O
    palpation = models.JSONField(default=list, blank=True)
    posture = models.JSONField("posture observations", default=list, blank=True)
    posture_note = models.CharField("more about posture", max_length=300, blank=True)
    schober_span_cm = models.DecimalField(
        "modified Schober: span in flexion (cm)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(15), MaxValueValidator(35)],
    )
    fingertip_floor_cm = models.DecimalField(
        "fingertip to floor (cm)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(-30), MaxValueValidator(80)],
    )
    # Treatment
    position = models.CharField(max_length=12, choices=POSITIONS, blank=True)
    treated_regions = models.JSONField("regions treated", default=list, blank=True)
    # A
    assessment = models.TextField("response to treatment", max_length=4000, blank=True)
    pain_after = models.PositiveSmallIntegerField(
        "pain after (0-10)", null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    adverse_events = models.JSONField(default=list, blank=True)
    # P
    next_focus = models.TextField("next focus", max_length=2000, blank=True)
    home_care = models.TextField(max_length=2000, blank=True)
    plan_changes = models.TextField(max_length=2000, blank=True)
    # Life cycle
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    measurement_ids = models.JSONField(
        default=dict, blank=True, help_text="Outcome measurements recorded at signing, by use."
    )
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_in_error_reason = models.CharField(max_length=300, blank=True)

    # What the note said when loaded signed or entered in error (None for a draft).
    _stored: dict[str, Any] | None = None

    class Meta:
        indexes = [models.Index(fields=["clinic", "status"], name="visitnote_status")]

    def __str__(self) -> str:
        return f"Note of visit {self.visit_id} ({self.status})"

    @classmethod
    def from_db(
        cls, db: Any, field_names: Any, values: Any, *, fetch_mode: Any = None
    ) -> "VisitNote":
        note = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        note._stored = note._content() if note.status != NoteStatus.DRAFT else None
        return note

    def _content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in NOTE_FIELDS}

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._stored is not None and self._content() != self._stored:
            raise ConflictError("A signed note cannot be changed; add an amendment instead.")
        super().save(*args, **kwargs)


class AppliedTechnique(ClinicScopedModel):
    """A technique applied at the visit on a muscle and side, for some minutes at a pressure
    level. `acknowledged_reason` is set when the screening excludes the technique and the
    therapist applied it anyway. Removed from a draft, a row is kept and marked removed."""

    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="techniques")
    technique = models.ForeignKey(Technique, on_delete=models.PROTECT, related_name="+")
    muscle = models.CharField(max_length=40, choices=[(m.code, m.label) for m in MUSCLES])
    side = models.CharField(max_length=5, choices=[(s, s.title()) for s in WORK_SIDES])
    pressure_level = models.PositiveSmallIntegerField(choices=PressurePreference.choices)
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    acknowledged_reason = models.CharField(max_length=300, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["clinic", "note"], name="appliedtechnique_note"),
            models.Index(fields=["clinic", "id"], name="appliedtechnique_clinic_pk"),
        ]

    def __str__(self) -> str:
        return f"{self.technique_id} on {self.muscle} ({self.side}) at {self.pressure_level}"


class NoteAmendment(ClinicScopedModel):
    """A correction of a signed note: the corrected fields with their new values, who made it,
    when and why. The note itself stays as signed."""

    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="amendments")
    amended_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    amended_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    changes = models.JSONField(help_text="Corrected fields and their new values.")
    measurement_ids = models.JSONField(
        default=dict,
        blank=True,
        help_text="Outcome measurements recorded for corrected measures (use -> id; empty "
        "when the measure was removed). The ones they replace are withdrawn.",
    )

    class Meta:
        ordering = ["amended_at", "created_at"]
        indexes = [models.Index(fields=["clinic", "note"], name="noteamendment_note")]

    def __str__(self) -> str:
        return f"Amendment of {self.amended_at:%Y-%m-%d %H:%M}"
