"""Booking, courses of sessions, moving, cancelling and approving appointments, with every
refusal the clinic promises: a patient on hold, a therapist who may not be booked, a time outside
working hours, a slot no longer free, a change too close to the appointment.

Access is checked by a scoped query before any transaction opens (docs/decisions/0011), so a
denied attempt stays in the audit log. Writes that must not race check for overlaps inside their
transaction: under the IMMEDIATE write lock on SQLite; PostgreSQL's exclusion constraints settle
a race there, and a lost race is a `SlotTakenError` (409), never a 500.
"""

import hashlib
import secrets
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, OperationalError, connections, transaction
from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    UUIDField,
    Value,
)
from django.db.models.functions import UUID4, Cast, Concat
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Clinic, Role, Therapist
from backcare.accounts.queries import (
    ADMIN_ROLES,
    Viewer,
    acting_user,
    clinic_for_system,
    clinics_where,
    deny,
    get_own_therapist,
    get_room,
    list_bookable_therapists,
    list_rooms,
    list_techniques,
    require_roles,
    therapist_at_clinic,
    therapist_bookable_for_system,
)
from backcare.clinical.recurrence import FOLLOW_UP_MONTHS, follow_up_dates
from backcare.core.audit import Outcome, record_event
from backcare.core.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    full_clean_or_invalid,
)
from backcare.core.models import WebhookEvent
from backcare.core.outbox import retry_delay
from backcare.core.sms import TextMessage, send_text_message
from backcare.core.webhooks import emit
from backcare.outcomes.models import (
    CHECK_IN_OPEN_HOURS,
    CHECK_IN_SENT_AFTER_HOURS,
    FOLLOW_UP_OPEN_DAYS,
    CheckIn,
)
from backcare.outcomes.queries import check_in_for_visit, follow_ups_written
from backcare.outcomes.services import check_in_token, create_check_in, create_follow_up
from backcare.patients.models import Patient
from backcare.patients.queries import SEE_ALL_ROLES, find_patient, own_patient_id
from backcare.plans.models import TreatmentPlan
from backcare.plans.queries import courses_in_follow_up, techniques_needed
from backcare.scheduling import ical, messages
from backcare.scheduling.models import (
    ACTIVE_STATUSES,
    CHANGEABLE_STATUSES,
    MAX_CANCELLATION_WINDOW_HOURS,
    MAX_COURSE_EVERY_WEEKS,
    MAX_COURSE_SESSIONS,
    MAX_REMINDER_HOURS,
    MAX_WAITLIST_OFFER_HOURS,
    Appointment,
    AppointmentStatus,
    CalendarFeed,
    CalendarFeedKind,
    Course,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    SchedulingSettings,
    Service,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
    WaitlistStatus,
    WorkingHours,
)
from backcare.scheduling.queries import (
    change_refusal,
    feed_appointments,
    free_starts,
    get_service_for_change,
    scheduling_settings,
    service_of,
    therapist_for_schedule,
    working_time,
)
from backcare.scheduling.slots import Interval, weekly_series
from backcare.triage.queries import hold_status

NEXT_SLOTS_SHOWN = 3
NOT_BOOKABLE = (
    "This therapist cannot be booked on that day: they do not hold a valid, verified "
    "licence, or do not work at this clinic. Choose another therapist."
)
TAKEN = "That time is already taken."
_NO_OVERRIDES: Mapping[int, datetime] = MappingProxyType({})


class SlotTakenError(ConflictError):
    """The time was taken by someone else first (409); `alternatives` are the next free starts.
    For a course, `session` is the number (from 1) of the session that cannot be booked."""

    code = "slot_taken"

    def __init__(
        self, message: str, alternatives: list[datetime], *, session: int | None = None
    ) -> None:
        super().__init__(message, field_errors={"starts_at": message})
        self.alternatives = alternatives
        self.session = session


@dataclass(frozen=True)
class CourseSession:
    """One planned session of a course. `free` is False when booking it would be refused;
    `reason` then says why, and `alternatives` offers up to three free starts the same week
    (Monday to Sunday, clinic time) with the same therapist. `number` counts from 1."""

    starts_at: datetime
    free: bool
    reason: str
    alternatives: tuple[datetime, ...]
    number: int


@dataclass(frozen=True)
class _Times:
    """What one appointment holds: the patient until `end`, therapist and room until
    `blocked` (the end plus the service's turnover buffer)."""

    start: datetime
    end: datetime
    blocked: datetime

    @classmethod
    def of(cls, service: Service, start: datetime) -> "_Times":
        end = start + timedelta(minutes=service.duration_minutes)
        return cls(start, end, end + timedelta(minutes=service.buffer_minutes))

    def clashes_with(self, other: "_Times") -> bool:
        """Same therapist and patient: either one's blocked time overlaps the other."""
        return self.start < other.blocked and other.start < self.blocked


# --- One appointment ------------------------------------------------------------------------------


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
    When the clinic wants new patients approved, a patient's own first booking is `requested`
    (it holds its time until staff approve or cancel it).
    """
    patient = find_patient(booked_by, patient_id, roles=SEE_ALL_ROLES, action="appointment.create")
    clinic = patient.clinic
    service = _bookable_service(clinic, service_id)
    start = _future(starts_at)
    therapist = _bookable_therapist(booked_by, clinic, therapist_id, clinic.local_date(start))
    _check_hold(patient)
    _check_techniques(patient, therapist)
    times = _Times.of(service, start)
    _check_working(clinic, therapist, times)
    with transaction.atomic():
        appointment = _insert_appointment(
            patient=patient,
            therapist=therapist,
            service=service,
            times=times,
            room_id=room_id,
            booked_by=booked_by,
            status=_initial_status(booked_by, patient),
        )
        if appointment is None:
            raise _taken(clinic, therapist, service, patient.pk, start)
        record_event(
            actor=booked_by,
            action="appointment.create",
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            obj=appointment,
            detail={"status": appointment.status},
        )
        _tell_webhooks(appointment, WebhookEvent.APPOINTMENT_BOOKED)
        _queue_notice(appointment, _booking_notice(appointment))
        return appointment


def import_appointment(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    therapist_id: uuid.UUID,
    service_name: str,
    starts_at: datetime,
    ends_at: datetime,
    status: AppointmentStatus,
    room_id: uuid.UUID | None = None,
) -> Appointment:
    """Write an appointment of an imported record as it was (clinic admins of the patient's
    clinic; `NotFoundError`, audited, for others): its status and times kept, the service found
    by name or created with the appointment's length. Booking rules about the present (holds,
    licences, working hours, times in the past) are not applied: this is history, or a booking
    the source clinic made. No notice is sent now; reminders of an upcoming one are queued by
    the usual schedule, and the clinic's webhooks hear of it as booked (of history, nothing).
    Raises `InvalidInputError` for an end not after the start, a therapist
    or room not of the clinic, and `SlotTakenError` for a time another appointment holds."""
    patient = find_patient(
        actor, patient_id, roles=ADMIN_ROLES, allow_self=False, action="appointment.import"
    )
    clinic = patient.clinic
    therapist = therapist_at_clinic(clinic, therapist_id)
    if therapist is None:
        raise InvalidInputError("The appointment's therapist does not work at this clinic.")
    if room_id is not None:
        get_room(actor, clinic, room_id)
    if ends_at <= starts_at:
        raise InvalidInputError("An appointment must end after it starts.")
    service = _service_named(actor, clinic, service_name, ends_at - starts_at)
    end = _aware(ends_at, "ends_at")
    times = _Times(_aware(starts_at), end, end + timedelta(minutes=service.buffer_minutes))
    with transaction.atomic():
        appointment = _insert_appointment(
            patient=patient,
            therapist=therapist,
            service=service,
            times=times,
            room_id=room_id,
            booked_by=actor,
            status=status,
        )
        if appointment is None:
            raise SlotTakenError(f"{TAKEN} ({_listed(clinic, [times.start])})", [])
        record_event(
            actor=actor,
            action="appointment.import",
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            obj=appointment,
            detail={"status": appointment.status},
        )
        if appointment.status in CHANGEABLE_STATUSES:
            _tell_webhooks(appointment, WebhookEvent.APPOINTMENT_BOOKED)
        return appointment


def _service_named(actor: Viewer, clinic: Clinic, name: str, length: timedelta) -> Service:
    """The clinic's service of that name, whatever its case, or a new one of the appointment's
    length, added as an admin adds one (`add_service`: checked and audited)."""
    found = Service.objects.filter(clinic=clinic, name__iexact=name.strip()).first()
    if found is not None:
        return found
    default_buffer = Service._meta.get_field("buffer_minutes").get_default()
    return add_service(
        actor=actor,
        clinic=clinic,
        name=name,
        description="",
        duration_minutes=int(length.total_seconds() // 60),
        buffer_minutes=default_buffer,
        price=Decimal(0),
        technique_ids=[],
    )


def _tell_webhooks(appointment: Appointment, event: WebhookEvent) -> None:
    """The clinic's webhooks hear of it in the same transaction: ids only (decision 0022)."""
    emit(
        clinic_id=appointment.clinic_id,
        event=event,
        resources={"appointment_id": appointment.pk, "patient_id": appointment.patient_id},
    )


def _booking_notice(appointment: Appointment) -> NotificationKind:
    if appointment.status == AppointmentStatus.REQUESTED:
        return NotificationKind.REQUEST
    return NotificationKind.CONFIRMATION


def _bookable_service(clinic: Clinic, service_id: uuid.UUID) -> Service:
    service = service_of(clinic.pk, service_id)
    if service is None:
        raise InvalidInputError(
            "Choose one of the clinic's services.", field_errors={"service": "Unknown service."}
        )
    return service


def _aware(when: datetime, field: str = "starts_at") -> datetime:
    if timezone.is_naive(when):
        raise InvalidInputError(
            "Give the time with its time zone.", field_errors={field: "No time zone."}
        )
    return when


def _future(starts_at: datetime) -> datetime:
    if _aware(starts_at) < timezone.now():
        raise InvalidInputError(
            "That time has passed; choose a time in the future.",
            field_errors={"starts_at": "In the past."},
        )
    return starts_at


def _therapist_if_bookable(
    viewer: Viewer, clinic: Clinic, therapist_id: uuid.UUID, on: date
) -> Therapist | None:
    return list_bookable_therapists(viewer, clinic, on=on).filter(pk=therapist_id).first()


def _bookable_therapist(
    viewer: Viewer, clinic: Clinic, therapist_id: uuid.UUID, on: date
) -> Therapist:
    therapist = _therapist_if_bookable(viewer, clinic, therapist_id, on)
    if therapist is None:
        raise ConflictError(NOT_BOOKABLE, field_errors={"therapist": "Not bookable on that day."})
    return therapist


def _check_hold(patient: Patient) -> None:
    hold = hold_status(patient)
    if not hold.may_book:
        raise ConflictError(f"{patient.display_name} cannot be booked yet. {hold.reason}")


def _check_techniques(patient: Patient, therapist: Therapist) -> None:
    """Refuse a therapist who does not offer every technique of the patient's active plan."""
    needed = techniques_needed(patient.pk)
    if not needed:
        return
    offered = set(therapist.techniques.values_list("code", flat=True))
    missing = [t.name for t in list_techniques().filter(code__in=needed - offered)]
    if missing:
        raise ConflictError(
            f"{therapist.user.full_name} does not offer {', '.join(missing)}, which "
            f"{patient.display_name}'s treatment plan needs. Choose another therapist."
        )


