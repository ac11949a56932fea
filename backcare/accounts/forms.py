"""Forms: parse and validate input for the accounts pages; services do the writing."""

from typing import Any

from django import forms

from backcare.accounts.models import (
    STAFF_ROLES,
    Clinic,
    Licence,
    Role,
    Room,
    Therapist,
    time_zone_names,
)
from backcare.accounts.queries import list_techniques
from backcare.core.forms import DomainErrorFormMixin
from backcare.core.models import WebhookEvent


class ClinicForm(DomainErrorFormMixin, forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=lambda: [(name, name) for name in time_zone_names()],
        help_text="Appointment times are shown in this time zone.",
    )

    class Meta:
        model = Clinic
        fields = [
            "name",
            "time_zone",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "email",
        ]


class RoomForm(DomainErrorFormMixin, forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name"]
        labels = {"name": "Room name"}


class MemberForm(DomainErrorFormMixin, forms.Form):
    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(max_length=150, label="Full name")
    role = forms.ChoiceField(
        choices=[(role.value, role.label) for role in Role if role in STAFF_ROLES],
        help_text="Patients get a portal login from their record instead.",
    )


class TherapistProfileForm(DomainErrorFormMixin, forms.ModelForm):
    techniques = forms.ModelMultipleChoiceField(
        queryset=list_techniques(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The techniques you offer. Ask an admin to add one that is missing.",
    )

    class Meta:
        model = Therapist
        fields = ["gender", "years_of_experience", "languages", "bio", "techniques"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["techniques"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = list_techniques()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class LicenceForm(DomainErrorFormMixin, forms.ModelForm):
    class Meta:
        model = Licence
        fields = ["number", "issuing_board", "jurisdiction", "licence_type", "expires_on"]
        widgets = {"expires_on": DateInput()}
        help_texts = {"expires_on": "The last day the licence is valid."}


class ActiveForm(forms.Form):
    """Take something out of use (0) or bring it back (1); the choice must be given."""

    active = forms.TypedChoiceField(choices=[("0", "Out of use"), ("1", "In use")], coerce=int)


class InvitationAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", "Accept"), ("decline", "Decline")])


class ClinicSwitchForm(forms.Form):
    clinic = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, allowed: tuple[Clinic, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = {clinic.pk: clinic for clinic in allowed}

    def clean_clinic(self) -> Clinic:
        clinic = self.allowed.get(self.cleaned_data["clinic"])
        if clinic is None:
            raise forms.ValidationError("You are not a member of that clinic.")
        return clinic


class ApiTokenForm(DomainErrorFormMixin, forms.Form):
    name = forms.CharField(
        max_length=80, help_text="What uses it, so you know which to revoke (e.g. Reports script)."
    )
    access = forms.ChoiceField(
        choices=[("read", "Read only"), ("write", "Read and write (book, cancel, record)")],
        initial="read",
        widget=forms.RadioSelect,
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=[("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"), ("", "Never")],
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )


class WebhookEndpointForm(DomainErrorFormMixin, forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="The https:// address of your system that receives the events.",
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Events carry ids only, never clinical text.",
        error_messages={"required": "Choose at least one event."},
    )
