"""Reads for scheduling: services, and free slots computed by the pure slot engine from one
indexed range query per kind of busy time, whatever the size of the history."""

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from backcare.accounts.models import Clinic, Role, Therapist
from backcare.accounts.queries import (
    ADMIN_ROLES,
    CLINIC_STAFF_ROLES,
    Viewer,
    bookable_until,
    clinics_where,
    deny,
    list_bookable_therapists,
    require_roles,
    roles_in,
    therapist_at_clinic,
)
from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError
from backcare.core.export import ExportTable, table_of
from backcare.core.paging import page_after
from backcare.patients.models import Patient
from backcare.patients.queries import SEE_ALL_ROLES, find_patient
from backcare.plans.queries import techniques_needed
from backcare.scheduling.models import (
    ACTIVE_STATUSES,
    CHANGEABLE_STATUSES,
    Appointment,
    AppointmentStatus,
    CalendarFeed,
    Course,
    Notification,
    SchedulingSettings,
    Service,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
    WorkingHours,
)
from backcare.scheduling.slots import (
    Interval,
    WeeklyHours,
    free_slots,
    subtract,
    working_intervals,
)
from backcare.triage.queries import HoldStatus, hold_status

SLOT_STEP = timedelta(minutes=15)
WEEK = timedelta(days=7)
# Longer than any appointment with its buffer (a service lasts at most 480 + 120 minutes).
LONGEST_BLOCK = timedelta(days=1)
# Free times are offered up to a year ahead, as on the booking page.
WEEKS_AHEAD_LIMIT = timedelta(days=365)


def list_services(viewer: Viewer, clinic: Clinic | None) -> list[Service]:
    """The clinic's active services, for anyone with a role there (patients book online)."""
    clinic = require_roles(viewer, clinic, list(Role), action="service.list")
    return list(Service.objects.filter(clinic=clinic, is_active=True))


def service_of(clinic_id: uuid.UUID, service_id: uuid.UUID) -> Service | None:
    """An active service of the clinic (not patient data; for services that checked access)."""
    return Service.objects.filter(clinic_id=clinic_id, pk=service_id, is_active=True).first()


def scheduling_settings(clinic_id: uuid.UUID) -> SchedulingSettings:
    """The clinic's scheduling settings; an unsaved row with the defaults (a 24-hour
    cancellation window, no approval of new patients) when the clinic never changed them.
    Not patient data: for services and views that checked the viewer."""
    found = SchedulingSettings.objects.filter(clinic_id=clinic_id).first()
    return found if found is not None else SchedulingSettings(clinic_id=clinic_id)


def working_time(
    clinic: Clinic, therapist_id: uuid.UUID, first_day: date, last_day: date
) -> list[Interval]:
    """The therapist's working intervals at the clinic, minus time off (two queries): the weekly
    pattern, except on dates with their own rows (one-off changes), which replace it."""
    return working_times(clinic, [therapist_id], first_day, last_day)[therapist_id]


def working_times(
    clinic: Clinic, therapist_ids: Collection[uuid.UUID], first_day: date, last_day: date
) -> dict[uuid.UUID, list[Interval]]:
    """`working_time` for several therapists at once, by therapist (two queries whatever their
    number, one when nobody works in the range)."""
    hours: dict[uuid.UUID, list[WeeklyHours]] = {pk: [] for pk in therapist_ids}
    exceptions: dict[uuid.UUID, dict[date, list[tuple[time, time]]]] = {
        pk: {} for pk in therapist_ids
    }
    rows = WorkingHours.objects.filter(clinic=clinic, therapist_id__in=list(hours)).filter(
        Q(on_date__isnull=True) | Q(on_date__range=(first_day, last_day))
    )
    for therapist_id, weekday, starts, ends, on_date in rows.values_list(
        "therapist_id", "weekday", "starts", "ends", "on_date"
    ):
        if on_date is None:
            hours[therapist_id].append(WeeklyHours(weekday, starts, ends))
        else:
            exceptions[therapist_id].setdefault(on_date, []).append((starts, ends))
    working = {
        pk: working_intervals(
            hours[pk],
            zone=clinic.zone,
            first_day=first_day,
            last_day=last_day,
            exceptions=exceptions[pk],
        )
        for pk in hours
    }
    span = _span(working.values())
    if span is None:
        return working
    off: dict[uuid.UUID, list[Interval]] = {pk: [] for pk in working}
    for therapist_id, starts_at, ends_at in TimeOff.objects.filter(
        therapist_id__in=[pk for pk, intervals in working.items() if intervals],
        starts_at__lt=span.end,
        ends_at__gt=span.start,
    ).values_list("therapist_id", "starts_at", "ends_at"):
        off[therapist_id].append(Interval(starts_at, ends_at))
    return {
        pk: subtract(intervals, off[pk]) if intervals else [] for pk, intervals in working.items()
    }