def _check_working(clinic: Clinic, therapist: Therapist, times: _Times) -> None:
    day = clinic.local_date(times.start)
    wanted = Interval(times.start, times.blocked)
    if not any(
        block.start <= wanted.start and wanted.end <= block.end
        for block in working_time(clinic, therapist.pk, day, day)
    ):
        raise InvalidInputError(
            "The therapist does not work at that time. Choose one of the free times shown.",
            field_errors={"starts_at": "Outside working hours."},
        )


def _overlapping(
    clinic_id: uuid.UUID,
    therapist_id: uuid.UUID,
    room_id: uuid.UUID | None,
    patient_id: uuid.UUID,
    times: _Times,
    *,
    exclude_ids: Collection[uuid.UUID] = (),
) -> bool:
    start, end, blocked = times.start, times.end, times.blocked
    busy = Q(therapist_id=therapist_id, starts_at__lt=blocked, blocked_until__gt=start)
    if room_id is not None:
        busy |= Q(
            clinic_id=clinic_id, room_id=room_id, starts_at__lt=blocked, blocked_until__gt=start
        )
    busy |= Q(clinic_id=clinic_id, patient_id=patient_id, starts_at__lt=end, ends_at__gt=start)
    found = Appointment.objects.filter(busy, status__in=ACTIVE_STATUSES)
    if exclude_ids:
        found = found.exclude(pk__in=list(exclude_ids))
    return found.exists()


def _insert_appointment(
    *,
    patient: Patient,
    therapist: Therapist,
    service: Service,
    times: _Times,
    room_id: uuid.UUID | None,
    booked_by: Viewer,
    status: AppointmentStatus,
    course: Course | None = None,
) -> Appointment | None:
    """Create the appointment, or return None when its time is taken. Call inside the
    transaction: the check runs under SQLite's write lock; on PostgreSQL a concurrent booking
    of an overlapping time trips an exclusion constraint (or a deadlock between the two),
    caught in a savepoint."""
    if _overlapping(patient.clinic_id, therapist.pk, room_id, patient.pk, times):
        return None
    try:
        with transaction.atomic():
            return Appointment.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                therapist=therapist,
                room_id=room_id,
                service=service,
                starts_at=times.start,
                ends_at=times.end,
                blocked_until=times.blocked,
                status=status,
                booked_by=acting_user(booked_by),
                course=course,
            )
    except (IntegrityError, OperationalError) as error:
        if not _lost_race(error):
            raise
        return None


