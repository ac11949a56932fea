"""Forms of the safety pages: referral letters, clearances, hold overrides and the re-screen."""

from typing import Any

from django import forms

from backcare.clinical.body import CLINICAL_REGIONS
from backcare.core.forms import DomainErrorFormMixin
from backcare.patients.forms import DateInput
from backcare.triage.vocabulary import PRESSURE_LEVELS, RESCREEN_QUESTIONS, TECHNIQUES

YES, NO, NOT_SURE = "yes", "no", "not_sure"
_ANSWERS = {YES: True, NO: False, NOT_SURE: None}


class ReferralLetterForm(DomainErrorFormMixin, forms.Form):
    """A letter to the patient's doctor about their latest screening. The "send to the
    referring clinician" box is offered only when the patient has one with a BackCare login."""

    recipient_name = forms.CharField(
        label="Doctor's name",
        max_length=150,
        required=False,
        help_text="Leave empty to address the letter to the referring clinician.",
    )
    recipient_address = forms.CharField(
        label="Doctor's address or practice",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note = forms.CharField(
        label="Note to the doctor",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    send_to_referrer = forms.BooleanField(required=False)

    def __init__(self, *args: Any, referrer_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if referrer_name:
            self.fields["send_to_referrer"].label = (
                f"Send to the referring clinician, {referrer_name} (BackCare user), who can read "
                "it and record the clearance"
            )
        else:
            del self.fields["send_to_referrer"]
            self.fields["recipient_name"].required = True
            self.fields["recipient_name"].help_text = ""


class ClearanceForm(DomainErrorFormMixin, forms.Form):
    """A clinician's clearance with its conditions and the signed document. The document is
    checked by the service (`check_document`), which names what is wrong with it."""

    clinician_name = forms.CharField(label="Clinician's name", max_length=150)
    clinician_role = forms.CharField(
        label="Clinician's role",
        max_length=100,
        help_text="For example GP, surgeon, oncologist, obstetrician.",
    )
    cleared_on = forms.DateField(label="Date cleared", widget=DateInput())
    valid_until = forms.DateField(
        label="Valid until",
        required=False,
        widget=DateInput(),
        help_text="Leave empty if the clearance has no end date.",
    )
    restricted_regions = forms.MultipleChoiceField(
        label="Regions not to be massaged",
        choices=[(r.code, r.label) for r in CLINICAL_REGIONS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    excluded_techniques = forms.MultipleChoiceField(
        label="Techniques not to be used",
        choices=TECHNIQUES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_pressure_level = forms.TypedChoiceField(
        label="Highest pressure allowed (Walton scale 0 to 5)",
        choices=[("", "No limit"), *PRESSURE_LEVELS],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    conditions = forms.CharField(
        label="Other conditions or restrictions",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    document = forms.FileField(
        label="Signed clearance (PDF, JPEG or PNG)",
        required=False,
        allow_empty_file=True,
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )


class OverrideForm(DomainErrorFormMixin, forms.Form):
    """Why the patient may be booked without a clearance (the service checks the reason)."""

    reason = forms.CharField(
        label="Reason for booking without a clearance",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who decided, on what information. This is kept in the patient's record.",
    )


class RescreenForm(DomainErrorFormMixin, forms.Form):
    """The short safety questions before a visit. "Not sure" is kept as unanswered, never as
    "no"; every question needs one of the three answers."""

    changes_since_last = forms.CharField(
        label="Has anything changed since your last visit?",
        help_text="New symptoms, medicines, falls, procedures or anything else.",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, for_patient: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        questions = {}
        for code, text, _ in RESCREEN_QUESTIONS:
            questions[code] = forms.ChoiceField(
                label=text,
                choices=[(YES, "Yes"), (NO, "No"), (NOT_SURE, "Not sure")],
                widget=forms.RadioSelect,
                error_messages={"required": "Choose yes, no or not sure."},
            )
        # The questions first, the free text last.
        self.fields = {**questions, "changes_since_last": self.fields["changes_since_last"]}
        if not for_patient:
            self.fields["changes_since_last"].label = "Changes since the last visit"

    def rule_inputs(self) -> tuple[dict[str, bool | None], dict[str, bool | None]]:
        """(red-flag items, contraindication conditions) from the answers: True, False, or
        None for "not sure"."""
        items: dict[str, bool | None] = {}
        conditions: dict[str, bool | None] = {}
        for code, _, feeds in RESCREEN_QUESTIONS:
            value = _ANSWERS[self.cleaned_data[code]]
            for target, name in feeds:
                (items if target == "triage" else conditions)[name] = value
        return items, conditions