def _span(groups: Iterable[list[Interval]]) -> Interval | None:
    """From the earliest start to the latest end of sorted interval lists, None if all empty."""
    filled = [intervals for intervals in groups if intervals]
    if not filled:
        return None
    return Interval(
        min(intervals[0].start for intervals in filled),
        max(intervals[-1].end for intervals in filled),
    )


def busy_times(
    *,
    clinic_id: uuid.UUID,
    therapist_id: uuid.UUID,
    start: datetime,
    end: datetime,
    room_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    exclude_appointment_ids: Collection[uuid.UUID] = (),
) -> list[Interval]:
    """Busy intervals of the therapist and the room (each appointment with its turnover
    buffer) and of the patient (their appointments without the buffer, which is the
    therapist's) between `start` and `end`: one query on the appointment time indexes.
    `exclude_appointment_ids` leaves out appointments being moved (their own times are not in
    their way). Rooms and patients are the clinic's (`clinic_id` leads their indexes); the
    therapist's appointments are looked up across clinics."""
    return busy_times_of(
        clinic_id=clinic_id,
        therapist_ids=[therapist_id],
        start=start,
        end=end,
        room_id=room_id,
        patient_id=patient_id,
        exclude_appointment_ids=exclude_appointment_ids,
    )[therapist_id]


def busy_times_of(
    *,
    clinic_id: uuid.UUID,
    therapist_ids: Collection[uuid.UUID],
    start: datetime,
    end: datetime,
    room_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    exclude_appointment_ids: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, list[Interval]]:
    """`busy_times` for several therapists at once, by therapist (one query whatever their
    number): each therapist's own appointments (across clinics), plus the room's and the
    patient's at the clinic, which are in every therapist's way."""
    ids = list(dict.fromkeys(therapist_ids))
    who = Q(therapist_id__in=ids)
    if room_id is not None:
        who |= Q(clinic_id=clinic_id, room_id=room_id)
    if patient_id is not None:
        who |= Q(clinic_id=clinic_id, patient_id=patient_id)
    found = Appointment.objects.filter(who, status__in=ACTIVE_STATUSES).filter(
        starts_at__lt=end,
        blocked_until__gt=start,
        # Implied by the line above (no appointment blocks a day); it bounds the index range
        # on (therapist, starts_at), so that years of history are not read (issue 10).
        starts_at__gt=start - LONGEST_BLOCK,
    )
    if exclude_appointment_ids:
        found = found.exclude(pk__in=list(exclude_appointment_ids))
    rows = list(
        found.values_list(
            "therapist_id",
            "clinic_id",
            "room_id",
            "patient_id",
            "starts_at",
            "ends_at",
            "blocked_until",
        )
    )
    busy: dict[uuid.UUID, list[Interval]] = {pk: [] for pk in ids}
    for therapist, clinic, room, patient, starts, ends, blocked in rows:
        in_room = room is not None and room == room_id and clinic == clinic_id
        of_patient = patient_id is not None and patient == patient_id and clinic == clinic_id
        # A row that is neither the room's nor the patient's is one of the therapists' own.
        for pk in ids if in_room or of_patient else [therapist]:
            busy[pk].append(Interval(starts, blocked if pk == therapist or in_room else ends))
    return busy


def free_starts(
    clinic: Clinic,
    *,
    therapist_id: uuid.UUID,
    service: Service,
    first_day: date,
    last_day: date,
    not_before: datetime,
    room_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    exclude_appointment_ids: Collection[uuid.UUID] = (),
) -> list[datetime]:
    """Start instants at which `service` fits with the therapist (three queries). Not audited:
    for services and queries that checked the viewer."""
    return free_starts_of(
        clinic,
        therapist_ids=[therapist_id],
        service=service,
        first_day=first_day,
        last_day=last_day,
        not_before=not_before,
        room_id=room_id,
        patient_id=patient_id,
        exclude_appointment_ids=exclude_appointment_ids,
    )[therapist_id]


def free_starts_of(
    clinic: Clinic,
    *,
    therapist_ids: Collection[uuid.UUID],
    service: Service,
    first_day: date,
    last_day: date,
    not_before: datetime,
    room_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    exclude_appointment_ids: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, list[datetime]]:
    """`free_starts` for several therapists, by therapist: three queries whatever their number
    (working hours, time off and busy times, each for all of them; issue 10). Not audited."""
    working = working_times(clinic, therapist_ids, first_day, last_day)
    span = _span(working.values())
    if span is None:
        return {pk: [] for pk in working}
    # Busy times outside a therapist's own working time are harmless: slots lie inside it.
    busy = busy_times_of(
        clinic_id=clinic.pk,
        therapist_ids=[pk for pk, intervals in working.items() if intervals],
        start=span.start,
        end=span.end,
        room_id=room_id,
        patient_id=patient_id,
        exclude_appointment_ids=exclude_appointment_ids,
    )
    length = timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    return {
        pk: free_slots(intervals, busy[pk], length=length, step=SLOT_STEP, not_before=not_before)
        if intervals
        else []
        for pk, intervals in working.items()
    }