def _lost_race(error: IntegrityError | OperationalError) -> bool:
    """True when PostgreSQL refused the row for another appointment's time: an exclusion
    constraint, or a deadlock it broke between bookings that each waited for the other's
    uncommitted overlapping row (SQLSTATE 40P01; PostgreSQL cancels one of them)."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


def _is_clinic_staff(viewer: Viewer, clinic_id: uuid.UUID) -> bool:
    return clinic_id in clinics_where(viewer, SEE_ALL_ROLES)


def _initial_status(booked_by: Viewer, patient: Patient) -> AppointmentStatus:
    """`requested` for a patient's own booking while the clinic approves new patients and this
    one has no booked or completed appointment yet; otherwise `booked`."""
    own_booking = patient.user_id is not None and patient.user_id == booked_by.pk
    if not own_booking or _is_clinic_staff(booked_by, patient.clinic_id):
        return AppointmentStatus.BOOKED
    if not scheduling_settings(patient.clinic_id).new_patients_need_approval:
        return AppointmentStatus.BOOKED
    known = Appointment.objects.filter(
        clinic_id=patient.clinic_id,
        patient=patient,
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED),
    ).exists()
    return AppointmentStatus.BOOKED if known else AppointmentStatus.REQUESTED


def _taken(
    clinic: Clinic,
    therapist: Therapist,
    service: Service,
    patient_id: uuid.UUID,
    start: datetime,
    *,
    exclude_ids: Collection[uuid.UUID] = (),
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
        exclude_appointment_ids=exclude_ids,
    )[:NEXT_SLOTS_SHOWN]
    offered = _listed(clinic, nexts)
    message = "That time was just taken."
    message += (
        f" Next free times: {offered}." if offered else " No free time in the next two weeks."
    )
    return SlotTakenError(message, nexts)


def _listed(clinic: Clinic, times: list[datetime] | tuple[datetime, ...]) -> str:
    return ", ".join(f"{t.astimezone(clinic.zone):%a %d %b %H:%M}" for t in times)


# --- Courses of sessions --------------------------------------------------------------------------


class _TherapistDays:
    """The therapist if bookable on a day (licence in force), asked once per day."""

    def __init__(self, viewer: Viewer, clinic: Clinic, therapist_id: uuid.UUID) -> None:
        self.viewer, self.clinic, self.therapist_id = viewer, clinic, therapist_id
        self._by_day: dict[date, Therapist | None] = {}

    def on(self, day: date) -> Therapist | None:
        if day not in self._by_day:
            self._by_day[day] = _therapist_if_bookable(
                self.viewer, self.clinic, self.therapist_id, day
            )
        return self._by_day[day]


def _course_starts(
    clinic: Clinic,
    *,
    first_starts_at: datetime,
    sessions_count: int,
    every_weeks: int,
    starts_overrides: Mapping[int, datetime],
) -> list[datetime]:
    """The sessions' start instants: the same local wall time every `every_weeks` weeks
    (`slots.weekly_series`, so 10:00 stays 10:00 across daylight-saving changes), with session
    `n` (from 1) moved to `starts_overrides[n]` where given."""
    errors = {}
    if not _whole_in(sessions_count, 1, MAX_COURSE_SESSIONS):
        errors["sessions_count"] = f"Choose 1 to {MAX_COURSE_SESSIONS} sessions."
    if not _whole_in(every_weeks, 1, MAX_COURSE_EVERY_WEEKS):
        errors["every_weeks"] = f"Choose every 1 to {MAX_COURSE_EVERY_WEEKS} weeks."
    unknown = [n for n in starts_overrides if not _whole_in(n, 1, sessions_count)]
    if unknown and not errors:
        errors["starts_overrides"] = f"There is no session {unknown[0]} in this course."
    if errors:
        raise InvalidInputError(" ".join(errors.values()), field_errors=errors)
    _aware(first_starts_at, "first_starts_at")
    starts = weekly_series(
        first_starts_at, count=sessions_count, every_weeks=every_weeks, zone=clinic.zone
    )
    for number, when in starts_overrides.items():
        starts[number - 1] = _aware(when, "starts_overrides").astimezone(UTC)
    return starts


def _whole_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _plan_course(
    clinic: Clinic,
    *,
    patient: Patient,
    therapists: _TherapistDays,
    service: Service,
    starts: list[datetime],
    room_id: uuid.UUID | None,
) -> list[CourseSession]:
    """Each session with the refusal that booking it alone would meet (the same helpers as
    `book_appointment`), or free. A session also may not clash with an earlier one of the
    course. Read only."""
    planned = [_Times.of(service, start) for start in starts]
    sessions = []
    for index, times in enumerate(planned):
        reason = _session_refusal(clinic, patient, therapists, times, room_id)
        if not reason:
            clash = next((n for n, t in enumerate(planned[:index], 1) if t.clashes_with(times)), 0)
            reason = f"It overlaps session {clash} of this course." if clash else ""
        alternatives: tuple[datetime, ...] = ()
        if reason:
            others = planned[:index] + planned[index + 1 :]
            alternatives = _week_alternatives(
                clinic, patient, therapists, service, times.start, room_id, avoid=others
            )
        sessions.append(
            CourseSession(
                starts_at=times.start,
                free=not reason,
                reason=reason,
                alternatives=alternatives,
                number=index + 1,
            )
        )
    return sessions


def _session_refusal(
    clinic: Clinic,
    patient: Patient,
    therapists: _TherapistDays,
    times: _Times,
    room_id: uuid.UUID | None,
    *,
    moving: Collection[uuid.UUID] = (),
) -> str:
    """Why this one session cannot be booked, or "" if it can (appointments being `moving`
    are not in its way)."""
    try:
        _future(times.start)
        therapist = therapists.on(clinic.local_date(times.start))
        if therapist is None:
            return NOT_BOOKABLE
        _check_working(clinic, therapist, times)
    except DomainError as refusal:
        return refusal.message
    if _overlapping(clinic.pk, therapist.pk, room_id, patient.pk, times, exclude_ids=moving):
        return TAKEN
    return ""


def _week_alternatives(
    clinic: Clinic,
    patient: Patient,
    therapists: _TherapistDays,
    service: Service,
    wanted: datetime,
    room_id: uuid.UUID | None,
    *,
    avoid: list[_Times],
    moving: Collection[uuid.UUID] = (),
) -> tuple[datetime, ...]:
    """Up to three free starts with the therapist in the local week (Monday to Sunday) of
    `wanted`, nearest to it first, clear of the course's other sessions (`avoid`; appointments
    `moving` are not in the way); in time order."""
    day = clinic.local_date(wanted)
    monday = day - timedelta(days=day.weekday())
    candidates = free_starts(
        clinic,
        therapist_id=therapists.therapist_id,
        service=service,
        first_day=monday,
        last_day=monday + timedelta(days=6),
        not_before=timezone.now(),
        room_id=room_id,
        patient_id=patient.pk,
        exclude_appointment_ids=moving,
    )
    fitting = [
        start
        for start in candidates
        if not any(_Times.of(service, start).clashes_with(other) for other in avoid)
    ]
    chosen: list[datetime] = []
    for start in sorted(fitting, key=lambda s: (abs(s - wanted), s)):
        if therapists.on(clinic.local_date(start)) is not None:
            chosen.append(start)
        if len(chosen) == NEXT_SLOTS_SHOWN:
            break
    return tuple(sorted(chosen))


def _session_taken(clinic: Clinic, session: CourseSession) -> SlotTakenError:
    when = f"{session.starts_at.astimezone(clinic.zone):%a %d %b %H:%M}"
    offered = _listed(clinic, session.alternatives)
    message = f"Session {session.number} ({when}) cannot be booked: {session.reason}"
    message += f" Free times that week: {offered}." if offered else " No free time that week."
    message += " Nothing was booked; choose another time for that session."
    return SlotTakenError(message, list(session.alternatives), session=session.number)


def preview_course(
    *,
    viewer: Viewer,
    patient_id: uuid.UUID,
    therapist_id: uuid.UUID,
    service_id: uuid.UUID,
    first_starts_at: datetime,
    sessions_count: int,
    every_weeks: int = 1,
    room_id: uuid.UUID | None = None,
    starts_overrides: Mapping[int, datetime] = _NO_OVERRIDES,
) -> list[CourseSession]:
    """The sessions a course would have, each free or not with the reason and up to three free
    alternatives the same week. Books nothing; audited as `course.preview`.

    Sessions fall at the same local wall time every `every_weeks` weeks (daylight-saving
    changes keep 10:00 at 10:00); `starts_overrides` maps a session number (from 1) to a chosen
    alternative. A session is not free when it is in the past, the therapist may not be booked
    that day, it is outside working hours (or in time off), or it overlaps the therapist (with
    buffers), the room, the patient or an earlier session of the course.

    Raises `NotFoundError` when the viewer may not book for the patient (audited), and
    `InvalidInputError` for an unknown service, a time without a zone, or sizes out of range
    (1 to 52 sessions, every 1 to 4 weeks).
    """
    patient = find_patient(viewer, patient_id, roles=SEE_ALL_ROLES, action="course.preview")
    clinic = patient.clinic
    service = _bookable_service(clinic, service_id)
    starts = _course_starts(
        clinic,
        first_starts_at=first_starts_at,
        sessions_count=sessions_count,
        every_weeks=every_weeks,
        starts_overrides=starts_overrides,
    )
    sessions = _plan_course(
        clinic,
        patient=patient,
        therapists=_TherapistDays(viewer, clinic, therapist_id),
        service=service,
        starts=starts,
        room_id=room_id,
    )
    record_event(
        actor=viewer,
        action="course.preview",
        clinic_id=clinic.pk,
        patient_id=patient.pk,
        object_type="scheduling.course",
        detail={
            "therapist_id": str(therapist_id),
            "sessions": len(sessions),
            "free": sum(s.free for s in sessions),
        },
    )
    return sessions


def book_course(
    *,
    booked_by: Viewer,
    patient_id: uuid.UUID,
    therapist_id: uuid.UUID,
    service_id: uuid.UUID,
    first_starts_at: datetime,
    sessions_count: int,
    every_weeks: int = 1,
    room_id: uuid.UUID | None = None,
    starts_overrides: Mapping[int, datetime] = _NO_OVERRIDES,
) -> Course:
    """Book a whole course in one transaction: every session, or none.

    Sessions are planned as in `preview_course` (`starts_overrides` maps a session number, from
    1, to a chosen alternative). Refuses with `ConflictError` a patient on hold, and with
    `SlotTakenError` (naming the session in `session`, with up to three free `alternatives` that
    week) the first session that is not free: past, therapist not bookable that day, outside
    working hours, or overlapping; also when another booking wins a race for one of the times.
    Raises `NotFoundError` (audited) when the viewer may not book for the patient, and
    `InvalidInputError` for an unknown service, a time without a zone or sizes out of range.
    Audits `course.create` and each `appointment.create`.
    """
    patient = find_patient(booked_by, patient_id, roles=SEE_ALL_ROLES, action="course.create")
    clinic = patient.clinic
    service = _bookable_service(clinic, service_id)
    starts = _course_starts(
        clinic,
        first_starts_at=first_starts_at,
        sessions_count=sessions_count,
        every_weeks=every_weeks,
        starts_overrides=starts_overrides,
    )
    _check_hold(patient)
    therapists = _TherapistDays(booked_by, clinic, therapist_id)
    sessions = _plan_course(
        clinic,
        patient=patient,
        therapists=therapists,
        service=service,
        starts=starts,
        room_id=room_id,
    )
    refused = next((s for s in sessions if not s.free), None)
    if refused is not None:
        raise _session_taken(clinic, refused)
    first_day = clinic.local_date(starts[0])
    therapist = therapists.on(first_day) or _bookable_therapist(
        booked_by, clinic, therapist_id, first_day
    )
    _check_techniques(patient, therapist)
    with transaction.atomic():
        status = _initial_status(booked_by, patient)
        course = Course.objects.create(
            clinic=clinic,
            patient=patient,
            therapist=therapist,
            service=service,
            every_weeks=every_weeks,
            sessions_count=sessions_count,
            first_starts_at=starts[0],
            booked_by=acting_user(booked_by),
        )
        booked: list[Appointment] = []
        for session in sessions:
            appointment = _insert_appointment(
                patient=patient,
                therapist=therapist,
                service=service,
                times=_Times.of(service, session.starts_at),
                room_id=room_id,
                booked_by=booked_by,
                status=status,
                course=course,
            )
            if appointment is None:
                others = [_Times.of(service, s.starts_at) for s in sessions if s is not session]
                lost = CourseSession(
                    starts_at=session.starts_at,
                    free=False,
                    reason="That time was just taken.",
                    alternatives=_week_alternatives(
                        clinic,
                        patient,
                        therapists,
                        service,
                        session.starts_at,
                        room_id,
                        avoid=others,
                    ),
                    number=session.number,
                )
                raise _session_taken(clinic, lost)
            record_event(
                actor=booked_by,
                action="appointment.create",
                clinic_id=clinic.pk,
                patient_id=patient.pk,
                obj=appointment,
                detail={"course_id": str(course.pk), "session": session.number, "status": status},
            )
            _tell_webhooks(appointment, WebhookEvent.APPOINTMENT_BOOKED)
            booked.append(appointment)
        record_event(
            actor=booked_by,
            action="course.create",
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            obj=course,
            detail={
                "sessions": sessions_count,
                "every_weeks": every_weeks,
                "moved_sessions": sorted(starts_overrides),
                "status": status,
            },
        )
        _queue_notice(booked[0], _booking_notice(booked[0]), covers_course=len(booked) > 1)
        return course


# --- Changing an appointment ----------------------------------------------------------------------


def _appointment_for(
    viewer: Viewer, appointment_id: uuid.UUID, *, action: str, allow_self: bool = True
) -> tuple[Appointment, Patient]:
    """The appointment and its patient if the viewer is clinic staff there or (with
    `allow_self`) the patient; else audit the denial and raise `NotFoundError`."""
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        raise deny(
            viewer,
            action=action,
            object_type="scheduling.appointment",
            object_id=str(appointment_id),
        )
    patient = find_patient(
        viewer, appointment.patient_id, roles=SEE_ALL_ROLES, action=action, allow_self=allow_self
    )
    return appointment, patient


def _locked(appointment_id: uuid.UUID) -> Appointment:
    """The appointment re-read inside the transaction (row-locked on PostgreSQL; SQLite's
    IMMEDIATE transaction already holds the write lock)."""
    return Appointment.objects.select_for_update().get(pk=appointment_id)


def _check_changeable(actor: Viewer, appointment: Appointment, clinic: Clinic, verb: str) -> None:
    """Only appointments still ahead change; patients change them only before the clinic's
    cancellation window, clinic staff always (`queries.change_refusal`, so that a page can say
    so before anyone tries)."""
    refusal = change_refusal(actor, appointment, clinic, verb=verb, now=timezone.now())
    if refusal:
        raise ConflictError(refusal)


def reschedule_appointment(
    *,
    actor: Viewer,
    appointment_id: uuid.UUID,
    starts_at: datetime,
    remaining_in_course: bool = False,
) -> Appointment:
    """Move a booked or requested appointment to `starts_at`, keeping its id, therapist, room,
    service and course; the old time is free once the transaction commits. Returns it.

    The same refusals as `book_appointment` (hold, licence on the new day, working hours,
    overlaps other than itself: `SlotTakenError` with the next free times). With
    `remaining_in_course`, the later booked or requested sessions of its course move too, to the
    same local time every `every_weeks` weeks from `starts_at`, all or none: a session that
    cannot move is a `SlotTakenError` naming it (`session`, counted from 1 over the course's
    appointments in time order) with free times that week. A patient may move their own
    appointment only before the clinic's cancellation window (`ConflictError` saying the
    window); clinic staff may always. `NotFoundError` (audited) for anyone else.
    """
    appointment, patient = _appointment_for(actor, appointment_id, action="appointment.reschedule")
    clinic = patient.clinic
    _check_changeable(actor, appointment, clinic, "moved")
    if remaining_in_course and appointment.course_id is not None:
        return _reschedule_remaining(
            actor, appointment, patient, _aware(starts_at), course_id=appointment.course_id
        )
    start = _future(starts_at)
    therapist = _bookable_therapist(
        actor, clinic, appointment.therapist_id, clinic.local_date(start)
    )
    _check_hold(patient)
    service = appointment.service
    times = _Times.of(service, start)
    _check_working(clinic, therapist, times)
    with transaction.atomic():
        current = _locked(appointment.pk)
        _check_changeable(actor, current, clinic, "moved")
        previous = current.starts_at
        if not _moved(current, times, moving={current.pk}):
            raise _taken(clinic, therapist, service, patient.pk, start, exclude_ids={current.pk})
        _record_move(actor, current, previous)
        _queue_notice(current, NotificationKind.MOVED, change=timezone.now())
        return current


def _reschedule_remaining(
    actor: Viewer, first: Appointment, patient: Patient, start: datetime, *, course_id: uuid.UUID
) -> Appointment:
    """`first` and the later sessions of its course to a weekly series from `start`."""
    clinic = patient.clinic
    course = Course.objects.get(clinic_id=clinic.pk, pk=course_id)
    service = first.service
    _check_hold(patient)
    later = Appointment.objects.filter(
        clinic_id=clinic.pk,
        course_id=course.pk,
        status__in=CHANGEABLE_STATUSES,
        starts_at__gt=first.starts_at,
    ).order_by("starts_at")
    moving = [first, *later]
    moving_ids = {a.pk for a in moving}
    starts = weekly_series(
        start, count=len(moving), every_weeks=course.every_weeks, zone=clinic.zone
    )
    planned = [_Times.of(service, s) for s in starts]
    numbers = {
        pk: n
        for n, pk in enumerate(
            Appointment.objects.filter(course_id=course.pk)
            .order_by("starts_at")
            .values_list("pk", flat=True),
            1,
        )
    }
    therapists = _TherapistDays(actor, clinic, first.therapist_id)

    def refused(index: int, reason: str) -> SlotTakenError:
        times = planned[index]
        alternatives = _week_alternatives(
            clinic,
            patient,
            therapists,
            service,
            times.start,
            moving[index].room_id,
            avoid=planned[:index] + planned[index + 1 :],
            moving=moving_ids,
        )
        session = CourseSession(
            starts_at=times.start,
            free=False,
            reason=reason,
            alternatives=alternatives,
            number=numbers[moving[index].pk],
        )
        return _session_taken(clinic, session)

    for index, (appointment, times) in enumerate(zip(moving, planned, strict=True)):
        reason = _session_refusal(
            clinic, patient, therapists, times, appointment.room_id, moving=moving_ids
        )
        if reason:
            raise refused(index, reason)
    with transaction.atomic():
        locked = {
            a.pk: a for a in Appointment.objects.select_for_update().filter(pk__in=moving_ids)
        }
        if any(a.status not in CHANGEABLE_STATUSES for a in locked.values()):
            raise ConflictError("The course changed meanwhile; reload the page and try again.")
        _check_changeable(actor, locked[first.pk], clinic, "moved")
        # Moving later first when the course moves later (earlier first otherwise), so that on
        # PostgreSQL no row passes through a time another one still holds.
        order = list(enumerate(zip(moving, planned, strict=True)))
        if start > first.starts_at:
            order.reverse()
        for index, (appointment, times) in order:
            current = locked[appointment.pk]
            previous = current.starts_at
            if not _moved(current, times, moving=moving_ids):
                raise refused(index, "That time was just taken.")
            _record_move(actor, current, previous, course_id=course.pk)
        moved = locked[first.pk]
        _queue_notice(
            moved, NotificationKind.MOVED, covers_course=len(moving) > 1, change=timezone.now()
        )
        return moved


def _record_move(
    actor: Viewer, appointment: Appointment, previous: datetime, course_id: uuid.UUID | None = None
) -> None:
    detail = {"from": previous.isoformat(), "to": appointment.starts_at.isoformat()}
    if course_id is not None:
        detail["course_id"] = str(course_id)
    record_event(
        actor=actor,
        action="appointment.reschedule",
        clinic_id=appointment.clinic_id,
        patient_id=appointment.patient_id,
        obj=appointment,
        detail=detail,
    )
    _tell_webhooks(appointment, WebhookEvent.APPOINTMENT_CHANGED)
    _offer_when_committed(appointment.clinic_id, appointment.therapist_id, previous)


def _moved(appointment: Appointment, times: _Times, *, moving: Collection[uuid.UUID]) -> bool:
    """Give the appointment its new times unless another appointment (not one of `moving`)
    holds them."""
    if _overlapping(
        appointment.clinic_id,
        appointment.therapist_id,
        appointment.room_id,
        appointment.patient_id,
        times,
        exclude_ids=moving,
    ):
        return False
    try:
        with transaction.atomic():
            Appointment.objects.filter(pk=appointment.pk).update(
                starts_at=times.start,
                ends_at=times.end,
                blocked_until=times.blocked,
                updated_at=timezone.now(),
            )
    except (IntegrityError, OperationalError) as error:
        if not _lost_race(error):
            raise
        return False
    appointment.refresh_from_db()
    return True


def cancel_appointment(
    *, cancelled_by: Viewer, appointment_id: uuid.UUID, remaining_in_course: bool = False
) -> Appointment:
    """Cancel a booked or requested appointment (the patient or clinic staff); its time is free
    again. With `remaining_in_course`, the later booked or requested sessions of its course are
    cancelled too. Returns the appointment asked for.

    A patient may cancel only before the clinic's cancellation window (`ConflictError` saying
    the window); clinic staff may always. `NotFoundError` (audited) for anyone else.
    """
    appointment, patient = _appointment_for(
        cancelled_by, appointment_id, action="appointment.cancel"
    )
    with transaction.atomic():
        current = _locked(appointment.pk)
        _check_changeable(cancelled_by, current, patient.clinic, "cancelled")
        cancelling = [current]
        if remaining_in_course and current.course_id is not None:
            cancelling += list(
                Appointment.objects.select_for_update()
                .filter(
                    clinic_id=current.clinic_id,
                    course_id=current.course_id,
                    status__in=CHANGEABLE_STATUSES,
                    starts_at__gt=current.starts_at,
                )
                .order_by("starts_at")
            )
        now = timezone.now()
        user = acting_user(cancelled_by)
        for each in cancelling:
            each.status = AppointmentStatus.CANCELLED
            each.cancelled_at = now
            each.cancelled_by = user
            each.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])
            record_event(
                actor=cancelled_by,
                action="appointment.cancel",
                clinic_id=each.clinic_id,
                patient_id=each.patient_id,
                obj=each,
                detail={"course_id": str(each.course_id)} if remaining_in_course else {},
            )
            _tell_webhooks(each, WebhookEvent.APPOINTMENT_CANCELLED)
            _offer_when_committed(each.clinic_id, each.therapist_id, each.starts_at)
        _queue_notice(current, NotificationKind.CANCELLED, covers_course=len(cancelling) > 1)
        return current


# --- Notifications: the outbox --------------------------------------------------------------------

NOTICE_ATTEMPTS = 5
DELIVERY_BATCH = 200


def _queue_notice(
    appointment: Appointment,
    kind: NotificationKind,
    *,
    covers_course: bool = False,
    change: datetime | None = None,
    channels_email_only: bool = False,
) -> None:
    """Write the notice of `kind` about `appointment` to the outbox, in the caller's
    transaction (it is sent only if that commits), by email and, where the clinic turned text
    messages on, by text; then ask for a delivery once the transaction commits. `change` makes
    a notice of a change unique to that change (the same move twice is two notices)."""
    now = timezone.now()
    channels = [NotificationChannel.EMAIL]
    if not channels_email_only and scheduling_settings(appointment.clinic_id).sms_enabled:
        channels.append(NotificationChannel.SMS)
    stamp = appointment.starts_at.isoformat()
    suffix = f":{change.isoformat()}" if change is not None else ""
    Notification.objects.bulk_create(
        [
            Notification(
                clinic_id=appointment.clinic_id,
                patient_id=appointment.patient_id,
                appointment=appointment,
                kind=kind,
                channel=channel,
                about_starts_at=appointment.starts_at,
                covers_course=covers_course,
                key=f"{kind}:{appointment.pk}:{channel}:{stamp}{suffix}",
                due_at=now,
            )
            for channel in channels
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_ask_for_delivery)


def _ask_for_delivery() -> None:
    from backcare.scheduling import tasks  # here: tasks imports this module

    tasks.deliver_notifications.enqueue()


def enqueue_due_reminders(*, now: datetime | None = None) -> int:
    """Write a reminder to the outbox for every booked appointment whose reminder time (its
    clinic's `reminder_hours_before`, 24 by default; 0 sends none) has come and which has none
    yet for its current time. Returns how many it wrote.

    The database writes them in one `INSERT ... SELECT ... ON CONFLICT DO NOTHING` from the
    due appointments (no Python object per row): an email reminder for each, and a text
    message too where the clinic turned them on.

    Safe to run at any moment, repeatedly, in parallel: the outbox key (appointment, kind,
    channel, time) admits one row, and appointments that have one are not read again. An
    appointment moved later gets a reminder for its new time; the old one is skipped at sending.
    """
    moment = now or timezone.now()
    rules = {
        row.clinic_id: row
        for row in SchedulingSettings.objects.only(
            "clinic_id", "reminder_hours_before", "sms_enabled"
        )
    }
    due = _due_for_reminder(moment, rules)
    rows = _reminder_rows(due, NotificationChannel.EMAIL, moment)
    texting = [clinic_id for clinic_id, rule in rules.items() if rule.sms_enabled]
    if texting:
        by_text = _reminder_rows(due.filter(clinic_id__in=texting), NotificationChannel.SMS, moment)
        # One statement, so that both channels see the outbox as it was before it.
        rows = rows.union(by_text, all=True).order_by()
    return _insert_ignoring_conflicts(Notification, rows)


def _due_for_reminder(
    moment: datetime, rules: Mapping[uuid.UUID, SchedulingSettings]
) -> QuerySet[Appointment]:
    """Booked appointments within their clinic's reminder window after `moment` that have no
    reminder for their current time (an anti-join on the outbox)."""
    default_hours = SchedulingSettings().reminder_hours_before
    windows: dict[int, list[uuid.UUID]] = {}
    for clinic_id, rule in rules.items():
        windows.setdefault(rule.reminder_hours_before, []).append(clinic_id)
    within = Q(pk__in=[])
    if default_hours:
        within |= Q(starts_at__lte=moment + timedelta(hours=default_hours)) & ~Q(
            clinic_id__in=list(rules)
        )
    for hours, clinics in windows.items():
        if hours:
            within |= Q(clinic_id__in=clinics, starts_at__lte=moment + timedelta(hours=hours))
    reminded = Notification.objects.filter(
        appointment=OuterRef("pk"),
        kind=NotificationKind.REMINDER,
        about_starts_at=OuterRef("starts_at"),
    )
    longest = max([default_hours, *windows])
    return (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            starts_at__gt=moment,
            starts_at__lte=moment + timedelta(hours=longest),
        )
        .filter(within)
        .filter(~Exists(reminded))
        .order_by()
    )


def _reminder_rows(
    due: QuerySet[Appointment], channel: NotificationChannel, moment: datetime
) -> QuerySet[Appointment, tuple[Any, ...]]:
    """One outbox row by `channel` for each of `due`, as the columns of `Notification` in
    their table order, with the key `_queue_notice` would give it."""
    written_at = timezone.now()
    columns: dict[str, Any] = {
        "id": UUID4(),
        "created_at": Value(written_at, output_field=DateTimeField()),
        "updated_at": Value(written_at, output_field=DateTimeField()),
        "clinic_id": F("clinic_id"),
        "patient_id": F("patient_id"),
        "appointment_id": F("pk"),
        "waitlist_offer_id": Cast(Value(None), UUIDField()),
        "check_in_id": Cast(Value(None), UUIDField()),
        "kind": Value(NotificationKind.REMINDER.value),
        "channel": Value(channel.value),
        "about_starts_at": F("starts_at"),
        "covers_course": Value(False),
        "key": Concat(
            Value(f"{NotificationKind.REMINDER.value}:"),
            _UuidText(F("pk")),
            Value(f":{channel.value}:"),
            _IsoFormatUtc(F("starts_at")),
            output_field=CharField(),
        ),
        "due_at": Value(moment, output_field=DateTimeField()),
        "status": Value(NotificationStatus.PENDING.value),
        "attempts": Value(0),
        "sent_at": Cast(Value(None), DateTimeField()),
        "last_error": Value(""),
    }
    # A KeyError here means Notification gained a column this statement must fill.
    values = {f"row_{column}": columns[column] for column in _table_columns(Notification)}
    return due.annotate(**values).values_list(*values)


def _table_columns(model: type[Notification]) -> list[str]:
    return [field.column for field in model._meta.concrete_fields if field.column]


def _insert_ignoring_conflicts(model: type[Notification], rows: QuerySet[Any, Any]) -> int:
    """`INSERT INTO <model's table> SELECT <rows> ON CONFLICT DO NOTHING` (PostgreSQL and
    SQLite); returns the rows written, those already present left out."""
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    select, params = rows.query.get_compiler(connection=connection).as_sql()
    columns = ", ".join(quote(column) for column in _table_columns(model))
    # Names quoted from the model, values bound as the ORM compiled them. "WHERE 1 = 1":
    # SQLite's parser needs a WHERE before ON CONFLICT in INSERT ... SELECT.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608  # nosec B608
        f"SELECT * FROM ({select}) AS due WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


class _UuidText(Func):
    """A UUID column as the text `str(uuid)` gives (SQLite stores 32 hex digits)."""

    output_field = CharField()
    arity = 1

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template="(%(expressions)s)::text", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.get_source_expressions()[0])
        cuts = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        parts = " || '-' || ".join(f"substr({column}, {at}, {n})" for at, n in cuts)
        return f"lower({parts})", list(params) * len(cuts)


class _IsoFormatUtc(Func):
    """A datetime column as the text `datetime.isoformat()` gives for it in UTC
    (`2026-03-02T10:00:00+00:00`, with `.ffffff` only when there are microseconds)."""

    output_field = CharField()
    arity = 1

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.get_source_expressions()[0])
        utc = f"({column} AT TIME ZONE 'UTC')"
        sql = (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN to_char({utc}, 'US') "
            f"= '000000' THEN '' ELSE to_char({utc}, '.US') END || '+00:00'"
        )
        return sql, list(params) * 4

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        # Django stores an aware datetime on SQLite as str() of its naive UTC value.
        column, params = compiler.compile(self.get_source_expressions()[0])
        return f"replace({column}, ' ', 'T') || '+00:00'", list(params)


def enqueue_check_ins(*, now: datetime | None = None) -> int:
    """Write a check-in (outcomes) and its email to the outbox for every attended appointment
    that ended between `CHECK_IN_SENT_AFTER_HOURS` and `CHECK_IN_OPEN_HOURS` ago and has none
    yet. Returns how many it wrote. Safe to run repeatedly and in parallel: a visit has one
    check-in and one notice."""
    moment = now or timezone.now()
    ended = (
        Appointment.objects.filter(
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED),
            ends_at__lte=moment - timedelta(hours=CHECK_IN_SENT_AFTER_HOURS),
            ends_at__gt=moment - timedelta(hours=CHECK_IN_OPEN_HOURS),
        )
        .filter(
            ~Exists(
                Notification.objects.filter(
                    appointment=OuterRef("pk"), kind=NotificationKind.CHECK_IN
                )
            )
        )
        .select_related("patient")
    )
    written = 0
    for appointment in ended.iterator(chunk_size=500):
        create_check_in(
            patient=appointment.patient,
            visit_ref=appointment.pk,
            visit_ended_at=appointment.ends_at,
        )
        with transaction.atomic():
            _queue_notice(appointment, NotificationKind.CHECK_IN, channels_email_only=True)
        written += 1
    return written


FOLLOW_UP_SENT_AT = time(10)  # local time: a follow-up email arrives mid-morning


def enqueue_follow_ups(*, now: datetime | None = None) -> int:
    """Write each follow-up check-in that has fallen due after a course ended (monthly for 6
    months, `clinical.recurrence`) and its email to the outbox, once; one whose window
    (`FOLLOW_UP_OPEN_DAYS`) passed before the job ran is not sent late. Returns how many it
    wrote. Safe to run repeatedly and in parallel: a follow-up has one check-in and one
    notice."""
    moment = now or timezone.now()
    window = timedelta(days=31 * FOLLOW_UP_MONTHS + FOLLOW_UP_OPEN_DAYS)
    due = [
        (plan, number, due_at)
        for plan in courses_in_follow_up(moment - window)
        for number, due_at in _follow_ups_open(plan, moment)
    ]
    written_before = follow_ups_written({plan.pk for plan, _, _ in due})
    written = 0
    for plan, number, due_at in due:
        if (plan.pk, number) in written_before:
            continue
        check_in = create_follow_up(
            patient=plan.patient, plan_ref=plan.pk, number=number, due_at=due_at
        )
        if check_in is not None:
            with transaction.atomic():
                _queue_follow_up(check_in)
            written += 1
    return written


def _follow_ups_open(plan: TreatmentPlan, now: datetime) -> list[tuple[int, datetime]]:
    assert plan.ended_at is not None
    zone = plan.clinic.zone
    ended = plan.ended_at.astimezone(zone).date()
    found = []
    for number, day in enumerate(follow_up_dates(ended), start=1):
        due_at = datetime.combine(day, FOLLOW_UP_SENT_AT, tzinfo=zone)
        if due_at <= now < due_at + timedelta(days=FOLLOW_UP_OPEN_DAYS):
            found.append((number, due_at))
    return found


def _queue_follow_up(check_in: CheckIn) -> None:
    channel = NotificationChannel.EMAIL
    Notification.objects.bulk_create(
        [
            Notification(
                clinic_id=check_in.clinic_id,
                patient_id=check_in.patient_id,
                check_in=check_in,
                kind=NotificationKind.FOLLOW_UP,
                channel=channel,
                about_starts_at=check_in.visit_ended_at,
                key=f"{NotificationKind.FOLLOW_UP}:{check_in.pk}:{channel}",
                due_at=check_in.visit_ended_at,
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_ask_for_delivery)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def deliver_due_notifications(
    *, now: datetime | None = None, limit: int = DELIVERY_BATCH
) -> DeliveryReport:
    """Send up to `limit` due notifications from the outbox, each exactly once.

    Each row is sent in its own transaction that first locks it (PostgreSQL: `FOR UPDATE SKIP
    LOCKED`, so parallel workers share the work; SQLite: the IMMEDIATE write lock) and re-reads
    its status, and that marks it sent when the message is handed over; a worker that dies
    mid-batch leaves the row it was on unsent, for the next run. Messages are handed over with
    the row id as idempotency key (email Message-ID, text message reference) for the last gap,
    a death after handing over and before the commit.

    A notice that is no longer true is skipped, not sent: a reminder or confirmation of an
    appointment since cancelled or moved, a waitlist offer no longer open. A failed hand-over is
    retried later with backoff, and marked failed after `NOTICE_ATTEMPTS` tries.
    """
    moment = now or timezone.now()
    due = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, due_at__lte=moment)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    for notification_id in due:
        outcome = _deliver_one(notification_id, moment)
        if outcome is not None:
            counts[outcome] += 1
    return DeliveryReport(**counts)


def _deliver_one(notification_id: uuid.UUID, now: datetime) -> str | None:
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "clinic",
                "patient__user",
                "appointment__service",
                "appointment__therapist__user",
                "waitlist_offer__entry__service",
                "waitlist_offer__therapist__user",
                "check_in",
            )
            .filter(pk=notification_id, status=NotificationStatus.PENDING)
            .first()
        )
        if row is None:
            return None  # another worker holds it or has sent it
        reason = _no_longer_true(row, now) or _no_address(row)
        if reason:
            _finish(row, NotificationStatus.SKIPPED, now, reason)
            return "skipped"
        try:
            _hand_over(row)
        except Exception as error:  # any provider failure: retried with backoff
            row.attempts += 1
            row.due_at = now + retry_delay(row.attempts)
            gives_up = row.attempts >= NOTICE_ATTEMPTS
            status = NotificationStatus.FAILED if gives_up else NotificationStatus.PENDING
            _finish(row, status, now, f"{type(error).__name__}: {error}"[:300])
            return "failed"
        row.attempts += 1
        _finish(row, NotificationStatus.SENT, now, "")
        return "sent"


def _finish(row: Notification, status: NotificationStatus, now: datetime, note: str) -> None:
    row.status = status
    row.last_error = note
    if status == NotificationStatus.SENT:
        row.sent_at = now
    row.save(update_fields=["status", "attempts", "due_at", "sent_at", "last_error", "updated_at"])
    record_event(
        actor=None,
        action="notification.retry"
        if status == NotificationStatus.PENDING
        else f"notification.{status}",
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        obj=row,
        detail={"kind": row.kind, "channel": row.channel},
    )


_STILL_TRUE = {
    NotificationKind.CONFIRMATION: (AppointmentStatus.BOOKED,),
    NotificationKind.REMINDER: (AppointmentStatus.BOOKED,),
    NotificationKind.REQUEST: (AppointmentStatus.REQUESTED,),
    NotificationKind.MOVED: CHANGEABLE_STATUSES,
}


def _no_longer_true(row: Notification, now: datetime) -> str:
    if row.kind == NotificationKind.FOLLOW_UP:
        follow_up = row.check_in
        if follow_up is None or follow_up.answered_at or follow_up.expires_at <= now:
            return "The follow-up is answered or closed."
        return ""
    if row.kind == NotificationKind.WAITLIST_OFFER:
        offer = row.waitlist_offer
        if offer is None or offer.status != WaitlistOfferStatus.OPEN or offer.expires_at <= now:
            return "The offer is no longer open."
        return ""
    appointment = row.appointment
    if appointment is None:
        return "No appointment."
    if row.kind == NotificationKind.CANCELLED:
        return ""
    if row.kind == NotificationKind.CHECK_IN:
        check_in = check_in_for_visit(appointment.pk)
        if check_in is None or check_in.answered_at or check_in.expires_at <= now:
            return "The check-in is answered or closed."
        if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED):
            return f"The appointment is {appointment.get_status_display().lower()}."
        return ""
    if appointment.status not in _STILL_TRUE[NotificationKind(row.kind)]:
        return f"The appointment is {appointment.get_status_display().lower()}."
    if appointment.starts_at != row.about_starts_at:
        return "The appointment has moved."
    if row.kind == NotificationKind.REMINDER and appointment.starts_at <= now:
        return "The appointment has begun."
    return ""


def _email_of(patient: Patient) -> str:
    return patient.email or (patient.user.email if patient.user else "")


def _no_address(row: Notification) -> str:
    if row.channel == NotificationChannel.EMAIL and not _email_of(row.patient):
        return "The patient has no email address."
    if row.channel == NotificationChannel.SMS and not row.patient.phone:
        return "The patient has no phone number."
    return ""


def _facts(row: Notification) -> messages.MessageFacts:
    clinic = row.clinic
    offer = row.waitlist_offer
    if row.check_in is not None:
        return messages.MessageFacts(
            kind=row.kind,
            clinic_name=clinic.name,
            clinic_phone=clinic.phone,
            starts_local=row.about_starts_at.astimezone(clinic.zone),
            duration_minutes=0,
            therapist_name="",
            link=settings.SITE_URL + reverse("check_in", args=[check_in_token(row.check_in)]),
            follow_up_number=row.check_in.follow_up_number,
        )
    if offer is not None:
        therapist, minutes = offer.therapist, offer.entry.service.duration_minutes
        link = settings.SITE_URL + reverse(
            "waitlist_offer", args=[signing.dumps(str(offer.pk), salt=OFFER_SALT)]
        )
        expires: datetime | None = offer.expires_at.astimezone(clinic.zone)
    else:
        assert row.appointment is not None
        therapist = row.appointment.therapist
        minutes = row.appointment.service.duration_minutes
        link = settings.SITE_URL + _appointment_link(row)
        expires = None
    return messages.MessageFacts(
        kind=row.kind,
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
        starts_local=row.about_starts_at.astimezone(clinic.zone),
        duration_minutes=minutes,
        therapist_name=therapist.user.full_name,
        link=link,
        covers_course=row.covers_course,
        offer_expires_local=expires,
    )


def _appointment_link(row: Notification) -> str:
    if row.kind == NotificationKind.CHECK_IN:
        assert row.appointment is not None
        check_in = check_in_for_visit(row.appointment.pk)
        assert check_in is not None  # checked by _no_longer_true
        return reverse("check_in", args=[check_in_token(check_in)])
    if row.kind == NotificationKind.CANCELLED:
        return reverse("portal_booking")
    return reverse("portal_appointments")


def _hand_over(row: Notification) -> None:
    facts = _facts(row)
    if row.channel == NotificationChannel.SMS:
        send_text_message(
            TextMessage(
                to=row.patient.phone, body=messages.text_message(facts), reference=str(row.pk)
            )
        )
        return
    email = EmailMessage(
        subject=messages.email_subject(facts),
        body=messages.email_body(facts),
        to=[_email_of(row.patient)],
        headers={"Message-ID": f"<{row.pk}@backcare>"},
    )
    attachment = _calendar_attachment(row)
    if attachment is not None:
        email.attach("appointment.ics", attachment, "text/calendar")
    email.send()


def _calendar_attachment(row: Notification) -> bytes | None:
    """The .ics of a confirmation or a move: the appointment, or all the course's sessions still
    ahead when the notice covers the course."""
    if row.kind not in (NotificationKind.CONFIRMATION, NotificationKind.MOVED):
        return None
    appointment = row.appointment
    assert appointment is not None
    rows = [appointment]
    if row.covers_course and appointment.course_id is not None:
        rows = list(
            Appointment.objects.filter(
                clinic_id=row.clinic_id,
                course_id=appointment.course_id,
                status__in=CHANGEABLE_STATUSES,
                starts_at__gte=appointment.starts_at,
            ).select_related("service", "therapist__user", "room")
        )
    clinic = row.clinic
    events = [
        ical.FeedEvent(
            uid=f"{each.pk}@backcare",
            starts_at=each.starts_at,
            ends_at=each.ends_at,
            summary=f"{each.service.name} with {each.therapist.user.full_name}",
            location=clinic.name + (f", {each.room.name}" if each.room_id and each.room else ""),
            tentative=each.status == AppointmentStatus.REQUESTED,
        )
        for each in rows
    ]
    return ical.calendar_bytes(clinic.name, events, stamp=timezone.now())


# --- Waitlist ------------------------------------------------------------------------------------

OFFER_SALT = "backcare.scheduling.waitlist-offer"
# A time closer than this is not offered: nobody could reasonably take it.
OFFER_MIN_NOTICE = timedelta(hours=2)
# Entries looked at for one freed time (each check reads availability); the rest keep waiting.
OFFER_CANDIDATES = 20


def join_waitlist(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    service_id: uuid.UUID,
    therapist_id: uuid.UUID | None,
    first_date: date,
    last_date: date,
    earliest_time: time | None = None,
    latest_time: time | None = None,
) -> WaitlistEntry:
    """Put the patient on the clinic's waitlist for `service` with a therapist (None: any
    suitable one) between two dates, optionally starting within a time of day. The patient
    themself or clinic staff. Returns the entry; the first in line is offered a freed time.

    `ConflictError` for a patient on hold (they cannot book yet); `InvalidInputError` for an
    unknown service or therapist, dates in the past or out of order, a time window that ends
    before it starts, or more than `MAX_WAITLIST_DAYS` days; `NotFoundError` (audited) for
    anyone else.
    """
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="waitlist.join")
    clinic = patient.clinic
    service = _bookable_service(clinic, service_id)
    if therapist_id is not None:
        _bookable_therapist(actor, clinic, therapist_id, max(first_date, clinic.local_date()))
    _check_waitlist_window(clinic, first_date, last_date, earliest_time, latest_time)
    _check_hold(patient)
    entry = WaitlistEntry(
        clinic_id=clinic.pk,
        patient=patient,
        service=service,
        therapist_id=therapist_id,
        first_date=first_date,
        last_date=last_date,
        earliest_time=earliest_time,
        latest_time=latest_time,
        created_by=acting_user(actor),
    )
    with transaction.atomic():
        entry.save()
        record_event(
            actor=actor,
            action="waitlist.join",
            clinic_id=clinic.pk,
            patient_id=patient.pk,
            obj=entry,
        )
    return entry


MAX_WAITLIST_DAYS = 92


def _check_waitlist_window(
    clinic: Clinic, first: date, last: date, earliest: time | None, latest: time | None
) -> None:
    errors: dict[str, str] = {}
    if first < clinic.local_date():
        errors["first_date"] = "Choose today or a later day."
    if last < first:
        errors["last_date"] = "The last day must not be before the first."
    elif (last - first).days > MAX_WAITLIST_DAYS:
        errors["last_date"] = f"Choose at most {MAX_WAITLIST_DAYS} days."
    if earliest is not None and latest is not None and latest < earliest:
        errors["latest_time"] = "The latest start must not be before the earliest."
    if errors:
        raise InvalidInputError("Check the dates and times of the waitlist.", field_errors=errors)


def leave_waitlist(*, actor: Viewer, entry_id: uuid.UUID) -> WaitlistEntry:
    """Take a waiting (or offered) entry off the waitlist; an open offer lapses. The patient or
    clinic staff; `NotFoundError` (audited) for anyone else, `ConflictError` when it is no longer
    waiting."""
    entry = _waitlist_entry_for(actor, entry_id, action="waitlist.leave")
    with transaction.atomic():
        current = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if current.status not in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
            raise ConflictError("This waitlist entry is no longer waiting.")
        WaitlistOffer.objects.filter(entry=current, status=WaitlistOfferStatus.OPEN).update(
            status=WaitlistOfferStatus.DECLINED, answered_at=timezone.now()
        )
        current.status = WaitlistStatus.WITHDRAWN
        current.save(update_fields=["status", "updated_at"])
        record_event(
            actor=actor,
            action="waitlist.leave",
            clinic_id=current.clinic_id,
            patient_id=current.patient_id,
            obj=current,
        )
        return current


def _waitlist_entry_for(viewer: Viewer, entry_id: uuid.UUID, *, action: str) -> WaitlistEntry:
    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise deny(
            viewer, action=action, object_type="scheduling.waitlistentry", object_id=str(entry_id)
        )
    find_patient(viewer, entry.patient_id, roles=SEE_ALL_ROLES, action=action)
    return entry


def offer_freed_time(
    *,
    clinic_id: uuid.UUID,
    therapist_id: uuid.UUID,
    starts_at: datetime,
    now: datetime | None = None,
) -> WaitlistOffer | None:
    """Offer the time that became free at `starts_at` with the therapist to the first entry in
    line that it suits (its therapist or any, its dates and time of day, its service fits there
    now, the patient may book and is not busy), unless an offer of that time is already open or
    it is less than `OFFER_MIN_NOTICE` away. The offer lasts the clinic's
    `waitlist_offer_hours` (not past the time itself less the notice) and is emailed with a
    signed link. Returns the offer, or None when nobody is offered. A system action (no actor).
    """
    moment = now or timezone.now()
    if starts_at - moment < OFFER_MIN_NOTICE:
        return None
    clinic = clinic_for_system(clinic_id)
    if WaitlistOffer.objects.filter(
        clinic_id=clinic_id,
        therapist_id=therapist_id,
        starts_at=starts_at,
        status__in=(WaitlistOfferStatus.OPEN, WaitlistOfferStatus.ACCEPTED),
    ).exists():
        return None
    entry = _first_suited(clinic, therapist_id, starts_at, moment)
    if entry is None:
        return None
    hours = scheduling_settings(clinic_id).waitlist_offer_hours
    expires = min(moment + timedelta(hours=hours), starts_at - OFFER_MIN_NOTICE)
    with transaction.atomic():
        current = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if current.status != WaitlistStatus.WAITING:
            return None
        offer = WaitlistOffer.objects.create(
            clinic_id=clinic_id,
            entry=current,
            therapist_id=therapist_id,
            starts_at=starts_at,
            expires_at=expires,
        )
        current.status = WaitlistStatus.OFFERED
        current.save(update_fields=["status", "updated_at"])
        _queue_offer_notice(offer, current)
        record_event(
            actor=None,
            action="waitlist.offer",
            clinic_id=clinic_id,
            patient_id=current.patient_id,
            obj=offer,
        )
        return offer


def _first_suited(
    clinic: Clinic, therapist_id: uuid.UUID, starts_at: datetime, now: datetime
) -> WaitlistEntry | None:
    local = starts_at.astimezone(clinic.zone)
    day, clock = local.date(), local.time()
    offered_before = WaitlistOffer.objects.filter(
        entry=OuterRef("pk"), therapist_id=therapist_id, starts_at=starts_at
    )
    candidates = (
        WaitlistEntry.objects.filter(
            clinic_id=clinic.pk,
            status=WaitlistStatus.WAITING,
            first_date__lte=day,
            last_date__gte=day,
        )
        .filter(Q(therapist_id=therapist_id) | Q(therapist__isnull=True))
        .filter(Q(earliest_time__isnull=True) | Q(earliest_time__lte=clock))
        .filter(Q(latest_time__isnull=True) | Q(latest_time__gte=clock))
        .filter(~Exists(offered_before))
        .select_related("service", "patient")
        .order_by("created_at")[:OFFER_CANDIDATES]
    )
    if not therapist_bookable_for_system(clinic, therapist_id, on=day):
        return None
    for entry in candidates:
        if hold_status(entry.patient).may_book and starts_at in free_starts(
            clinic,
            therapist_id=therapist_id,
            service=entry.service,
            first_day=day,
            last_day=day,
            not_before=now,
            patient_id=entry.patient_id,
        ):
            return entry
    return None


def _queue_offer_notice(offer: WaitlistOffer, entry: WaitlistEntry) -> None:
    now = timezone.now()
    channels = [NotificationChannel.EMAIL]
    if scheduling_settings(offer.clinic_id).sms_enabled:
        channels.append(NotificationChannel.SMS)
    Notification.objects.bulk_create(
        [
            Notification(
                clinic_id=offer.clinic_id,
                patient_id=entry.patient_id,
                waitlist_offer=offer,
                kind=NotificationKind.WAITLIST_OFFER,
                channel=channel,
                about_starts_at=offer.starts_at,
                key=f"waitlist_offer:{offer.pk}:{channel}",
                due_at=now,
            )
            for channel in channels
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_ask_for_delivery)


def waitlist_offer_id(token: str) -> uuid.UUID:
    """The offer id a link's signed token names; `NotFoundError` (audited) for a token that was
    altered, is not ours, or is older than the longest offer."""
    try:
        value = signing.loads(
            token, salt=OFFER_SALT, max_age=timedelta(hours=MAX_WAITLIST_OFFER_HOURS)
        )
        return uuid.UUID(str(value))
    except (signing.BadSignature, ValueError) as error:
        record_event(actor=None, action="waitlist.offer.view", outcome=Outcome.DENIED)
        raise NotFoundError("This link is not valid.") from error


def accept_waitlist_offer(*, actor: Viewer, offer_id: uuid.UUID) -> Appointment:
    """Book the offered time for the offer's patient (the patient or clinic staff), with every
    check of `book_appointment`. `ConflictError` when the offer has expired or was answered;
    `SlotTakenError` when the time was taken meanwhile (the offer ends, the patient keeps their
    place in line); `NotFoundError` (audited) for anyone else."""
    offer = _offer_for(actor, offer_id, action="waitlist.accept")
    entry = offer.entry
    _check_offer_open(offer)
    try:
        with transaction.atomic():
            appointment = book_appointment(
                booked_by=actor,
                patient_id=entry.patient_id,
                therapist_id=offer.therapist_id,
                service_id=entry.service_id,
                starts_at=offer.starts_at,
            )
            _answer_offer(
                offer.pk, WaitlistOfferStatus.ACCEPTED, WaitlistStatus.BOOKED, appointment
            )
    except SlotTakenError:
        _answer_offer(offer.pk, WaitlistOfferStatus.TAKEN, WaitlistStatus.WAITING, None)
        raise
    record_event(
        actor=actor,
        action="waitlist.accept",
        clinic_id=offer.clinic_id,
        patient_id=entry.patient_id,
        obj=offer,
    )
    return appointment


def decline_waitlist_offer(*, actor: Viewer, offer_id: uuid.UUID) -> WaitlistOffer:
    """Decline an open offer: the patient keeps their place for another time, and the time is
    offered to the next in line. `ConflictError` when it is no longer open; `NotFoundError`
    (audited) for anyone but the patient and clinic staff."""
    offer = _offer_for(actor, offer_id, action="waitlist.decline")
    _check_offer_open(offer)
    _answer_offer(offer.pk, WaitlistOfferStatus.DECLINED, WaitlistStatus.WAITING, None)
    record_event(
        actor=actor,
        action="waitlist.decline",
        clinic_id=offer.clinic_id,
        patient_id=offer.entry.patient_id,
        obj=offer,
    )
    _offer_when_committed(offer.clinic_id, offer.therapist_id, offer.starts_at)
    offer.refresh_from_db()
    return offer


def _offer_for(viewer: Viewer, offer_id: uuid.UUID, *, action: str) -> WaitlistOffer:
    offer = (
        WaitlistOffer.objects.select_related("entry", "entry__service").filter(pk=offer_id).first()
    )
    if offer is None:
        raise deny(
            viewer, action=action, object_type="scheduling.waitlistoffer", object_id=str(offer_id)
        )
    find_patient(viewer, offer.entry.patient_id, roles=SEE_ALL_ROLES, action=action)
    return offer


def _check_offer_open(offer: WaitlistOffer) -> None:
    if offer.status != WaitlistOfferStatus.OPEN:
        raise ConflictError(f"This offer is no longer open ({offer.get_status_display().lower()}).")
    if offer.expires_at <= timezone.now():
        raise ConflictError("This offer has expired; the time was offered to the next person.")


def _answer_offer(
    offer_id: uuid.UUID,
    status: WaitlistOfferStatus,
    entry_status: WaitlistStatus,
    appointment: Appointment | None,
) -> None:
    with transaction.atomic():
        offer = WaitlistOffer.objects.select_for_update().get(pk=offer_id)
        if offer.status != WaitlistOfferStatus.OPEN:
            raise ConflictError("This offer is no longer open.")
        offer.status = status
        offer.answered_at = timezone.now()
        offer.appointment = appointment
        offer.save(update_fields=["status", "answered_at", "appointment", "updated_at"])
        WaitlistEntry.objects.filter(pk=offer.entry_id, status=WaitlistStatus.OFFERED).update(
            status=entry_status, updated_at=timezone.now()
        )


def expire_waitlist_offers(*, now: datetime | None = None) -> int:
    """End open offers past their time (the patients keep their place for other times) and
    offer each time to the next in line. Returns how many ended. Safe to run repeatedly."""
    moment = now or timezone.now()
    ended = 0
    for offer_id in WaitlistOffer.objects.filter(
        status=WaitlistOfferStatus.OPEN, expires_at__lte=moment
    ).values_list("pk", flat=True):
        try:
            _answer_offer(offer_id, WaitlistOfferStatus.EXPIRED, WaitlistStatus.WAITING, None)
        except ConflictError:
            continue  # answered meanwhile
        ended += 1
        offer = WaitlistOffer.objects.get(pk=offer_id)
        record_event(
            actor=None,
            action="waitlist.expire",
            clinic_id=offer.clinic_id,
            obj=offer,
        )
        offer_freed_time(
            clinic_id=offer.clinic_id,
            therapist_id=offer.therapist_id,
            starts_at=offer.starts_at,
            now=moment,
        )
    return ended


def _offer_when_committed(
    clinic_id: uuid.UUID, therapist_id: uuid.UUID, starts_at: datetime
) -> None:
    """Once the transaction commits, offer the time it freed to the waitlist (a task)."""
    transaction.on_commit(lambda: _ask_to_offer(clinic_id, therapist_id, starts_at))


def _ask_to_offer(clinic_id: uuid.UUID, therapist_id: uuid.UUID, starts_at: datetime) -> None:
    from backcare.scheduling import tasks  # here: tasks imports this module

    tasks.offer_freed_time.enqueue(str(clinic_id), str(therapist_id), starts_at.isoformat())


def complete_appointment(*, actor: Viewer, appointment_id: uuid.UUID) -> Appointment:
    """Mark a booked appointment as attended (its visit note was signed): it counts as a
    session in progress and analytics and can no longer be moved or cancelled. Clinic staff
    only (`NotFoundError`, audited, for others); `ConflictError` for an appointment not booked
    or not yet begun. Calling it again on a completed one changes nothing."""
    appointment, patient = _appointment_for(
        actor, appointment_id, action="appointment.complete", allow_self=False
    )
    with transaction.atomic():
        current = _locked(appointment.pk)
        if current.status == AppointmentStatus.COMPLETED:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise ConflictError("Only a booked appointment can be marked attended.")
        if current.starts_at > timezone.now():
            raise ConflictError("An appointment can be marked attended once it has begun.")
        current.status = AppointmentStatus.COMPLETED
        current.save(update_fields=["status", "updated_at"])
        record_event(
            actor=actor,
            action="appointment.complete",
            clinic_id=current.clinic_id,
            patient_id=patient.pk,
            obj=current,
        )
        return current


def approve_appointment(*, actor: Viewer, appointment_id: uuid.UUID) -> Appointment:
    """Approve an appointment waiting for approval: it becomes booked. For a course, its other
    future sessions waiting for approval are approved too (the patient asked for them at once).

    For clinic staff (admins, front desk, therapists of the patient's clinic); anyone else,
    the patient included, gets `NotFoundError` (audited). `ConflictError` when the appointment
    is not waiting for approval or its time has passed.
    """
    appointment, patient = _appointment_for(
        actor, appointment_id, action="appointment.approve", allow_self=False
    )
    with transaction.atomic():
        current = _locked(appointment.pk)
        if current.status != AppointmentStatus.REQUESTED:
            raise ConflictError("Only an appointment waiting for approval can be approved.")
        now = timezone.now()
        if current.starts_at < now:
            raise ConflictError(
                "That appointment's time has passed; cancel it and book a new time."
            )
        approving = [current]
        if current.course_id is not None:
            approving += list(
                Appointment.objects.select_for_update()
                .filter(
                    clinic_id=current.clinic_id,
                    course_id=current.course_id,
                    status=AppointmentStatus.REQUESTED,
                    starts_at__gte=now,
                )
                .exclude(pk=current.pk)
            )
        for each in approving:
            each.status = AppointmentStatus.BOOKED
            each.save(update_fields=["status", "updated_at"])
            record_event(
                actor=actor,
                action="appointment.approve",
                clinic_id=each.clinic_id,
                patient_id=patient.pk,
                obj=each,
            )
            _tell_webhooks(each, WebhookEvent.APPOINTMENT_CHANGED)
        _queue_notice(current, NotificationKind.CONFIRMATION, covers_course=len(approving) > 1)
        return current


# --- Settings ---------------------------------------------------------------------------------


def change_scheduling_settings(
    *,
    changed_by: Viewer,
    clinic: Clinic | None,
    cancellation_window_hours: int,
    new_patients_need_approval: bool,
    reminder_hours_before: int | None = None,
    sms_enabled: bool | None = None,
    waitlist_offer_hours: int | None = None,
) -> SchedulingSettings:
    """Set the clinic's booking rules: the cancellation window (0 to 336 hours), whether new
    patients' own bookings wait for approval, how long before an appointment reminders go out
    (0 to 168 hours; 0 sends none), whether confirmations and reminders also go by text message,
    and how long a waitlist offer stays open (1 to 72 hours). The last three keep their current
    values when not given. Clinic admins only (`NotFoundError`, audited, for others);
    `InvalidInputError` naming each value out of range. One audit event lists every value."""
    clinic = require_roles(changed_by, clinic, ADMIN_ROLES, action="scheduling.settings")
    settings = scheduling_settings(clinic.pk)
    if reminder_hours_before is None:
        reminder_hours_before = settings.reminder_hours_before
    if sms_enabled is None:
        sms_enabled = settings.sms_enabled
    if waitlist_offer_hours is None:
        waitlist_offer_hours = settings.waitlist_offer_hours
    errors = {}
    if not _whole_in(cancellation_window_hours, 0, MAX_CANCELLATION_WINDOW_HOURS):
        errors["cancellation_window_hours"] = (
            f"Choose 0 to {MAX_CANCELLATION_WINDOW_HOURS} hours for the cancellation window."
        )
    if not _whole_in(reminder_hours_before, 0, MAX_REMINDER_HOURS):
        errors["reminder_hours_before"] = (
            f"Choose 0 to {MAX_REMINDER_HOURS} hours before for reminders (0 sends none)."
        )
    if not _whole_in(waitlist_offer_hours, 1, MAX_WAITLIST_OFFER_HOURS):
        errors["waitlist_offer_hours"] = (
            f"Choose 1 to {MAX_WAITLIST_OFFER_HOURS} hours for a waitlist offer."
        )
    if errors:
        raise InvalidInputError(" ".join(errors.values()), field_errors=errors)
    settings.cancellation_window_hours = cancellation_window_hours
    settings.new_patients_need_approval = new_patients_need_approval
    settings.reminder_hours_before = reminder_hours_before
    settings.sms_enabled = sms_enabled
    settings.waitlist_offer_hours = waitlist_offer_hours
    full_clean_or_invalid(settings)
    with transaction.atomic():
        settings.save()
        record_event(
            actor=changed_by,
            action="scheduling.settings",
            clinic_id=clinic.pk,
            obj=settings,
            detail={
                "cancellation_window_hours": cancellation_window_hours,
                "new_patients_need_approval": new_patients_need_approval,
                "reminder_hours_before": reminder_hours_before,
                "sms_enabled": sms_enabled,
                "waitlist_offer_hours": waitlist_offer_hours,
            },
        )
        return settings


# --- Calendar feeds --------------------------------------------------------------------------


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_calendar_feed(
    *, actor: Viewer, clinic: Clinic | None, kind: str
) -> tuple[CalendarFeed, str]:
    """A new private feed of the actor's own appointments at the clinic: as a patient, or as a
    therapist. Returns the feed and its token, which is shown once and stored only hashed.
    Raises `NotFoundError` (audited) when the actor has no such role there."""
    role = Role.PATIENT if kind == CalendarFeedKind.PATIENT else Role.THERAPIST
    clinic = require_roles(actor, clinic, {role}, action="calendar_feed.create")
    patient_id = own_patient_id(actor, clinic) if role == Role.PATIENT else None
    therapist = get_own_therapist(actor) if role == Role.THERAPIST else None
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            clinic=clinic,
            owner=acting_user(actor),
            kind=kind,
            patient_id=patient_id,
            therapist=therapist,
            token_sha256=_token_sha256(token),
        )
        record_event(
            actor=actor,
            action="calendar_feed.create",
            clinic_id=clinic.pk,
            patient_id=patient_id,
            obj=feed,
        )
        return feed, token


def revoke_calendar_feed(*, actor: Viewer, feed_id: uuid.UUID) -> CalendarFeed:
    """End a feed: its link answers 404 from now on. Only its owner may revoke it."""
    feed = CalendarFeed.objects.filter(pk=feed_id, owner=actor.pk).first()
    if feed is None:
        raise deny(
            actor,
            action="calendar_feed.revoke",
            object_type="scheduling.calendarfeed",
            object_id=str(feed_id),
        )
    with transaction.atomic():
        if feed.revoked_at is None:
            feed.revoked_at = timezone.now()
            feed.save(update_fields=["revoked_at", "updated_at"])
        record_event(
            actor=actor,
            action="calendar_feed.revoke",
            clinic_id=feed.clinic_id,
            patient_id=feed.patient_id,
            obj=feed,
        )
        return feed


FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)


def read_calendar_feed(*, token: str) -> bytes:
    """The feed's calendar for a calendar app (no login: the token is the key). Unknown and
    revoked tokens raise `NotFoundError` (audited). Each read is audited and stamps
    `last_used_at`."""
    feed = (
        CalendarFeed.objects.filter(token_sha256=_token_sha256(token), revoked_at__isnull=True)
        .select_related("clinic")
        .first()
    )
    if feed is None:
        record_event(actor=None, action="calendar_feed.read", outcome=Outcome.DENIED)
        raise NotFoundError("We could not find that calendar.")
    now = timezone.now()
    rows = feed_appointments(feed, start=now - FEED_PAST, end=now + FEED_FUTURE)
    events = [_feed_event(feed, row) for row in rows]
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        record_event(
            actor=None,
            action="calendar_feed.read",
            clinic_id=feed.clinic_id,
            patient_id=feed.patient_id,
            obj=feed,
            detail={"events": len(events)},
        )
    return ical.calendar_bytes(f"BackCare: {feed.clinic.name}", events, stamp=now)


def _feed_event(feed: CalendarFeed, row: Appointment) -> ical.FeedEvent:
    if feed.kind == CalendarFeedKind.PATIENT:
        summary = f"{row.service.name} with {row.therapist.user.full_name}"
    else:
        summary = f"Appointment: {row.service.name}"
    place = feed.clinic.name + (f", {row.room.name}" if row.room else "")
    return ical.FeedEvent(
        uid=f"{row.pk}@backcare",
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        summary=summary,
        location=place,
        tentative=row.status == AppointmentStatus.REQUESTED,
    )


# --- Clinic configuration -------------------------------------------------------------------------
# Services, therapists' working hours and time off: the clinic's own pages for what the Django
# admin also edits. Changing hours or adding time off never cancels an appointment: the hours page
# lists the appointments left outside working time (`queries.get_therapist_schedule`), so that
# the front desk can move them.


def add_service(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    name: str,
    description: str,
    duration_minutes: int,
    buffer_minutes: int,
    price: Decimal,
    technique_ids: Collection[int],
    is_active: bool = True,
) -> Service:
    """Add a service the clinic offers (clinic admins only; `NotFoundError`, audited, for
    others). `technique_ids` name techniques of the managed list that are in use. Raises
    `InvalidInputError` for a name the clinic already uses (whatever its case), a negative price,
    an unknown technique or a value out of the model's range (5 to 480 minutes, a buffer of at
    most 120)."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="service.create")
    service = Service(clinic=clinic)
    with transaction.atomic():
        _save_service(
            service,
            name=name,
            description=description,
            duration_minutes=duration_minutes,
            buffer_minutes=buffer_minutes,
            price=price,
            technique_ids=technique_ids,
            is_active=is_active,
        )
        record_event(
            actor=actor,
            action="service.create",
            clinic_id=clinic.pk,
            obj=service,
            detail={"active": service.is_active},
        )
        return service


