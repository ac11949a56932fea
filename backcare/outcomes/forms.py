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
    domain, RULES.md §3.9)."""

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