def get_availability(
    viewer: Viewer,
    clinic: Clinic | None,
    *,
    therapist: Therapist,
    service_id: uuid.UUID,
    first_day: date,
    last_day: date,
    now: datetime,
    patient_id: uuid.UUID | None = None,
) -> list[datetime]:
    """Free start instants for a service with a therapist, for anyone with a role at the clinic.
    Slots only, never who is booked (no patient data). With `patient_id` (a patient the caller
    already found for the viewer), times the patient is already booked elsewhere are not free."""
    clinic = require_roles(viewer, clinic, list(Role), action="availability.view")
    service = service_of(clinic.pk, service_id)
    if service is None:
        return []
    return free_starts(
        clinic,
        therapist_id=therapist.pk,
        service=service,
        first_day=first_day,
        last_day=last_day,
        not_before=now,
        patient_id=patient_id,
    )


def get_week_availability(
    viewer: Viewer,
    clinic: Clinic,
    *,
    therapists: list[Therapist],
    service_id: uuid.UUID,
    first_day: date,
    last_day: date,
    now: datetime,
    patient_id: uuid.UUID | None = None,
    listed_services: Collection[Service] = (),
) -> list[tuple[datetime, Therapist]]:
    """Free starts with each of `therapists` between two days, as `get_availability`, in a fixed
    number of queries whatever the number of therapists or days (issue 10): the service, the
    last day each stays bookable, and working hours, time off and busy times for all of them at
    once. The days after a therapist's licence lapses within the range are left out.
    `listed_services`: the clinic's services the caller already listed for the viewer
    (`list_services`), so that the service is not read again."""
    require_roles(viewer, clinic, list(Role), action="availability.view")
    service = next((s for s in listed_services if s.pk == service_id), None)
    service = service or service_of(clinic.pk, service_id)
    if service is None:
        return []
    starts = free_starts_of(
        clinic,
        therapist_ids=[therapist.pk for therapist in therapists],
        service=service,
        first_day=first_day,
        last_day=last_day,
        not_before=now,
        patient_id=patient_id,
    )
    until = bookable_until(viewer, clinic, [pk for pk, found in starts.items() if found])
    # The clinic's midnight after each last day: an instant to compare, not a date per start.
    zone = clinic.zone
    ends = {
        pk: datetime.combine(day + timedelta(days=1), time(0), zone) for pk, day in until.items()
    }
    return [
        (start, therapist)
        for therapist in therapists
        if therapist.pk in ends
        for start in starts[therapist.pk]
        if start < ends[therapist.pk]
    ]


# The most days one availability search covers (the JSON API; the booking page shows a week).
AVAILABILITY_DAYS_MAX = 31


def get_therapist_availability(
    viewer: Viewer,
    clinic: Clinic | None,
    *,
    therapist_id: uuid.UUID,
    service_id: uuid.UUID,
    first_day: date,
    last_day: date,
    now: datetime,
    patient_id: uuid.UUID | None = None,
) -> list[datetime]:
    """Free starts for a service with one therapist of the clinic between two days (inclusive),
    by the booking page's own slot logic (`get_week_availability`: working hours, time off,
    bookings, the licence on each day), for anyone with a role at the clinic. With `patient_id`
    (a patient the viewer may see; audited as `availability.view`), times the patient is booked
    elsewhere are not free. `InvalidInputError` for days out of order, more than
    `AVAILABILITY_DAYS_MAX` of them, or beyond the year ahead the booking page offers;
    `NotFoundError` (audited) for a therapist who does not work there or a patient not seen."""
    clinic = require_roles(viewer, clinic, list(Role), action="availability.view")
    _check_search_days(clinic, first_day, last_day)
    therapist = therapist_at_clinic(clinic, therapist_id)
    if therapist is None:
        raise deny(
            viewer,
            action="availability.view",
            clinic_id=clinic.pk,
            object_type="accounts.therapist",
            object_id=str(therapist_id),
        )
    if patient_id is not None:
        patient = find_patient(viewer, patient_id, action="availability.view")
        record_event(
            actor=viewer,
            action="availability.view",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            detail={"therapist": str(therapist.pk)},
        )
    # Past days have no free time; starting at today also keeps far-past dates off the clock.
    first_day = max(first_day, clinic.local_date(now))
    if last_day < first_day:
        return []
    found = get_week_availability(
        viewer,
        clinic,
        therapists=[therapist],
        service_id=service_id,
        first_day=first_day,
        last_day=last_day,
        now=now,
        patient_id=patient_id,
    )
    return [start for start, _ in found]