def change_service(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    service_id: uuid.UUID,
    name: str,
    description: str,
    duration_minutes: int,
    buffer_minutes: int,
    price: Decimal,
    technique_ids: Collection[int],
    is_active: bool,
) -> Service:
    """Change a service of the clinic; `is_active=False` retires it (services are never deleted:
    appointments point at them). Booked appointments keep their times; the new duration and
    buffer apply to bookings from now on. Clinic admins only (`NotFoundError`, audited, for
    others and for another clinic's service); `InvalidInputError` as for `add_service`."""
    service = get_service_for_change(actor, clinic, service_id)
    with transaction.atomic():
        changed = _save_service(
            service,
            name=name,
            description=description,
            duration_minutes=duration_minutes,
            buffer_minutes=buffer_minutes,
            price=price,
            technique_ids=technique_ids,
            is_active=is_active,
        )
        record_event(
            actor=actor,
            action="service.update",
            clinic_id=service.clinic_id,
            obj=service,
            detail={"fields": changed, "active": service.is_active},
        )
        return service


def _save_service(
    service: Service,
    *,
    name: str,
    description: str,
    duration_minutes: int,
    buffer_minutes: int,
    price: Decimal,
    technique_ids: Collection[int],
    is_active: bool,
) -> list[str]:
    """Validate and save the service with its techniques; the names of the changed fields."""
    name = name.strip()
    same_name = Service.objects.filter(clinic_id=service.clinic_id, name__iexact=name)
    if same_name.exclude(pk=service.pk).exists():
        raise InvalidInputError(
            f"The clinic already has a service called “{name}”. Choose another name.",
            field_errors={"name": "A service with this name already exists."},
        )
    if price < 0:
        raise InvalidInputError(
            "A price cannot be negative; use 0 for a free service.",
            field_errors={"price": "Must be 0 or more."},
        )
    wanted = set(technique_ids)
    techniques = list(list_techniques().filter(pk__in=wanted))
    if len(techniques) != len(wanted):
        raise InvalidInputError(
            "Choose techniques from the list.", field_errors={"techniques": "Unknown technique."}
        )
    before = set() if service._state.adding else {t.pk for t in service.techniques.all()}
    values = {
        "name": name,
        "description": description.strip(),
        "duration_minutes": duration_minutes,
        "buffer_minutes": buffer_minutes,
        "price": price,
        "is_active": is_active,
    }
    changed = [key for key, value in values.items() if getattr(service, key) != value]
    for key, value in values.items():
        setattr(service, key, value)
    full_clean_or_invalid(service, exclude=["techniques"])
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError as error:
        raise ConflictError(
            f"A service called “{name}” was just added. Reload the page."
        ) from error
    service.techniques.set(techniques)
    if before != wanted:
        changed.append("techniques")
    return sorted(changed)


