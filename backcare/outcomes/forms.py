"""Forms of the clinical settings page, built from the clinical core's descriptions so that each
field shows its default and source."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

from django import forms

from backcare.clinical import change, contraindications, instruments, red_flags
from backcare.core.forms import DomainErrorFormMixin
from backcare.outcomes.models import Soreness


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _help(default: object, source: str) -> str:
    return f"Default: {_show(default)}. Source: {source}. Leave empty to use the default."


def _show(value: object) -> str:
    if isinstance(value, Fraction):
        return str(Decimal(value.numerator) / Decimal(value.denominator))
    return str(value)


class RuleSettingsForm(DomainErrorFormMixin, forms.Form):
    """Red-flag thresholds and contraindication numbers; empty fields mean the default."""

    def __init__(
        self,
        *args: Any,
        in_use: tuple[red_flags.TriageSettings, contraindications.ContraindicationSettings],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        triage_settings, ci_settings = in_use
        for name, value, default, source in red_flags.describe(triage_settings):
            self.fields[f"triage__{name}"] = forms.IntegerField(
                label=_label(name),
                required=False,
                min_value=0,
                max_value=120,
                help_text=_help(default, source),
            )
            self.initial[f"triage__{name}"] = None if value == default else value
        for name, value, default, source in contraindications.describe(ci_settings):
            high = 5 if name.endswith("_pressure") else 52
            self.fields[f"ci__{name}"] = forms.IntegerField(
                label=_label(name),
                required=False,
                min_value=0,
                max_value=high,
                help_text=_help(default, source),
            )
            self.initial[f"ci__{name}"] = None if value == default else value

    def overrides(self, prefix: str) -> dict[str, int]:
        """The filled-in values of one group (defaults for the empty ones are implied)."""
        return {
            key.split("__", 1)[1]: value
            for key, value in self.cleaned_data.items()
            if key.startswith(f"{prefix}__") and value is not None
        }


class OutcomeSettingsForm(DomainErrorFormMixin, forms.Form):
    """The ODI missing-section policy and the change thresholds; empty means the default."""

    odi_max_missing = forms.TypedChoiceField(
        choices=[
            (1, "1 section (ODI 2.1a scoring sheet, AO, Awell)"),
            (2, "2 sections (reduced reliability)"),
        ],
        coerce=int,
        label="ODI: unanswered sections allowed",
        help_text="Default: 1. Source: RULES.md §3.1 and §6.1.",
    )

    def __init__(self, *args: Any, in_use: tuple[int, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_missing, thresholds = in_use
        self.initial["odi_max_missing"] = max_missing
        for code, name, value, default, source in change.describe(thresholds):
            decimal = name in {"abs_points", "real_change"}
            field: forms.Field = (
                forms.DecimalField(min_value=Decimal("0.1"), max_value=100, decimal_places=2)
                if decimal
                else forms.IntegerField(min_value=1, max_value=100)
            )
            field.required = False
            field.label = f"{code}: {_label(name)}"
            field.help_text = _help(default, source)
            self.fields[f"{code}__{name}"] = field
            self.initial[f"{code}__{name}"] = None if value == default else _show(value)

    def thresholds(self) -> dict[str, dict[str, object]]:
        grouped: dict[str, dict[str, object]] = {}
        for key, value in self.cleaned_data.items():
            if "__" in key and value is not None:
                code, name = key.split("__", 1)
                grouped.setdefault(code, {})[name] = value
        return grouped


class CheckInForm(DomainErrorFormMixin, forms.Form):
    """The three check-in questions, in our own words; PGIC wording after Guy 1976 (public
    domain, RULES.md §3.9). After a visit the third asks about soreness; at a follow-up after
    a course, whether the pain flared up."""

    pain_now = forms.TypedChoiceField(
        label="How bad is your back pain right now? (0 = no pain, 10 = worst imaginable)",
        coerce=int,
        choices=[(n, str(n)) for n in range(11)],
        widget=forms.RadioSelect,
    )
    global_change = forms.TypedChoiceField(
        label=instruments.PGIC.items[0].text,
        coerce=int,
        choices=[(o.value, o.label) for o in instruments.PGIC_OPTIONS],
        widget=forms.RadioSelect,
    )
    soreness = forms.ChoiceField(
        label="Since the massage, have you had soreness?",
        choices=Soreness.choices,
        widget=forms.RadioSelect,
    )
    other_effects = forms.CharField(
        label="Anything else you noticed (bruising, dizziness, tingling...)?",
        max_length=300,
        required=False,
    )
    flare_up = forms.TypedChoiceField(
        label="Has your back pain flared up (come back or got clearly worse) since your course "
        "ended or your last check-in?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose yes or no."},
    )

    def __init__(self, *args: Any, follow_up: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if follow_up:
            del self.fields["soreness"]
            self.fields["other_effects"].label = "Anything you would like your therapist to know?"
        else:
            del self.fields["flare_up"]


class FlareUpForm(DomainErrorFormMixin, forms.Form):
    """A flare-up the clinic learnt of (by phone, at a visit...): when it began, and a note."""

    started_on = forms.DateField(
        label="When did it begin?",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the day it began.", "invalid": "Give a date."},
    )
    note = forms.CharField(label="Note (what set it off, how bad)", max_length=500, required=False)


# Questionnaires a patient answers online or staff enter from paper, with our own or shipped
# wording. The RMDQ and ODI need their licensed wording and are asked at the visit instead.
ANSWERABLE = ("pain_nrs", "stress_nrs", "sleep_nrs", "analgesic_days", "psfs")
PSFS_ROWS = 3


class AnswerForm(DomainErrorFormMixin, forms.Form):
    """One questionnaire: a rating per item (0-10 or 0-7), or for the PSFS a rating per
    activity (the activities named before, or new ones)."""

    def __init__(self, *args: Any, instrument: str, activities: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instruments.get_instrument(instrument)
        self.activities = activities
        if instrument == "psfs":
            self._psfs_fields()
            return
        items = self.instrument.items[:1] if instrument == "pain_nrs" else self.instrument.items
        for item in items:
            self.fields[item.id] = _rating(str(item.text), item.low or 0, item.high or 10)

    def _psfs_fields(self) -> None:
        scale = "0 = unable to do it, 10 = able to do it as before the problem"
        for n, activity in enumerate(self.activities or [""] * PSFS_ROWS, start=1):
            if not activity:
                self.fields[f"activity_{n}"] = forms.CharField(
                    label=f"Activity {n} that your back makes hard",
                    max_length=150,
                    required=n == 1,
                )
            label = (
                f"How well can you do this now: {activity}?"
                if activity
                else (f"Activity {n}: how well can you do it now?")
            )
            self.fields[f"rating_{n}"] = _rating(f"{label} ({scale})", 0, 10, required=n == 1)

    def answers(self) -> dict[str, Any]:
        """The answers in the instrument's shape (`clinical.instruments.score`)."""
        data = self.cleaned_data
        if self.instrument.code != "psfs":
            return {name: data[name] for name in self.fields}
        rows = []
        for n in range(1, len(self.activities or [""] * PSFS_ROWS) + 1):
            name = self.activities[n - 1] if self.activities else data.get(f"activity_{n}")
            if name and data.get(f"rating_{n}") is not None:
                rows.append((name, data[f"rating_{n}"]))
        return {"activities": [a for a, _ in rows], "ratings": [r for _, r in rows]}


def _rating(label: str, low: int, high: int, *, required: bool = True) -> forms.Field:
    return forms.TypedChoiceField(
        label=label,
        coerce=int,
        choices=[(n, str(n)) for n in range(low, high + 1)],
        widget=forms.RadioSelect(attrs={"class": "scale"}),
        required=required,
        empty_value=None,
    )