def _check_search_days(clinic: Clinic, first_day: date, last_day: date) -> None:
    today = clinic.local_date()
    if last_day < first_day:
        raise InvalidInputError(
            "The last day comes before the first.", field_errors={"last_day": "Before first_day."}
        )
    if (last_day - first_day).days >= AVAILABILITY_DAYS_MAX:
        raise InvalidInputError(
            f"Search at most {AVAILABILITY_DAYS_MAX} days at a time.",
            field_errors={"last_day": f"At most {AVAILABILITY_DAYS_MAX} days after first_day."},
        )
    if last_day > today + WEEKS_AHEAD_LIMIT:
        raise InvalidInputError(
            "Free times are offered up to a year ahead.",
            field_errors={"last_day": "At most a year ahead."},
        )


def list_suitable_therapists(
    viewer: Viewer, clinic: Clinic | None, patient_id: uuid.UUID, *, on: date
) -> list[Therapist]:
    """Therapists who may be booked on `on` (a verified licence in force) and offer every
    technique the patient's active treatment plan needs: "any suitable therapist". For anyone
    with a role at the clinic; one query for the plan and one for the therapists."""
    found = list_bookable_therapists(viewer, clinic, on=on)
    for code in sorted(techniques_needed(patient_id)):
        found = found.filter(techniques__code=code)
    return list(found.distinct())


@dataclass(frozen=True)
class AppointmentListing:
    """A patient's appointments: `upcoming` (booked or waiting for approval, not yet over),
    soonest first; `past` (over, cancelled or not attended), latest first. `movable_ids`: the
    upcoming ones that have not started, when the viewer may move them (the patient or clinic
    staff, not a referring clinician)."""

    patient: Patient
    upcoming: list[Appointment]
    past: list[Appointment]
    movable_ids: frozenset[uuid.UUID] = frozenset()


def list_patient_appointments(
    viewer: Viewer,
    patient_id: uuid.UUID,
    *,
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
) -> AppointmentListing:
    """The appointments of a patient the viewer may see (the patient, their clinic's staff, a
    referring clinician), optionally only those starting between two dates (inclusive, the
    clinic's calendar); one `appointment.list` event. `NotFoundError` (audited) otherwise."""
    patient = find_patient(viewer, patient_id, action="appointment.list")
    found = _appointments_between(patient, first_day, last_day)
    rows = list(found.select_related("service", "therapist__user", "room").order_by("starts_at"))
    upcoming = [a for a in rows if a.status in CHANGEABLE_STATUSES and a.ends_at > now]
    coming = {a.pk for a in upcoming}
    past = [a for a in reversed(rows) if a.pk not in coming]
    record_event(
        actor=viewer,
        action="appointment.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(rows)},
    )
    may_move = patient.user_id == viewer.pk or patient.clinic_id in clinics_where(
        viewer, SEE_ALL_ROLES
    )
    movable = frozenset(a.pk for a in upcoming if may_move and a.starts_at > now)
    return AppointmentListing(patient=patient, upcoming=upcoming, past=past, movable_ids=movable)


def page_of_patient_appointments(
    viewer: Viewer,
    patient_id: uuid.UUID,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    offset: int,
    limit: int,
) -> tuple[int, list[Appointment]]:
    """How many appointments of a patient the viewer may see start between two dates
    (inclusive, the clinic's calendar; cancelled ones included), and the `limit` of them from
    `offset` by start, counted and sliced in SQL; same scoping as `list_patient_appointments`
    and one `appointment.list` event. `NotFoundError` (audited) otherwise."""
    patient = find_patient(viewer, patient_id, action="appointment.list")
    found = _appointments_between(patient, first_day, last_day).order_by("starts_at", "pk")
    rows = list(found[offset : offset + limit])
    total = offset + len(rows) if 0 < len(rows) < limit else found.count()
    record_event(
        actor=viewer,
        action="appointment.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": total},
    )
    return total, rows


def _appointments_between(
    patient: Patient, first_day: date | None, last_day: date | None
) -> QuerySet[Appointment]:
    found = Appointment.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    zone = patient.clinic.zone
    if first_day is not None:
        found = found.filter(starts_at__gte=datetime.combine(first_day, time.min, tzinfo=zone))
    if last_day is not None and last_day < date.max:  # no day follows the calendar's last
        after = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        found = found.filter(starts_at__lt=after)
    return found


def change_refusal(
    viewer: Viewer, appointment: Appointment, clinic: Clinic, *, verb: str, now: datetime
) -> str:
    """Why the viewer may not change (`verb`: "moved", "cancelled") the appointment at `now`,
    or "" when they may: only booked or requested appointments change; a patient changes theirs
    only before the clinic's cancellation window, clinic staff always. For services and queries
    that checked the viewer may see the appointment (not audited)."""
    if appointment.status not in CHANGEABLE_STATUSES:
        return f"Only a booked or requested appointment can be {verb}."
    if clinic.pk in clinics_where(viewer, SEE_ALL_ROLES):
        return ""
    hours = scheduling_settings(clinic.pk).cancellation_window_hours
    if appointment.starts_at - now < timedelta(hours=hours):
        unit = "hour" if hours == 1 else "hours"
        phone = f" on {clinic.phone}" if clinic.phone else ""
        return (
            f"Appointments can be changed up to {hours} {unit} before; "
            f"please call the clinic{phone}."
        )
    return ""