def add_working_hours(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    therapist_id: uuid.UUID,
    starts: time,
    ends: time,
    weekday: int | None = None,
    on_date: date | None = None,
    room_id: uuid.UUID | None = None,
) -> WorkingHours:
    """Add a block of the therapist's working hours at the clinic, in the clinic's local time:
    to the weekly pattern (give `weekday`, 0 for Monday to 6 for Sunday), or as a one-off change
    on `on_date` (its weekday is set from the date). The blocks of a date replace the weekly
    pattern that day; a day not worked at all is time off (`add_time_off`). Appointments are
    never cancelled: those left outside working time are listed on the hours page.

    For the clinic's admins and the therapist themself (`NotFoundError`, audited, for anyone
    else). `InvalidInputError` when neither or both of `weekday` and `on_date` are given, for a
    date already past (clinic date), a block that does not end after it starts, one that
    overlaps another block of the same weekday (weekly) or date (one-off), or a room that is not
    one of the clinic's rooms in use.
    """
    clinic, therapist = therapist_for_schedule(
        actor, clinic, therapist_id, action="working_hours.create"
    )
    if (weekday is None) == (on_date is None):
        raise InvalidInputError("Give either a weekday or a date for the working hours.")
    if on_date is not None:
        if on_date < clinic.local_date():
            raise InvalidInputError(
                "That date has passed; choose today or a later date.",
                field_errors={"on_date": "Choose today or a later date."},
            )
        weekday = on_date.weekday()
    if weekday is None or not _whole_in(weekday, 0, 6):
        raise InvalidInputError(
            "Choose a day of the week.", field_errors={"weekday": "Choose a day of the week."}
        )
    if ends <= starts:
        raise InvalidInputError(
            "The block must end after it starts. Split a block that runs past midnight in two.",
            field_errors={"ends": "Must be after the start."},
        )
    rooms = list_rooms(actor, clinic)
    if room_id is not None and not rooms.filter(pk=room_id, is_active=True).exists():
        raise InvalidInputError(
            "Choose one of the clinic's rooms in use, or no room.",
            field_errors={"room": "Unknown room."},
        )
    with transaction.atomic():
        same_day = WorkingHours.objects.filter(
            clinic=clinic, therapist=therapist, starts__lt=ends, ends__gt=starts
        )
        if on_date is None:
            same_day = same_day.filter(on_date__isnull=True, weekday=weekday)
        else:
            same_day = same_day.filter(on_date=on_date)
        clash = same_day.order_by("starts").first()
        if clash is not None:
            message = (
                f"This block overlaps {_hours_label(clash)}. Change the times, or remove that "
                "block first."
            )
            raise InvalidInputError(message, field_errors={"starts": "Overlaps another block."})
        hours = WorkingHours(
            clinic=clinic,
            therapist=therapist,
            weekday=weekday,
            on_date=on_date,
            starts=starts,
            ends=ends,
            room_id=room_id,
        )
        full_clean_or_invalid(hours)
        hours.save()
        record_event(
            actor=actor,
            action="working_hours.create",
            clinic_id=clinic.pk,
            obj=hours,
            detail=_hours_detail(hours),
        )
        return hours


