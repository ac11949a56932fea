"""Forms of the booking pages (what to look for, and the slot chosen) and of the clinic's
scheduling configuration (services, working hours, time off, settings)."""

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django import forms
from django.utils import timezone

from backcare.accounts.models import Room, Therapist
from backcare.accounts.queries import list_techniques
from backcare.core.forms import DomainErrorFormMixin, KnownRowsField
from backcare.scheduling.models import (
    MAX_CANCELLATION_WINDOW_HOURS,
    MAX_COURSE_SESSIONS,
    MAX_REMINDER_HOURS,
    MAX_WAITLIST_OFFER_HOURS,
    SchedulingSettings,
    Service,
    WorkingHours,
)

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


# --- Clinic configuration -------------------------------------------------------------------------


class ServiceForm(DomainErrorFormMixin, forms.ModelForm):
    """A service the clinic offers; untick "Offered" to retire it (it is never deleted)."""

    price = forms.DecimalField(
        min_value=0, max_digits=8, decimal_places=2, help_text="0 for a free service."
    )
    techniques = KnownRowsField(
        queryset=list_techniques(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The techniques a session of this service may use.",
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "duration_minutes",
            "buffer_minutes",
            "price",
            "techniques",
            "is_active",
        ]
        labels = {
            "duration_minutes": "Duration (minutes)",
            "buffer_minutes": "Turnover buffer (minutes)",
            "is_active": "Offered",
        }
        help_texts = {
            "duration_minutes": "5 to 480 minutes.",
            "buffer_minutes": "Time after each session before the therapist and room are free "
            "again (0 to 120).",
            "is_active": "Untick to retire the service: it can no longer be booked; booked "
            "appointments keep it.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["techniques"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = list_techniques()

    def service_args(self) -> dict[str, Any]:
        """The cleaned values as the services `add_service` and `change_service` take them."""
        data = dict(self.cleaned_data)
        data["technique_ids"] = [technique.pk for technique in data.pop("techniques")]
        return data


def _room_choices(rooms: Iterable[Room]) -> list[tuple[str, str]]:
    return [("", "No particular room")] + [(str(r.pk), r.name) for r in rooms if r.is_active]


class _HoursBlockForm(DomainErrorFormMixin, forms.Form):
    """A block of working hours, in the clinic's local time, with an optional room."""

    starts = forms.TimeField(label="Starts", widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label="Ends", widget=forms.TimeInput(attrs={"type": "time"}))
    room = forms.ChoiceField(label="Room", required=False)

    def __init__(self, *args: Any, rooms: Iterable[Room], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        room_field = self.fields["room"]
        assert isinstance(room_field, forms.ChoiceField)
        room_field.choices = _room_choices(rooms)

    def clean_room(self) -> uuid.UUID | None:
        value = self.cleaned_data.get("room")
        return uuid.UUID(value) if value else None

    def hours_args(self) -> dict[str, Any]:
        """The cleaned values as the service `add_working_hours` takes them."""
        data = dict(self.cleaned_data)
        data["room_id"] = data.pop("room")
        return data

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", "Must be after the start.")
        return data


class WeeklyHoursForm(_HoursBlockForm):
    """A block of the weekly pattern."""

    weekday = forms.TypedChoiceField(
        label="Day", choices=WorkingHours._meta.get_field("weekday").flatchoices, coerce=int
    )
    field_order = ["weekday", "starts", "ends", "room"]


class DatedHoursForm(_HoursBlockForm):
    """A block of a one-off change on one date: the blocks of a date replace the weekly pattern
    that day."""

    on_date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["on_date", "starts", "ends", "room"]

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_on_date(self) -> date:
        on_date: date = self.cleaned_data["on_date"]
        if on_date < self.today:
            raise forms.ValidationError("Choose today or a later date.")
        return on_date


class TimeOffForm(DomainErrorFormMixin, forms.Form):
    """Time off, typed in the clinic's local time (`zone`)."""

    starts_at = forms.DateTimeField(
        label="From",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        required=False,
        help_text="Holiday, training, illness. Visible to the clinic's admins and the therapist.",
    )

    def __init__(self, *args: Any, zone: tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def full_clean(self) -> None:
        # Typed times are the clinic's wall times, whichever zone the request runs in; a time
        # that does not exist or is ambiguous there (daylight-saving change) is refused.
        with timezone.override(self.zone):
            super().full_clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "Must be after the start.")
        return data


class SchedulingSettingsForm(DomainErrorFormMixin, forms.ModelForm):
    """The clinic's booking rules, reminders, text messages and waitlist offers."""

    cancellation_window_hours = forms.IntegerField(
        label="Cancellation window (hours)",
        min_value=0,
        max_value=MAX_CANCELLATION_WINDOW_HOURS,
        help_text=f"0 to {MAX_CANCELLATION_WINDOW_HOURS}. Patients may cancel or move an "
        "appointment up to this many hours before it; later, they call the clinic. Clinic staff "
        "may always.",
    )
    reminder_hours_before = forms.IntegerField(
        label="Reminder (hours before)",
        min_value=0,
        max_value=MAX_REMINDER_HOURS,
        help_text=f"0 to {MAX_REMINDER_HOURS}. Patients get a reminder this many hours before "
        "each appointment; 0 sends none.",
    )
    waitlist_offer_hours = forms.IntegerField(
        label="Waitlist offer (hours)",
        min_value=1,
        max_value=MAX_WAITLIST_OFFER_HOURS,
        help_text=f"1 to {MAX_WAITLIST_OFFER_HOURS}. A freed time offered to the first patient "
        "on the waitlist is theirs to take for this many hours, then it goes to the next.",
    )

    class Meta:
        model = SchedulingSettings
        fields = [
            "cancellation_window_hours",
            "new_patients_need_approval",
            "reminder_hours_before",
            "sms_enabled",
            "waitlist_offer_hours",
        ]