@dataclass(frozen=True)
class RescheduleOptions:
    """What the page for moving an appointment shows: the appointment (with its service,
    therapist and room), its patient (with the clinic), and the free starts with the same
    therapist and service in the seven days from `week_start`, as aware UTC datetimes.

    `refusal` says why the viewer may not move it now ("" when they may) and `hold` whether the
    patient may be booked at all; `free` is empty unless both allow. `later_sessions` counts the
    booked or requested sessions of its course after it (0 outside a course). `week_error` says
    why the week asked for was not shown (the default week is shown instead)."""

    appointment: Appointment
    patient: Patient
    today: date
    week_start: date
    free: list[datetime]
    refusal: str
    hold: HoldStatus
    later_sessions: int
    week_error: str = ""

    @property
    def clinic(self) -> Clinic:
        return self.patient.clinic

    @property
    def previous_week(self) -> date | None:
        """The start of the week before (never before today), or None from today."""
        if self.week_start <= self.today:
            return None
        return max(self.today, self.week_start - WEEK)

    @property
    def next_week(self) -> date | None:
        """The start of the week after, or None when it would be more than a year ahead."""
        following = self.week_start + WEEK
        return following if following <= self.today + WEEKS_AHEAD_LIMIT else None


def get_reschedule_options(
    viewer: Viewer, appointment_id: uuid.UUID, week_start: date | None, *, now: datetime
) -> RescheduleOptions:
    """The appointment and where it may move to in the week from `week_start` (by default the
    week of the appointment, from Monday, but never before today): free starts with the same
    therapist (on days their licence allows booking) and service, clear of the patient's
    other appointments and of the room, the appointment's own time not in its way (its current
    start itself is left out). A week before today or more than a year ahead is not shown:
    `week_error` says so.

    For the patient and their clinic's staff; anyone else gets `NotFoundError` (audited). One
    `appointment.view` event. A fixed number of queries, whatever the number of appointments.
    """
    appointment = (
        Appointment.objects.filter(pk=appointment_id)
        .select_related("service", "therapist__user", "room")
        .first()
    )
    if appointment is None:
        raise deny(
            viewer,
            action="appointment.view",
            object_type="scheduling.appointment",
            object_id=str(appointment_id),
        )
    patient = find_patient(
        viewer, appointment.patient_id, roles=SEE_ALL_ROLES, action="appointment.view"
    )
    clinic = patient.clinic
    today = clinic.local_date(now)
    week_error = ""
    if week_start is not None and not today <= week_start <= today + WEEKS_AHEAD_LIMIT:
        week_error = (
            "Choose today or a later date."
            if week_start < today
            else "Choose a date within the next year."
        )
    if week_start is None or week_error:
        day = clinic.local_date(appointment.starts_at)
        week_start = max(today, day - timedelta(days=day.weekday()))
    refusal = change_refusal(viewer, appointment, clinic, verb="moved", now=now)
    hold = hold_status(patient)
    later_sessions = 0
    if appointment.course_id is not None:
        later_sessions = Appointment.objects.filter(
            clinic_id=clinic.pk,
            course_id=appointment.course_id,
            status__in=CHANGEABLE_STATUSES,
            starts_at__gt=appointment.starts_at,
        ).count()
    free: list[datetime] = []
    if not refusal and hold.may_book:
        free = _move_starts(viewer, clinic, appointment, week_start, now=now)
    record_event(
        actor=viewer,
        action="appointment.view",
        clinic_id=clinic.pk,
        patient_id=patient.pk,
        obj=appointment,
        detail={"purpose": "reschedule", "week": week_start.isoformat(), "free": len(free)},
    )
    return RescheduleOptions(
        appointment=appointment,
        patient=patient,
        today=today,
        week_start=week_start,
        free=free,
        refusal=refusal,
        hold=hold,
        later_sessions=later_sessions,
        week_error=week_error,
    )


def _move_starts(
    viewer: Viewer, clinic: Clinic, appointment: Appointment, first_day: date, *, now: datetime
) -> list[datetime]:
    """Free starts for the appointment in the seven days from `first_day` (three queries for
    the times, one for the licence; a day more per day when the licence ends that week)."""
    last_day = first_day + timedelta(days=6)
    starts = free_starts(
        clinic,
        therapist_id=appointment.therapist_id,
        service=appointment.service,
        first_day=first_day,
        last_day=last_day,
        not_before=now,
        room_id=appointment.room_id,
        patient_id=appointment.patient_id,
        exclude_appointment_ids={appointment.pk},
    )
    starts = [start for start in starts if start != appointment.starts_at]
    if not starts:
        return []
    days = _bookable_days(viewer, clinic, appointment.therapist_id, first_day, last_day)
    return [start for start in starts if clinic.local_date(start) in days]