def remove_working_hours(
    *, actor: Viewer, clinic: Clinic | None, therapist_id: uuid.UUID, hours_id: uuid.UUID
) -> WorkingHours:
    """Remove a block of the therapist's weekly pattern, or of a one-off date not yet past
    (past dates stay on record: `ConflictError`). Returns the removed block (unsaved).
    Appointments are never cancelled. Who may: as for `add_working_hours`; `NotFoundError`
    (audited) for anyone else and for a block of another therapist or clinic."""
    clinic, therapist = therapist_for_schedule(
        actor, clinic, therapist_id, action="working_hours.delete"
    )
    hours = WorkingHours.objects.filter(clinic=clinic, therapist=therapist, pk=hours_id).first()
    if hours is None:
        raise deny(
            actor,
            action="working_hours.delete",
            clinic_id=clinic.pk,
            object_type="scheduling.workinghours",
            object_id=str(hours_id),
        )
    if hours.on_date is not None and hours.on_date < clinic.local_date():
        raise ConflictError("That date has passed; its working hours stay on record.")
    with transaction.atomic():
        record_event(
            actor=actor,
            action="working_hours.delete",
            clinic_id=clinic.pk,
            obj=hours,
            detail=_hours_detail(hours),
        )
        hours.delete()
        return hours


