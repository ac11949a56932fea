from django import forms


class AuditFilterForm(forms.Form):
    """Filters of the audit log. The view fills the person choices from the clinic."""

    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    patient_search = forms.CharField(
        required=False, max_length=100, label="Find a patient", help_text="Part of a name or email."
    )
    actor = forms.UUIDField(required=False, label="Person", widget=forms.Select)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