def _bookable_days(
    viewer: Viewer, clinic: Clinic, therapist_id: uuid.UUID, first_day: date, last_day: date
) -> set[date]:
    """The days from `first_day` to `last_day` on which the therapist may be booked (one
    query: the last day their licence allows)."""
    until = bookable_until(viewer, clinic, [therapist_id]).get(therapist_id)
    return {day for day in _days(first_day, last_day) if until is not None and day <= until}


def _days(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


@dataclass(frozen=True)
class WaitlistListing:
    patient: Patient
    entries: list[WaitlistEntry]


def list_waitlist(viewer: Viewer, patient_id: uuid.UUID) -> WaitlistListing:
    """A patient's waitlist entries, newest first (the patient and their clinic's staff); one
    `waitlist.list` event. `NotFoundError` (audited) for anyone else."""
    patient = find_patient(viewer, patient_id, roles=SEE_ALL_ROLES, action="waitlist.list")
    entries = list(
        WaitlistEntry.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("service", "therapist__user")
        .order_by("-created_at")[:MAX_WAITLIST_SHOWN]
    )
    record_event(
        actor=viewer,
        action="waitlist.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(entries)},
    )
    return WaitlistListing(patient=patient, entries=entries)


MAX_WAITLIST_SHOWN = 50


def list_clinic_waitlist(viewer: Viewer, clinic: Clinic | None) -> list[WaitlistEntry]:
    """The clinic's line: entries waiting or offered a time, first come first; for clinic
    staff (`NotFoundError`, audited, for others). One `waitlist.list` event."""
    clinic = require_roles(viewer, clinic, CLINIC_STAFF_ROLES, action="waitlist.list")
    entries = list(
        WaitlistEntry.objects.filter(
            clinic=clinic, status__in=(WaitlistStatus.WAITING, WaitlistStatus.OFFERED)
        )
        .select_related("patient", "service", "therapist__user")
        .order_by("created_at")[:500]
    )
    record_event(
        actor=viewer, action="waitlist.list", clinic_id=clinic.pk, detail={"count": len(entries)}
    )
    return entries


def get_waitlist_offer(viewer: Viewer, offer_id: uuid.UUID) -> WaitlistOffer:
    """An offer of a freed time, for its patient or their clinic's staff; audited as viewed.
    `NotFoundError` (audited) for anyone else."""
    offer = (
        WaitlistOffer.objects.select_related(
            "entry__service", "entry__patient", "therapist__user", "clinic"
        )
        .filter(pk=offer_id)
        .first()
    )
    if offer is None:
        raise deny(
            viewer,
            action="waitlist.offer.view",
            object_type="scheduling.waitlistoffer",
            object_id=str(offer_id),
        )
    find_patient(viewer, offer.entry.patient_id, roles=SEE_ALL_ROLES, action="waitlist.offer.view")
    record_event(
        actor=viewer,
        action="waitlist.offer.view",
        clinic_id=offer.clinic_id,
        patient_id=offer.entry.patient_id,
        obj=offer,
    )
    return offer


def feed_appointments(feed: CalendarFeed, *, start: datetime, end: datetime) -> list[Appointment]:
    """The active appointments a calendar feed shows (its patient's, or its therapist's at its
    clinic) between `start` and `end`; one query. For the token-checked feed service."""
    who = Q(patient_id=feed.patient_id) if feed.patient_id else Q(therapist_id=feed.therapist_id)
    return list(
        Appointment.objects.filter(
            who, clinic_id=feed.clinic_id, status__in=ACTIVE_STATUSES, starts_at__lt=end
        )
        .filter(ends_at__gt=start)
        .select_related("service", "therapist__user", "room")
    )


def list_calendar_feeds(viewer: Viewer) -> list[CalendarFeed]:
    """The signed-in person's own feeds that are still active (not patient data beyond their
    own)."""
    return list(
        CalendarFeed.objects.filter(owner=viewer.pk, revoked_at__isnull=True).select_related(
            "clinic"
        )
    )


@dataclass(frozen=True)
class CalendarPage:
    """Staff calendar: the appointments of one therapist or room, day by day."""

    clinic: Clinic
    first_day: date
    days: list[tuple[date, list[Appointment]]]
    therapist_id: uuid.UUID | None
    room_id: uuid.UUID | None


def get_calendar(
    viewer: Viewer,
    clinic: Clinic | None,
    *,
    first_day: date,
    days: int,
    therapist_id: uuid.UUID | None = None,
    room_id: uuid.UUID | None = None,
) -> CalendarPage:
    """Active and requested appointments of the clinic between `first_day` and `days` later,
    for one therapist or one room (or everyone), for clinic staff; one query and one
    `calendar.view` event naming how many patients were shown."""
    clinic = require_roles(viewer, clinic, CLINIC_STAFF_ROLES, action="calendar.view")
    zone = clinic.zone
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(first_day + timedelta(days=days), time.min, tzinfo=zone)
    rows = Appointment.objects.filter(
        clinic=clinic, status__in=ACTIVE_STATUSES, starts_at__lt=end, ends_at__gt=start
    )
    if therapist_id is not None:
        rows = rows.filter(therapist_id=therapist_id)
    if room_id is not None:
        rows = rows.filter(room_id=room_id)
    listed = list(rows.select_related("patient", "service", "therapist__user", "room"))
    by_day: dict[date, list[Appointment]] = {first_day + timedelta(days=n): [] for n in range(days)}
    for row in listed:
        by_day.setdefault(clinic.local_date(row.starts_at), []).append(row)
    record_event(
        actor=viewer,
        action="calendar.view",
        clinic_id=clinic.pk,
        detail={"appointments": len(listed), "patients": len({r.patient_id for r in listed})},
    )
    return CalendarPage(clinic, first_day, sorted(by_day.items()), therapist_id, room_id)


# --- Clinic configuration -------------------------------------------------------------------------


def list_clinic_services(viewer: Viewer, clinic: Clinic | None) -> list[Service]:
    """Every service of the clinic, offered ones first, then retired ones, each by name, with
    its techniques (two queries). For clinic staff; clinic admins change them."""
    clinic = require_roles(viewer, clinic, CLINIC_STAFF_ROLES, action="service.list")
    return list(
        Service.objects.filter(clinic=clinic)
        .prefetch_related("techniques")
        .order_by("-is_active", "name")
    )


def get_service_for_change(viewer: Viewer, clinic: Clinic | None, service_id: uuid.UUID) -> Service:
    """A service of the clinic (offered or retired), for its clinic admins; `NotFoundError`
    (audited) for anyone else and for a service of another clinic."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="service.change")
    service = (
        Service.objects.filter(clinic=clinic, pk=service_id).prefetch_related("techniques").first()
    )
    if service is None:
        raise deny(
            viewer,
            action="service.change",
            clinic_id=clinic.pk,
            object_type="scheduling.service",
            object_id=str(service_id),
        )
    return service


def therapist_for_schedule(
    viewer: Viewer, clinic: Clinic | None, therapist_id: uuid.UUID, *, action: str
) -> tuple[Clinic, Therapist]:
    """The clinic and a therapist working there, when the viewer may see and change the
    therapist's working hours and time off at that clinic: its clinic admins, and the therapist
    themself (with their therapist role there). `NotFoundError` (audited) for anyone else,
    and for a therapist who does not work at the clinic."""
    roles = roles_in(viewer, clinic)
    therapist = therapist_at_clinic(clinic, therapist_id) if clinic and roles else None
    own = therapist is not None and therapist.user_id == viewer.pk and Role.THERAPIST in roles
    if clinic is None or therapist is None or not (own or Role.CLINIC_ADMIN in roles):
        raise deny(
            viewer,
            action=action,
            clinic_id=clinic.pk if clinic else None,
            object_type="accounts.therapist",
            object_id=str(therapist_id),
        )
    return clinic, therapist


def appointments_outside_working_time(
    clinic: Clinic, therapist_id: uuid.UUID, *, now: datetime
) -> list[Appointment]:
    """The therapist's booked and requested appointments at the clinic, from `now` on, that no
    longer fit in their working time (weekly pattern, one-off dates, time off): the rule that
    booking applies, the appointment and its turnover buffer inside one working interval.
    Soonest first; at most three queries. Not audited: for queries that checked the viewer."""
    coming = list(
        Appointment.objects.filter(
            clinic=clinic,
            therapist_id=therapist_id,
            status__in=CHANGEABLE_STATUSES,
            starts_at__gte=now,
        )
        .select_related("patient", "service")
        .order_by("starts_at")
    )
    if not coming:
        return []
    working = working_time(
        clinic,
        therapist_id,
        clinic.local_date(coming[0].starts_at),
        clinic.local_date(coming[-1].starts_at),
    )
    return [
        appointment
        for appointment in coming
        if not any(
            block.start <= appointment.starts_at and appointment.blocked_until <= block.end
            for block in working
        )
    ]


@dataclass(frozen=True)
class TherapistSchedule:
    """A therapist's working hours and time off at one clinic, as of `today` (clinic date):
    the weekly pattern (by weekday and start), the one-off dates from today on, the time off not
    yet over, and the booked or requested appointments that lie outside working time."""

    clinic: Clinic
    therapist: Therapist
    today: date
    weekly: list[WorkingHours]
    dated: list[WorkingHours]
    time_off: list[TimeOff]
    outside: list[Appointment]


def get_therapist_schedule(
    viewer: Viewer, clinic: Clinic | None, therapist_id: uuid.UUID, *, now: datetime
) -> TherapistSchedule:
    """The therapist's schedule page, for the clinic's admins and the therapist themself
    (`therapist_for_schedule`; `NotFoundError`, audited, for anyone else). Names the patients of
    appointments outside working time, so it records one `working_hours.view` event saying how
    many appointments and patients were shown."""
    clinic, therapist = therapist_for_schedule(
        viewer, clinic, therapist_id, action="working_hours.view"
    )
    today = clinic.local_date(now)
    hours = list(
        WorkingHours.objects.filter(clinic=clinic, therapist=therapist)
        .filter(Q(on_date__isnull=True) | Q(on_date__gte=today))
        .select_related("room")
        .order_by("on_date", "weekday", "starts")
    )
    time_off = list(
        TimeOff.objects.filter(clinic=clinic, therapist=therapist, ends_at__gt=now).order_by(
            "starts_at"
        )
    )
    outside = appointments_outside_working_time(clinic, therapist.pk, now=now)
    record_event(
        actor=viewer,
        action="working_hours.view",
        clinic_id=clinic.pk,
        obj=therapist,
        detail={
            "appointments_outside": len(outside),
            "patients": len({a.patient_id for a in outside}),
        },
    )
    return TherapistSchedule(
        clinic=clinic,
        therapist=therapist,
        today=today,
        weekly=[row for row in hours if row.on_date is None],
        dated=[row for row in hours if row.on_date is not None],
        time_off=time_off,
        outside=outside,
    )


def get_scheduling_settings(viewer: Viewer, clinic: Clinic | None) -> SchedulingSettings:
    """The clinic's scheduling settings (defaults when never changed), for its clinic admins;
    `NotFoundError` (audited) for anyone else."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="scheduling.settings")
    return scheduling_settings(clinic.pk)


# --- Visits (for the visits app) ------------------------------------------------------------------

# A visit note is written for a booked (or completed) appointment, from its day on.
VISIT_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)