def _hours_label(hours: WorkingHours) -> str:
    day = f"{hours.on_date:%a %d %b %Y}" if hours.on_date else hours.get_weekday_display()
    return f"{day} {hours.starts:%H:%M}\N{EN DASH}{hours.ends:%H:%M}"


def _hours_detail(hours: WorkingHours) -> dict[str, object]:
    return {
        "therapist_id": str(hours.therapist_id),
        "weekday": hours.weekday,
        "on_date": hours.on_date.isoformat() if hours.on_date else None,
        "starts": hours.starts.isoformat(timespec="minutes"),
        "ends": hours.ends.isoformat(timespec="minutes"),
        "room_id": str(hours.room_id) if hours.room_id else None,
    }


def add_time_off(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    therapist_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
) -> TimeOff:
    """Record the therapist's time off (holiday, training, illness): no free times in it.
    Appointments in it are never cancelled: the hours page lists them. Who may: as for
    `add_working_hours`. `InvalidInputError` for times without a zone, an end not after the
    start, or a reason longer than 200 characters. The reason is not copied to the audit log."""
    clinic, therapist = therapist_for_schedule(
        actor, clinic, therapist_id, action="time_off.create"
    )
    _aware(starts_at, "starts_at")
    _aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise InvalidInputError(
            "The time off must end after it starts.",
            field_errors={"ends_at": "Must be after the start."},
        )
    with transaction.atomic():
        time_off = TimeOff(
            clinic=clinic,
            therapist=therapist,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip(),
        )
        full_clean_or_invalid(time_off)
        time_off.save()
        record_event(
            actor=actor,
            action="time_off.create",
            clinic_id=clinic.pk,
            obj=time_off,
            detail=_time_off_detail(time_off),
        )
        return time_off


