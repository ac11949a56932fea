from django import forms


class AuditFilterForm(forms.Form):
    """Filters of the audit log. The view fills the person choices from the clinic."""

    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    actor = forms.UUIDField(required=False, label="Person", widget=forms.Select)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