def may_open_visit(viewer: Viewer, appointment: Appointment) -> bool:
    """Whether the viewer may open (and write) the visit of `appointment`: its therapist, while
    they work at its clinic, or a clinic admin there. Not audited. Needs the appointment's
    therapist loaded (the listings select it)."""
    if appointment.clinic_id in clinics_where(viewer, ADMIN_ROLES):
        return True
    return (
        appointment.clinic_id in clinics_where(viewer, {Role.THERAPIST})
        and appointment.therapist.user_id == viewer.pk
    )


def visit_refusal(appointment: Appointment, clinic: Clinic) -> str:
    """Why no visit can be opened for `appointment` now, or "": it must be booked or completed
    and start today or earlier (in the clinic's time zone)."""
    if appointment.status not in VISIT_STATUSES:
        return "A visit note is written for a booked appointment only."
    if clinic.local_date(appointment.starts_at) > clinic.local_date():
        return "A visit note opens on the day of the appointment."
    return ""


def visit_note_ids(
    viewer: Viewer, clinic: Clinic, appointments: Iterable[Appointment]
) -> frozenset[uuid.UUID]:
    """The ids of those `appointments` (of `clinic`, with their therapists loaded) whose visit
    the viewer may open now, for the "Visit note" buttons of the appointment lists and the
    calendar. No query beyond the viewer's memberships; not audited (the lists audited what
    they show)."""
    return frozenset(
        a.pk for a in appointments if may_open_visit(viewer, a) and not visit_refusal(a, clinic)
    )