def remove_time_off(
    *, actor: Viewer, clinic: Clinic | None, therapist_id: uuid.UUID, time_off_id: uuid.UUID
) -> TimeOff:
    """Remove time off that is current or still to come; time off already over stays on record
    (`ConflictError`). Returns the removed row (unsaved). Who may: as for `add_working_hours`;
    `NotFoundError` (audited) for anyone else and for another therapist's or clinic's time off."""
    clinic, therapist = therapist_for_schedule(
        actor, clinic, therapist_id, action="time_off.delete"
    )
    time_off = TimeOff.objects.filter(clinic=clinic, therapist=therapist, pk=time_off_id).first()
    if time_off is None:
        raise deny(
            actor,
            action="time_off.delete",
            clinic_id=clinic.pk,
            object_type="scheduling.timeoff",
            object_id=str(time_off_id),
        )
    if time_off.ends_at <= timezone.now():
        raise ConflictError("That time off is over; past time off stays on record.")
    with transaction.atomic():
        record_event(
            actor=actor,
            action="time_off.delete",
            clinic_id=clinic.pk,
            obj=time_off,
            detail=_time_off_detail(time_off),
        )
        time_off.delete()
        return time_off


def _time_off_detail(time_off: TimeOff) -> dict[str, object]:
    return {
        "therapist_id": str(time_off.therapist_id),
        "starts_at": time_off.starts_at.isoformat(),
        "ends_at": time_off.ends_at.isoformat(),
    }


def remove_finished_notifications(now: datetime) -> int:
    """The retention rule of the outbox: remove messages no longer pending whose due time is
    more than BACKCARE_RETENTION_NOTIFICATION_DAYS before `now`; returns how many. Pending
    ones stay, however old."""
    cutoff = now - timedelta(days=settings.BACKCARE_RETENTION_NOTIFICATION_DAYS)
    finished = Notification.objects.exclude(status=NotificationStatus.PENDING)
    removed, _ = finished.filter(due_at__lt=cutoff).delete()
    return removed
