"""Forms of the plan pages."""

from typing import Any

from django import forms

from backcare.accounts.models import Technique
from backcare.clinical.body import MUSCLES, WORK_SIDES
from backcare.clinical.contraindications import TreatmentLimits
from backcare.core.forms import DomainErrorFormMixin
from backcare.patients.models import PressurePreference
from backcare.plans.models import MAX_PLAN_SESSIONS, SESSION_MINUTES, HomeCareAdvice

GOAL_ROWS = 3


class PlanForm(DomainErrorFormMixin, forms.Form):
    """A new plan: the course, targets, home care and up to three function goals (PSFS)."""

    focus = forms.CharField(
        label="Focus of the course",
        max_length=300,
        required=False,
        help_text="In a sentence: what this course works on.",
    )
    session_minutes = forms.TypedChoiceField(
        label="Session length",
        coerce=int,
        choices=[(m, f"{m} minutes") for m in SESSION_MINUTES],
        initial=60,
    )
    sessions_planned = forms.IntegerField(
        label="Number of sessions", min_value=1, max_value=MAX_PLAN_SESSIONS, initial=10
    )
    every_weeks = forms.IntegerField(
        label="Every (weeks)", min_value=1, max_value=4, initial=1, help_text="1 for weekly."
    )
    reassess_at_sessions = forms.CharField(
        label="Re-assess at sessions",
        required=False,
        initial="5, 10",
        help_text="Session numbers, separated by commas (e.g. half-way and the end).",
    )
    pain_target = forms.IntegerField(
        label="Pain target (0-10)", min_value=0, max_value=10, required=False
    )
    disability_target_points = forms.IntegerField(
        label="Disability target (RMDQ points)", min_value=0, max_value=24, required=False
    )
    home_care = forms.MultipleChoiceField(
        label="Home care advice", widget=forms.CheckboxSelectMultiple, required=False
    )
    home_care_note = forms.CharField(
        label="More home care advice", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, advice: list[HomeCareAdvice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["home_care"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(a.code, a.name) for a in advice]
        for n in range(1, GOAL_ROWS + 1):
            self.fields[f"goal_{n}_activity"] = forms.CharField(
                label=f"Goal {n}: activity", max_length=150, required=False
            )
            self.fields[f"goal_{n}_baseline"] = forms.IntegerField(
                label=f"Goal {n}: score now (0-10)", min_value=0, max_value=10, required=False
            )
            self.fields[f"goal_{n}_target"] = forms.IntegerField(
                label=f"Goal {n}: target (0-10)", min_value=0, max_value=10, required=False
            )

    def clean_reassess_at_sessions(self) -> list[int]:
        text: str = self.cleaned_data["reassess_at_sessions"]
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError("Give session numbers separated by commas, e.g. 5, 10.")
        return [int(p) for p in parts]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, GOAL_ROWS + 1):
            if data.get(f"goal_{n}_activity") and data.get(f"goal_{n}_target") is None:
                self.add_error(f"goal_{n}_target", "Give a target score for this activity.")
        return data

    def goals(self) -> list[tuple[str, int | None, int]]:
        """(activity, score now, target) of each goal filled in."""
        found = []
        for n in range(1, GOAL_ROWS + 1):
            activity = self.cleaned_data.get(f"goal_{n}_activity")
            if activity:
                found.append(
                    (
                        activity,
                        self.cleaned_data.get(f"goal_{n}_baseline"),
                        self.cleaned_data[f"goal_{n}_target"],
                    )
                )
        return found


class TechniqueForm(DomainErrorFormMixin, forms.Form):
    """A technique on a muscle and side at a pressure level. Techniques the screening excludes
    are marked; planning one needs the reason."""

    technique = forms.ChoiceField(label="Technique")
    muscle = forms.ChoiceField(label="Muscle", choices=[(m.code, m.label) for m in MUSCLES])
    side = forms.ChoiceField(label="Side", choices=[(s, s.title()) for s in WORK_SIDES])
    pressure_level = forms.TypedChoiceField(
        label="Pressure", coerce=int, choices=PressurePreference.choices
    )
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=90, required=False)
    acknowledged_reason = forms.CharField(
        label="Reason for a precaution",
        max_length=300,
        required=False,
        help_text="Only for a technique the screening excludes: why you plan it anyway.",
    )

    def __init__(
        self, *args: Any, techniques: list[Technique], limits: TreatmentLimits, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["technique"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (
                t.code,
                f"{t.name} (excluded by the screening: needs your reason)"
                if t.code in limits.excluded_techniques
                else t.name,
            )
            for t in techniques
        ]
        if limits.max_pressure_level is not None:
            self.fields[
                "pressure_level"
            ].help_text = f"This patient's cap: level {limits.max_pressure_level}."