def get_appointment_for_visit(viewer: Viewer, appointment_id: uuid.UUID) -> Appointment:
    """The appointment, with its patient (and clinic), therapist, service and room, for
    someone who may open its visit (`may_open_visit`). `NotFoundError`, audited as
    `visit.open`, for anyone else. Callers check `visit_refusal` for a new visit."""
    appointment = (
        Appointment.objects.filter(pk=appointment_id)
        .select_related("patient__clinic", "therapist__user", "service", "room")
        .first()
    )
    if appointment is None or not may_open_visit(viewer, appointment):
        raise deny(
            viewer,
            action="visit.open",
            clinic_id=appointment.clinic_id if appointment else None,
            patient_id=appointment.patient_id if appointment else None,
            object_type="scheduling.appointment",
            object_id=str(appointment_id),
        )
    return appointment


def appointments_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Appointment]:
    """One page of the clinic's appointments (with their services) for a clinic-wide export
    (not audited: the export's kick-off checked and audited the clinic admin)."""
    rows = Appointment.objects.filter(clinic=clinic).select_related("service")
    return page_after(rows, after, limit)


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every scheduling table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(Service.objects.filter(clinic=clinic)),
        table_of(WorkingHours.objects.filter(clinic=clinic)),
        table_of(TimeOff.objects.filter(clinic=clinic)),
        table_of(Course.objects.filter(clinic=clinic)),
        table_of(Appointment.objects.filter(clinic=clinic)),
        table_of(SchedulingSettings.objects.filter(clinic=clinic)),
        table_of(CalendarFeed.objects.filter(clinic=clinic)),
        table_of(WaitlistEntry.objects.filter(clinic=clinic)),
        table_of(WaitlistOffer.objects.filter(clinic=clinic)),
        table_of(Notification.objects.filter(clinic=clinic)),
    ]
