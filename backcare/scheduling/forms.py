"""Forms of the booking pages: what to look for, and the slot chosen."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django import forms

from backcare.accounts.models import Therapist
from backcare.core.forms import DomainErrorFormMixin
from backcare.scheduling.models import MAX_COURSE_SESSIONS, Service

ANY_THERAPIST = "any"


class BookingSearchForm(DomainErrorFormMixin, forms.Form):
    """Service, therapist (or any suitable therapist) and the week to show."""

    service = forms.ChoiceField(
        label="Service", widget=forms.RadioSelect, error_messages={"required": "Choose a service."}
    )
    therapist = forms.ChoiceField(label="Therapist", required=False)
    sessions = forms.IntegerField(
        label="Weekly sessions",
        min_value=1,
        max_value=MAX_COURSE_SESSIONS,
        required=False,
        help_text="1 for a single session; more books a course at the same time every week.",
    )
    week = forms.DateField(
        label="Week starting",
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        help_text="We show free times for seven days from this date.",
    )

    def __init__(
        self,
        *args: Any,
        services: list[Service],
        therapists: list[Therapist],
        today: date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        service_field = self.fields["service"]
        therapist_field = self.fields["therapist"]
        assert isinstance(service_field, forms.ChoiceField)
        assert isinstance(therapist_field, forms.ChoiceField)
        service_field.choices = [(str(s.pk), _service_label(s)) for s in services]
        therapist_field.choices = [
            (ANY_THERAPIST, "Any suitable therapist"),
            *((str(t.pk), t.user.full_name) for t in therapists),
        ]

    def clean_week(self) -> date:
        week: date | None = self.cleaned_data.get("week")
        if week is None:
            return self.today
        if week < self.today:
            raise forms.ValidationError("Choose today or a later date.")
        if week > self.today + timedelta(days=365):
            raise forms.ValidationError("Choose a date within the next year.")
        return week


def _service_label(service: Service) -> str:
    return f"{service.name} · {service.duration_minutes} min · {service.price}"


class SlotForm(DomainErrorFormMixin, forms.Form):
    """The slot a patient or the front desk chose (the first of a course when `sessions` > 1)."""

    service = forms.UUIDField()
    therapist = forms.UUIDField()
    starts_at = forms.DateTimeField(
        error_messages={"invalid": "That time could not be read; choose a time from the list."}
    )
    sessions = forms.IntegerField(min_value=1, max_value=MAX_COURSE_SESSIONS, required=False)

    def overrides(self, data: Any) -> dict[int, datetime]:
        """Alternatives chosen for taken sessions of a course (fields `alt_<number>`)."""
        chosen: dict[int, datetime] = {}
        field = forms.DateTimeField()
        for key, value in data.items():
            if key.startswith("alt_") and key[4:].isdigit() and value:
                try:
                    chosen[int(key[4:])] = field.clean(value)
                except forms.ValidationError:
                    continue
        return chosen


class CalendarForm(forms.Form):
    """Which calendar to show: a day or a week, for one therapist or room, from a date."""

    view = forms.ChoiceField(
        choices=[("day", "Day"), ("week", "Week")], required=False, label="Show"
    )
    day = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    therapist = forms.ChoiceField(required=False, label="Therapist")
    room = forms.ChoiceField(required=False, label="Room")

    def __init__(
        self, *args: Any, therapists: list[Therapist], rooms: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        therapist_field = self.fields["therapist"]
        room_field = self.fields["room"]
        assert isinstance(therapist_field, forms.ChoiceField)
        assert isinstance(room_field, forms.ChoiceField)
        therapist_field.choices = [("", "All therapists")] + [
            (str(t.pk), t.user.full_name) for t in therapists
        ]
        room_field.choices = [("", "All rooms")] + [(str(r.pk), r.name) for r in rooms]


class WaitlistForm(DomainErrorFormMixin, forms.Form):
    """Join the waitlist: the service, a therapist or any, the days and the time of day."""

    service = forms.ChoiceField(label="Service", error_messages={"required": "Choose a service."})
    therapist = forms.ChoiceField(label="Therapist")
    first_date = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="The first day."
    )
    last_date = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}), help_text="The last day."
    )
    earliest_time = forms.TimeField(
        label="Not before",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Optional: the earliest start time.",
    )
    latest_time = forms.TimeField(
        label="Not after",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Optional: the latest start time.",
    )

    def __init__(
        self, *args: Any, services: list[Service], therapists: list[Therapist], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        service_field = self.fields["service"]
        therapist_field = self.fields["therapist"]
        assert isinstance(service_field, forms.ChoiceField)
        assert isinstance(therapist_field, forms.ChoiceField)
        service_field.choices = [(str(s.pk), _service_label(s)) for s in services]
        therapist_field.choices = [
            (ANY_THERAPIST, "Any suitable therapist"),
            *((str(t.pk), t.user.full_name) for t in therapists),
        ]

    def therapist_id(self) -> uuid.UUID | None:
        value = self.cleaned_data["therapist"]
        return None if value == ANY_THERAPIST else uuid.UUID(value)


class RescheduleForm(forms.Form):
    """The new time chosen for an appointment, and whether the later sessions of its course
    move along (the week it was chosen in comes back through `WeekForm`)."""

    starts_at = forms.DateTimeField(
        error_messages={
            "required": "Choose a new time from the list of free times.",
            "invalid": "That time could not be read; choose a time from the list of free times.",
        }
    )
    remaining_in_course = forms.BooleanField(required=False)


class WeekForm(forms.Form):
    """The week of free times to show (seven days from this date)."""

    week = forms.DateField(
        label="Week starting",
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        help_text="We show free times for seven days from this date.",
        error_messages={"invalid": "Enter a date, for example 2025-05-12."},
    )
