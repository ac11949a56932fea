"""Booking and cancelling appointments, with every refusal the clinic promises: a patient on
hold, a therapist who may not be booked, a time outside working hours, a slot no longer free."""

import uuid
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from backcare.accounts.models import Clinic, Therapist
from backcare.accounts.queries import Viewer, acting_user, deny, list_bookable_therapists
from backcare.core.audit import record_event
from backcare.core.errors import ConflictError, InvalidInputError
from backcare.patients.queries import SEE_ALL_ROLES, find_patient
from backcare.scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Service
from backcare.scheduling.queries import free_starts, service_of, working_time
from backcare.scheduling.slots import Interval
from backcare.triage.queries import hold_status

NEXT_SLOTS_SHOWN = 3


class SlotTakenError(ConflictError):
    """The time was taken by someone else first (409); `alternatives` are the next free starts."""

    code = "slot_taken"

    def __init__(self, message: str, alternatives: list[datetime]) -> None:
        super().__init__(message, field_errors={"starts_at": message})
        self.alternatives = alternatives


def book_appointment(
    *,
    booked_by: Viewer,
    patient_id: uuid.UUID,
    therapist_id: uuid.UUID,
    service_id: uuid.UUID,
    starts_at: datetime,
    room_id: uuid.UUID | None = None,
) -> Appointment:
    """Book one appointment. The patient books themself; clinic staff book for them.

    Refuses with `ConflictError` (409) a patient on hold (`triage.queries.hold_status`), a
    therapist without a valid, verified licence on that day, and with `SlotTakenError` a time
    another active appointment of the therapist, the room or the patient overlaps (checked under
    the write lock on SQLite; PostgreSQL's exclusion constraints settle a race). Raises
    `InvalidInputError` for an unknown service, a time in the past or outside working hours.
    """
    patient = find_patient(booked_by, patient_id, roles=SEE_ALL_ROLES, action="appointment.create")
    clinic = patient.clinic
    service = _bookable_service(clinic, service_id)
    start = _future(starts_at)
    therapist = _bookable_therapist(booked_by, clinic, therapist_id, clinic.local_date(start))
    hold = hold_status(patient)
    if not hold.may_book:
        raise ConflictError(f"{patient.display_name} cannot be booked yet. {hold.reason}")
    end = start + timedelta(minutes=service.duration_minutes)
    blocked = end + timedelta(minutes=service.buffer_minutes)
    _check_working(clinic, therapist, start, blocked)
    with transaction.atomic():
        if _overlapping(therapist.pk, room_id, patient.pk, start, end, blocked):
            raise _taken(clinic, therapist, service, patient.pk, start)
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    clinic=clinic,
                    patient=patient,
                    therapist=therapist,
                    room_id=room_id,
                    service=service,
                    starts_at=start,
                    ends_at=end,
                    blocked_until=blocked,
                    booked_by=acting_user(booked_by),
                )
        except IntegrityError as error:
            raise _taken(clinic, therapist, service, patient.pk, start) from error
        record_event(
            actor=booked_by,
            action="appointment.create",
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            obj=appointment,
        )
        return appointment


def _bookable_service(clinic: Clinic, service_id: uuid.UUID) -> Service:
    service = service_of(clinic.pk, service_id)
    if service is None:
        raise InvalidInputError(
            "Choose one of the clinic's services.", field_errors={"service": "Unknown service."}
        )
    return service


def _future(starts_at: datetime) -> datetime:
    if timezone.is_naive(starts_at):
        raise InvalidInputError(
            "Give the time with its time zone.", field_errors={"starts_at": "No time zone."}
        )
    if starts_at < timezone.now():
        raise InvalidInputError(
            "That time has passed; choose a time in the future.",
            field_errors={"starts_at": "In the past."},
        )
    return starts_at


def _bookable_therapist(
    viewer: Viewer, clinic: Clinic, therapist_id: uuid.UUID, on: date
) -> Therapist:
    therapist = list_bookable_therapists(viewer, clinic, on=on).filter(pk=therapist_id).first()
    if therapist is None:
        raise ConflictError(
            "This therapist cannot be booked on that day: they do not hold a valid, verified "
            "licence, or do not work at this clinic. Choose another therapist.",
            field_errors={"therapist": "Not bookable on that day."},
        )
    return therapist


def _check_working(clinic: Clinic, therapist: Therapist, start: datetime, end: datetime) -> None:
    day = clinic.local_date(start)
    wanted = Interval(start, end)
    if not any(
        block.start <= wanted.start and wanted.end <= block.end
        for block in working_time(clinic, therapist.pk, day, day)
    ):
        raise InvalidInputError(
            "The therapist does not work at that time. Choose one of the free times shown.",
            field_errors={"starts_at": "Outside working hours."},
        )


def _overlapping(
    therapist_id: uuid.UUID,
    room_id: uuid.UUID | None,
    patient_id: uuid.UUID,
    start: datetime,
    end: datetime,
    blocked: datetime,
) -> bool:
    busy = Q(therapist_id=therapist_id, starts_at__lt=blocked, blocked_until__gt=start)
    if room_id is not None:
        busy |= Q(room_id=room_id, starts_at__lt=blocked, blocked_until__gt=start)
    busy |= Q(patient_id=patient_id, starts_at__lt=end, ends_at__gt=start)
    return Appointment.objects.filter(busy, status__in=ACTIVE_STATUSES).exists()


def _taken(
    clinic: Clinic, therapist: Therapist, service: Service, patient_id: uuid.UUID, start: datetime
) -> SlotTakenError:
    day = clinic.local_date(start)
    nexts = free_starts(
        clinic,
        therapist_id=therapist.pk,
        service=service,
        first_day=day,
        last_day=day + timedelta(days=14),
        not_before=start,
        patient_id=patient_id,
    )[:NEXT_SLOTS_SHOWN]
    zone = clinic.zone
    offered = ", ".join(f"{t.astimezone(zone):%a %d %b %H:%M}" for t in nexts)
    message = "That time was just taken."
    message += (
        f" Next free times: {offered}." if offered else " No free time in the next two weeks."
    )
    return SlotTakenError(message, nexts)


def cancel_appointment(*, cancelled_by: Viewer, appointment_id: uuid.UUID) -> Appointment:
    """Cancel a booked appointment (the patient or clinic staff); its time is free again."""
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        raise deny(
            cancelled_by,
            action="appointment.cancel",
            object_type="scheduling.appointment",
            object_id=str(appointment_id),
        )
    find_patient(
        cancelled_by, appointment.patient_id, roles=SEE_ALL_ROLES, action="appointment.cancel"
    )
    with transaction.atomic():
        if appointment.status != AppointmentStatus.BOOKED:
            raise ConflictError("Only a booked appointment can be cancelled.")
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = timezone.now()
        appointment.cancelled_by = acting_user(cancelled_by)
        appointment.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])
        record_event(
            actor=cancelled_by,
            action="appointment.cancel",
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            obj=appointment,
        )
        return appointment
