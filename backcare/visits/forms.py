"""Forms of the visit page: the SOAP note (for the draft and, with a reason, for an amendment),
an applied technique, and entered in error."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms

from backcare.accounts.models import Technique
from backcare.clinical.body import MUSCLES, WORK_SIDES, body_map_groups
from backcare.clinical.contraindications import TreatmentLimits
from backcare.core.forms import DomainErrorFormMixin
from backcare.core.widgets import BodyMapWidget
from backcare.patients.models import PressurePreference
from backcare.visits import soap
from backcare.visits.services import MIN_REASON_CHARS

MIN_PALPATION_ROWS = 3
NO_GRADE = [("", "—")]
TEXTAREA = {"rows": 3}

# The form's sections, in SOAP order; the template shows each under its heading, the palpation
# rows in O and the adverse events in A.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("s", ("subjective", "changes_since_last", "pain_regions", "pain_before", "analgesic_days")),
    ("o", ("posture", "posture_note", "schober_span_cm", "fingertip_floor_cm")),
    ("treatment", ("position", "treated_regions")),
    ("a", ("assessment", "pain_after")),
    ("p", ("next_focus", "home_care", "plan_changes")),
)


class BodyMapField(forms.MultipleChoiceField):
    """Body-map regions (muscle and side) on the body map: the figure over the grouped
    checkbox list (`core.widgets.BodyMapWidget`)."""

    widget = BodyMapWidget

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=body_map_groups(), required=False, **kwargs)


class NoteForm(DomainErrorFormMixin, forms.Form):
    """A visit note's fields, none required (a draft may be saved half done; signing asks for
    pain before and after). Palpation findings come as rows of muscle, side and two grades;
    adverse events as one severity per kind (blank for none)."""

    subjective = forms.CharField(
        label="In the patient's words",
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=4000,
        required=False,
    )
    changes_since_last = forms.CharField(
        label="Changes since the last visit",
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=2000,
        required=False,
    )
    pain_regions = BodyMapField(label="Where it hurts")
    pain_before = forms.IntegerField(
        label="Pain before the session (0-10)", min_value=0, max_value=10, required=False
    )
    analgesic_days = forms.IntegerField(
        label="Days with pain medicine in the last 7",
        min_value=0,
        max_value=7,
        required=False,
    )
    posture = forms.MultipleChoiceField(
        label="Posture observations",
        choices=soap.POSTURE_FINDINGS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    posture_note = forms.CharField(label="More about posture", max_length=300, required=False)
    schober_span_cm = forms.DecimalField(
        label="Modified Schober: span in flexion (cm)",
        min_value=Decimal(15),
        max_value=Decimal(35),
        decimal_places=1,
        max_digits=3,
        required=False,
        help_text="The 15 cm marked span measured in full flexion; excursion = span - 15.",
    )
    fingertip_floor_cm = forms.DecimalField(
        label="Fingertip to floor (cm)",
        min_value=Decimal(-30),
        max_value=Decimal(80),
        decimal_places=1,
        max_digits=3,
        required=False,
        help_text="Negative when the fingertips pass floor level on a step.",
    )
    position = forms.ChoiceField(
        label="Position", choices=[("", "—"), *soap.POSITIONS], required=False
    )
    treated_regions = BodyMapField(label="Regions treated")
    assessment = forms.CharField(
        label="Response to treatment",
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=4000,
        required=False,
    )
    pain_after = forms.IntegerField(
        label="Pain after the session (0-10)", min_value=0, max_value=10, required=False
    )
    next_focus = forms.CharField(
        label="Next focus",
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=2000,
        required=False,
    )
    home_care = forms.CharField(
        label="Home care", widget=forms.Textarea(attrs=TEXTAREA), max_length=2000, required=False
    )
    plan_changes = forms.CharField(
        label="Plan changes",
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args: Any, palpation_rows: int = MIN_PALPATION_ROWS, **kwargs: Any):
        super().__init__(*args, **kwargs)
        data = args[0] if args else kwargs.get("data")
        if data is not None:
            palpation_rows = max(palpation_rows, _posted_rows(data, self.add_prefix("")))
        self.palpation_rows = palpation_rows
        muscles = [("", "—"), *((m.code, m.label) for m in MUSCLES)]
        sides = [("", "—"), *((s, s.title()) for s in WORK_SIDES)]
        for n in range(1, palpation_rows + 1):
            self.fields[f"palpation_{n}_muscle"] = forms.ChoiceField(
                label=f"Finding {n}: muscle", choices=muscles, required=False
            )
            self.fields[f"palpation_{n}_side"] = forms.ChoiceField(
                label=f"Finding {n}: side", choices=sides, required=False
            )
            for grade in ("tension", "tenderness"):
                self.fields[f"palpation_{n}_{grade}"] = forms.TypedChoiceField(
                    label=f"Finding {n}: {grade} (0-3)",
                    choices=NO_GRADE + list(soap.GRADES),
                    coerce=int,
                    empty_value=None,
                    required=False,
                )
        for kind, label in soap.ADVERSE_KINDS:
            self.fields[f"adverse_{kind}"] = forms.ChoiceField(
                label=label, choices=[("", "None"), *soap.SEVERITIES], required=False
            )
        self.fields["adverse_note"] = forms.CharField(
            label="About the adverse events",
            max_length=soap.MAX_NOTE_CHARS,
            required=False,
            help_text="Needed for 'other': say what happened.",
        )

    @classmethod
    def initial_from(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """Initial form values from a note's stored fields (amendments applied, if any)."""
        initial = {k: v for k, v in values.items() if k not in ("palpation", "adverse_events")}
        for n, row in enumerate(values.get("palpation") or [], start=1):
            for key in ("muscle", "side", "tension", "tenderness"):
                initial[f"palpation_{n}_{key}"] = row.get(key)
        for event in values.get("adverse_events") or []:
            initial[f"adverse_{event['kind']}"] = event["severity"]
            if event.get("note"):
                initial["adverse_note"] = event["note"]
        return initial

    def palpation_groups(self) -> list[list[forms.BoundField]]:
        """The palpation rows' bound fields, a row at a time, for the template."""
        keys = ("muscle", "side", "tension", "tenderness")
        return [
            [self[f"palpation_{n}_{key}"] for key in keys]
            for n in range(1, self.palpation_rows + 1)
        ]

    def adverse_fields(self) -> list[forms.BoundField]:
        return [self[f"adverse_{kind}"] for kind, _ in soap.ADVERSE_KINDS] + [self["adverse_note"]]

    @property
    def sections(self) -> dict[str, list[forms.BoundField]]:
        """The bound fields of each section ("s", "o", "treatment", "a", "p")."""
        return {key: [self[name] for name in names] for key, names in SECTIONS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, self.palpation_rows + 1):
            row = [data.get(f"palpation_{n}_{key}") for key in ("side", "tension", "tenderness")]
            if data.get(f"palpation_{n}_muscle") and any(v in (None, "") for v in row):
                self.add_error(
                    f"palpation_{n}_muscle", "Give the side and both grades of this finding."
                )
        if data.get("adverse_other") and not data.get("adverse_note"):
            self.add_error("adverse_note", "Say what the other adverse event was.")
        return data

    def note_fields(self) -> dict[str, Any]:
        """The note's fields from the cleaned data, for the services. On an invalid form, only
        the fields (and whole groups: palpation, adverse events) that are valid, so that the
        autosave keeps what it can."""
        data = self.cleaned_data
        names = [name for section in SECTIONS for name in section[1]]
        fields = {name: data[name] for name in names if name in data}
        palpation_names = [n for n in self.fields if n.startswith("palpation_")]
        if all(name in data for name in palpation_names):
            fields["palpation"] = [
                {
                    key: data[f"palpation_{n}_{key}"]
                    for key in ("muscle", "side", "tension", "tenderness")
                }
                for n in range(1, self.palpation_rows + 1)
                if data[f"palpation_{n}_muscle"]
            ]
        adverse_names = [f"adverse_{kind}" for kind, _ in soap.ADVERSE_KINDS] + ["adverse_note"]
        if all(name in data for name in adverse_names):
            note = data["adverse_note"]
            fields["adverse_events"] = [
                {
                    "kind": kind,
                    "severity": data[f"adverse_{kind}"],
                    "note": note if kind == "other" else "",
                }
                for kind, _ in soap.ADVERSE_KINDS
                if data[f"adverse_{kind}"]
            ]
        return fields


