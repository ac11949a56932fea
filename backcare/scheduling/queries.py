"""Reads for scheduling: services, and free slots computed by the pure slot engine from one
indexed range query per kind of busy time, whatever the size of the history."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q

from backcare.accounts.models import Clinic, Role, Therapist
from backcare.accounts.queries import (
    ADMIN_ROLES,
    CLINIC_STAFF_ROLES,
    Viewer,
    deny,
    require_roles,
    roles_in,
    therapist_at_clinic,
)
from backcare.core.audit import record_event
from backcare.patients.models import Patient
from backcare.patients.queries import find_patient
from backcare.scheduling.models import (
    ACTIVE_STATUSES,
    CHANGEABLE_STATUSES,
    Appointment,
    CalendarFeed,
    SchedulingSettings,
    Service,
    TimeOff,
    WorkingHours,
)
from backcare.scheduling.slots import (
    Interval,
    WeeklyHours,
    free_slots,
    subtract,
    working_intervals,
)

SLOT_STEP = timedelta(minutes=15)


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
    hours: list[WeeklyHours] = []
    exceptions: dict[date, list[tuple[time, time]]] = {}
    rows = WorkingHours.objects.filter(clinic=clinic, therapist_id=therapist_id).filter(
        Q(on_date__isnull=True) | Q(on_date__range=(first_day, last_day))
    )
    for row in rows.values_list("weekday", "starts", "ends", "on_date"):
        weekday, starts, ends, on_date = row
        if on_date is None:
            hours.append(WeeklyHours(weekday, starts, ends))
        else:
            exceptions.setdefault(on_date, []).append((starts, ends))
    working = working_intervals(
        hours, zone=clinic.zone, first_day=first_day, last_day=last_day, exceptions=exceptions
    )
    if not working:
        return []
    off = TimeOff.objects.filter(
        therapist_id=therapist_id, starts_at__lt=working[-1].end, ends_at__gt=working[0].start
    ).values_list("starts_at", "ends_at")
    return subtract(working, [Interval(start, end) for start, end in off])


def busy_times(
    *,
    therapist_id: uuid.UUID,
    start: datetime,
    end: datetime,
    room_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    exclude_appointment_ids: Collection[uuid.UUID] = (),
) -> list[Interval]:
    """Busy intervals of the therapist (with buffers), the room and the patient between `start`
    and `end`: one query on the appointment time indexes. `exclude_appointment_ids` leaves out
    appointments being moved (their own times are not in their way)."""
    who = Q(therapist_id=therapist_id)
    if room_id is not None:
        who |= Q(room_id=room_id)
    if patient_id is not None:
        who |= Q(patient_id=patient_id)
    found = Appointment.objects.filter(who, status__in=ACTIVE_STATUSES).filter(
        starts_at__lt=end, blocked_until__gt=start
    )
    if exclude_appointment_ids:
        found = found.exclude(pk__in=list(exclude_appointment_ids))
    rows = found.values_list("starts_at", "blocked_until")
    return [Interval(s, e) for s, e in rows]


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
    working = working_time(clinic, therapist_id, first_day, last_day)
    if not working:
        return []
    busy = busy_times(
        therapist_id=therapist_id,
        start=working[0].start,
        end=working[-1].end,
        room_id=room_id,
        patient_id=patient_id,
        exclude_appointment_ids=exclude_appointment_ids,
    )
    length = timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    return free_slots(working, busy, length=length, step=SLOT_STEP, not_before=not_before)


def get_availability(
    viewer: Viewer,
    clinic: Clinic | None,
    *,
    therapist: Therapist,
    service_id: uuid.UUID,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[datetime]:
    """Free start instants for a service with a therapist, for anyone with a role at the clinic.
    Slots only, never who is booked (no patient data)."""
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
    )


@dataclass(frozen=True)
class AppointmentListing:
    """A patient's appointments: `upcoming` (booked or waiting for approval, not yet over),
    soonest first; `past` (over, cancelled or not attended), latest first."""

    patient: Patient
    upcoming: list[Appointment]
    past: list[Appointment]


def list_patient_appointments(
    viewer: Viewer, patient_id: uuid.UUID, *, now: datetime
) -> AppointmentListing:
    """The appointments of a patient the viewer may see (the patient, their clinic's staff, a
    referring clinician); one `appointment.list` event. `NotFoundError` (audited) otherwise."""
    patient = find_patient(viewer, patient_id, action="appointment.list")
    rows = list(
        Appointment.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("service", "therapist__user", "room")
        .order_by("starts_at")
    )
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
    return AppointmentListing(patient=patient, upcoming=upcoming, past=past)


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
