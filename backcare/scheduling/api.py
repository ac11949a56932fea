"""JSON API: the clinic's services, a patient's appointments, booking and cancelling, with the
same rules, audit and 409 (with the next free times) as the booking pages."""

import uuid
from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import AwareDatetime, Field

from backcare.accounts.api_auth import caller, require_scope
from backcare.accounts.models import ApiGroup, ApiScope
from backcare.core.api import DEFAULT_LIMIT, ERRORS, MAX_LIMIT, MAX_OFFSET, WRITE_ERRORS, Page
from backcare.scheduling import queries, services
from backcare.scheduling.models import Appointment

router = Router(tags=["scheduling"])


class ServiceOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    duration_minutes: int
    buffer_minutes: int


class AppointmentOut(Schema):
    id: uuid.UUID
    patient_id: uuid.UUID
    therapist_id: uuid.UUID
    service_id: uuid.UUID
    room_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    status: str
    course_id: uuid.UUID | None


class BookingIn(Schema):
    patient_id: uuid.UUID
    therapist_id: uuid.UUID
    service_id: uuid.UUID
    starts_at: AwareDatetime = Field(description="With its time zone, e.g. 2030-01-07T09:00Z.")
    room_id: uuid.UUID | None = None


class RescheduleIn(Schema):
    starts_at: AwareDatetime = Field(description="The new start, with its time zone.")
    remaining_in_course: bool = Field(
        False, description="Also move the later sessions of its course, all or none."
    )


class AvailabilityOut(Schema):
    therapist_id: uuid.UUID
    service_id: uuid.UUID
    first_day: date
    last_day: date
    free_starts: list[datetime]


class CancelIn(Schema):
    remaining_in_course: bool = Field(
        False, description="Also cancel the later sessions of its course."
    )


def _out(row: Appointment) -> AppointmentOut:
    return AppointmentOut.model_validate(row, from_attributes=True)


@router.get("/services", response={200: list[ServiceOut], **ERRORS}, url_name="service_list")
def service_list(request: HttpRequest) -> list[ServiceOut]:
    """The active services of the caller's clinic."""
    who = caller(request, ApiGroup.SCHEDULING)
    rows = queries.list_services(who.user, who.clinic)
    return [ServiceOut.model_validate(s, from_attributes=True) for s in rows]


@router.get("/availability", response={200: AvailabilityOut, **ERRORS}, url_name="availability")
def availability(
    request: HttpRequest,
    therapist_id: uuid.UUID,
    service_id: uuid.UUID,
    first_day: date = Query(..., description="First day, the clinic's calendar."),
    last_day: date = Query(..., description="Last day (inclusive), at most 31 days on."),
    patient_id: uuid.UUID | None = Query(
        None, description="Leave out times this patient is booked elsewhere."
    ),
) -> AvailabilityOut:
    """Free start times for a service with a therapist, by the booking page's slot logic
    (working hours, time off, bookings, licence). Times only, never who is booked."""
    who = caller(request, ApiGroup.SCHEDULING)
    starts = queries.get_therapist_availability(
        who.user,
        who.clinic,
        therapist_id=therapist_id,
        service_id=service_id,
        first_day=first_day,
        last_day=last_day,
        now=timezone.now(),
        patient_id=patient_id,
    )
    return AvailabilityOut(
        therapist_id=therapist_id,
        service_id=service_id,
        first_day=first_day,
        last_day=last_day,
        free_starts=starts,
    )


@router.get(
    "/patients/{patient_id}/appointments",
    response={200: Page[AppointmentOut], **ERRORS},
    url_name="appointment_list",
)
def appointment_list(
    request: HttpRequest,
    patient_id: uuid.UUID,
    starts_from: date | None = Query(None, description="First day, the clinic's calendar."),
    starts_to: date | None = Query(None, description="Last day (inclusive)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Page[AppointmentOut]:
    """The patient's appointments, soonest first, cancelled ones included (see `status`)."""
    count, rows = queries.page_of_patient_appointments(
        caller(request, ApiGroup.SCHEDULING).user,
        patient_id,
        first_day=starts_from,
        last_day=starts_to,
        offset=offset,
        limit=limit,
    )
    return Page[AppointmentOut](
        items=[_out(a) for a in rows], count=count, limit=limit, offset=offset
    )


@router.post(
    "/appointments", response={201: AppointmentOut, **WRITE_ERRORS}, url_name="appointment_book"
)
def appointment_book(request: HttpRequest, payload: BookingIn) -> Status:
    """Book one appointment (write scope). A time taken meanwhile is a 409 whose body lists the
    next free starts in `next_free`."""
    who = require_scope(request, ApiScope.WRITE, ApiGroup.SCHEDULING)
    row = services.book_appointment(
        booked_by=who.user,
        patient_id=payload.patient_id,
        therapist_id=payload.therapist_id,
        service_id=payload.service_id,
        starts_at=payload.starts_at,
        room_id=payload.room_id,
    )
    return Status(201, _out(row))


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **WRITE_ERRORS},
    url_name="appointment_reschedule",
)
def appointment_reschedule(
    request: HttpRequest, appointment_id: uuid.UUID, payload: RescheduleIn
) -> AppointmentOut:
    """Move a booked or requested appointment (write scope) with the rules of the appointments
    page; a time taken meanwhile is a 409 listing the next free starts in `next_free`."""
    who = require_scope(request, ApiScope.WRITE, ApiGroup.SCHEDULING)
    row = services.reschedule_appointment(
        actor=who.user,
        appointment_id=appointment_id,
        starts_at=payload.starts_at,
        remaining_in_course=payload.remaining_in_course,
    )
    return _out(row)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **WRITE_ERRORS},
    url_name="appointment_cancel",
)
def appointment_cancel(
    request: HttpRequest, appointment_id: uuid.UUID, payload: CancelIn | None = None
) -> AppointmentOut:
    """Cancel a booked or requested appointment (write scope), as on the appointments page."""
    who = require_scope(request, ApiScope.WRITE, ApiGroup.SCHEDULING)
    row = services.cancel_appointment(
        cancelled_by=who.user,
        appointment_id=appointment_id,
        remaining_in_course=payload.remaining_in_course if payload else False,
    )
    return _out(row)
