from typing import Any

from django import forms


class AuditFilterForm(forms.Form):
    """Filters of the audit log. The view fills the person choices from the clinic."""

    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    patient_search = forms.CharField(
        required=False, max_length=100, label="Find a patient", help_text="Part of a name or email."
    )
    actor = forms.UUIDField(required=False, label="Person", widget=forms.Select)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)


class AnalyticsPeriodForm(forms.Form):
    """The period of the clinic analytics: courses started from one date to another."""

    start = forms.DateField(
        required=False, label="Courses started from", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "Choose an end date on or after the start date.")
        return data
