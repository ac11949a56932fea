"""Reads for scheduling: services, and free slots computed by the pure slot engine from one
indexed range query per kind of busy time, whatever the size of the history."""

import uuid
from datetime import date, datetime, timedelta

from django.db.models import Q

from backcare.accounts.models import Clinic, Role, Therapist
from backcare.accounts.queries import Viewer, require_roles
from backcare.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
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


def working_time(
    clinic: Clinic, therapist_id: uuid.UUID, first_day: date, last_day: date
) -> list[Interval]:
    """The therapist's working intervals at the clinic, minus time off (two queries)."""
    hours = [
        WeeklyHours(row.weekday, row.starts, row.ends)
        for row in WorkingHours.objects.filter(clinic=clinic, therapist_id=therapist_id)
    ]
    working = working_intervals(hours, zone=clinic.zone, first_day=first_day, last_day=last_day)
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
) -> list[Interval]:
    """Busy intervals of the therapist (with buffers), the room and the patient between `start`
    and `end`: one query on the appointment time indexes."""
    who = Q(therapist_id=therapist_id)
    if room_id is not None:
        who |= Q(room_id=room_id)
    if patient_id is not None:
        who |= Q(patient_id=patient_id)
    rows = (
        Appointment.objects.filter(who, status__in=ACTIVE_STATUSES)
        .filter(starts_at__lt=end, blocked_until__gt=start)
        .values_list("starts_at", "blocked_until")
    )
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