def _posted_rows(data: Mapping[str, Any], prefix: str) -> int:
    """How many palpation rows were posted (so that a row added on the page is kept)."""
    count = 0
    while f"{prefix}palpation_{count + 1}_muscle" in data:
        count += 1
    return count


def palpation_rows_for(values: Mapping[str, Any]) -> int:
    """Rows to show: every finding recorded and one empty row, at least `MIN_PALPATION_ROWS`."""
    return max(MIN_PALPATION_ROWS, len(values.get("palpation") or []) + 1)


class AmendForm(NoteForm):
    """An amendment: the note's fields as last amended, to correct, and the reason."""

    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=300,
        min_length=MIN_REASON_CHARS,
        help_text="Why the note is corrected (shown with the amendment).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "amend")
        super().__init__(*args, **kwargs)


class TechniqueForm(DomainErrorFormMixin, forms.Form):
    """A technique applied on a muscle and side, minutes and pressure. Techniques the screening
    excludes are marked; recording one needs the reason."""

    technique = forms.ChoiceField(label="Technique")
    muscle = forms.ChoiceField(label="Muscle", choices=[(m.code, m.label) for m in MUSCLES])
    side = forms.ChoiceField(label="Side", choices=[(s, s.title()) for s in WORK_SIDES])
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=90)
    pressure_level = forms.TypedChoiceField(
        label="Pressure", coerce=int, choices=PressurePreference.choices
    )
    acknowledged_reason = forms.CharField(
        label="Reason for a precaution",
        max_length=300,
        required=False,
        help_text="Only for a technique the screening excludes: why you applied it anyway.",
    )

    def __init__(
        self, *args: Any, techniques: list[Technique], limits: TreatmentLimits, **kwargs: Any
    ) -> None:
        kwargs.setdefault("prefix", "technique")
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


class EnteredInErrorForm(DomainErrorFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why this note is entered in error",
        max_length=300,
        min_length=MIN_REASON_CHARS,
        help_text="For a note that should never have been written (the wrong patient or visit). "
        "To correct a detail, amend the note instead.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "error")
        super().__init__(*args, **kwargs)
