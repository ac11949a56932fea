"""Forms for the patient record, the portal and consent."""

from __future__ import annotations

from typing import Any

from django import forms

from backcare.accounts.models import Clinic, Role, User
from backcare.accounts.queries import list_people_with_role
from backcare.clinical.body import BODY_AREAS
from backcare.core.forms import DomainErrorFormMixin
from backcare.patients.models import (
    ConsentMethod,
    ConsentText,
    Patient,
    PatientPreferences,
    PressurePreference,
)
from backcare.patients.services import CONTACT_FIELDS, DEMOGRAPHIC_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


_AUTOCOMPLETE = {
    "given_name": "given-name",
    "family_name": "family-name",
    "email": "email",
    "phone": "tel",
    "address_line1": "address-line1",
    "address_line2": "address-line2",
    "city": "address-level2",
    "region": "address-level1",
    "postal_code": "postal-code",
    "country": "country-name",
}


class PatientForm(DomainErrorFormMixin, forms.ModelForm):
    """The whole record, for staff. `clinic` limits the referrer to the clinic's clinicians."""

    referred_by: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Referring clinician",
        empty_label="None",
    )

    class Meta:
        model = Patient
        fields = [*DEMOGRAPHIC_FIELDS, *CONTACT_FIELDS, "referred_by"]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        referrer = self.fields["referred_by"]
        assert isinstance(referrer, forms.ModelChoiceField)
        referrer.queryset = list_people_with_role(clinic, Role.REFERRING_CLINICIAN)
        for name, token in _AUTOCOMPLETE.items():
            self.fields[name].widget.attrs["autocomplete"] = token


class ContactForm(DomainErrorFormMixin, forms.ModelForm):
    """Contact and emergency-contact details: what a patient may change in the portal."""

    class Meta:
        model = Patient
        fields = list(CONTACT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, token in _AUTOCOMPLETE.items():
            if name in self.fields:
                self.fields[name].widget.attrs["autocomplete"] = token


class PreferencesForm(DomainErrorFormMixin, forms.ModelForm):
    pressure = forms.TypedChoiceField(
        choices=[("", "No preference"), *PressurePreference.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label="Pressure preference",
    )
    avoid_areas = forms.MultipleChoiceField(
        choices=[(area.code, area.label) for area in BODY_AREAS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Areas not to be touched",
    )

    class Meta:
        model = PatientPreferences
        fields = [
            "pressure",
            "avoid_areas",
            "avoid_areas_note",
            "therapist_gender",
            "language",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"notes": "Anything else your therapist should know"}


class ConsentForm(DomainErrorFormMixin, forms.Form):
    """Staff recording paper or verbal consent to one of the clinic's current texts."""

    text: forms.ModelChoiceField[ConsentText] = forms.ModelChoiceField(
        queryset=None, label="Consent text"
    )
    method = forms.ChoiceField(
        choices=[(m.value, m.label) for m in ConsentMethod if m != ConsentMethod.PORTAL],
        widget=forms.RadioSelect,
        label="How was consent given?",
    )

    def __init__(self, *args: Any, texts: list[ConsentText], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["text"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ConsentText.objects.filter(pk__in=[t.pk for t in texts])


class PatientSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Find a patient")
