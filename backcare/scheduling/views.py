"""Booking pages: a patient books online, the front desk books for a patient; the patient's
appointments, with moving and cancelling. The clinic's scheduling configuration: services,
therapists' working hours and time off, scheduling settings."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST

from backcare.accounts.context import clinic_context
from backcare.accounts.models import Clinic, Role, Therapist
from backcare.accounts.queries import (
    ADMIN_ROLES,
    list_bookable_therapists,
    list_rooms,
    list_therapists,
    require_roles,
)
from backcare.core.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    http_status_for,
)
from backcare.core.http import UNPROCESSABLE, render_form, render_refusal
from backcare.core.ratelimit import rate_limited
from backcare.patients.models import Patient
from backcare.patients.queries import SEE_ALL_ROLES, find_own_patient, find_patient, own_patient_id
from backcare.scheduling import queries, services
from backcare.scheduling.forms import (
    ANY_THERAPIST,
    BookingSearchForm,
    CalendarForm,
    DatedHoursForm,
    RescheduleForm,
    SchedulingSettingsForm,
    ServiceForm,
    SlotForm,
    TimeOffForm,
    WaitlistForm,
    WeekForm,
    WeeklyHoursForm,
)
from backcare.scheduling.models import Appointment, Service
from backcare.scheduling.queries import RescheduleOptions
from backcare.scheduling.services import SlotTakenError
from backcare.triage.queries import get_hold_status_of

MAX_THERAPISTS_SHOWN = 12


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    therapist: Therapist


@rate_limited
@login_required
@require_http_methods(["GET", "POST"])
def portal_booking(request: HttpRequest) -> HttpResponse:
    """The patient books a session online."""
    patient = find_own_patient(request.user, clinic_context(request).clinic, action="portal.view")
    return _booking_page(request, patient, portal=True)


@login_required
@require_http_methods(["GET", "POST"])
def patient_booking(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The front desk (or a therapist) books for a patient."""
    patient = find_patient(
        request.user, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="appointment.create"
    )
    return _booking_page(request, patient, portal=False)


def _booking_page(request: HttpRequest, patient: Patient, *, portal: bool) -> HttpResponse:
    clinic = patient.clinic
    taken: SlotTakenError | None = None
    refusal: DomainError | None = None
    if request.method == "POST":
        slot = SlotForm(request.POST)
        if slot.is_valid() and (slot.cleaned_data["sessions"] or 1) > 1:
            return _course(request, patient, slot, portal=portal)
        if slot.is_valid():
            try:
                services.book_appointment(
                    booked_by=request.user,
                    patient_id=patient.pk,
                    therapist_id=slot.cleaned_data["therapist"],
                    service_id=slot.cleaned_data["service"],
                    starts_at=slot.cleaned_data["starts_at"],
                )
            except SlotTakenError as error:
                taken = error
            except DomainError as error:
                refusal = error
            else:
                messages.success(request, "Your session is booked." if portal else "Booked.")
                return redirect(_appointments_url(patient, portal))
        else:
            refusal = InvalidInputError("Choose a time from the list of free times.")
    return _render_search(request, clinic, patient, portal=portal, taken=taken, refusal=refusal)


def _course(
    request: HttpRequest, patient: Patient, slot: SlotForm, *, portal: bool
) -> HttpResponse:
    """A course: first the sessions with any taken ones and their alternatives; on confirming,
    the whole course is booked, or none of it."""
    data = slot.cleaned_data
    args = {
        "patient_id": patient.pk,
        "therapist_id": data["therapist"],
        "service_id": data["service"],
        "first_starts_at": data["starts_at"],
        "sessions_count": data["sessions"],
        "starts_overrides": slot.overrides(request.POST),
    }
    error: DomainError | None = None
    if request.POST.get("confirm") == "1":
        try:
            services.book_course(booked_by=request.user, **args)
        except DomainError as refused:
            error = refused
        else:
            messages.success(request, f"Your course of {data['sessions']} sessions is booked.")
            return redirect(_appointments_url(patient, portal))
    try:
        sessions = services.preview_course(viewer=request.user, **args)
    except DomainError as refused:
        return render_refusal(request, refused, back_url=request.path)
    context = {
        "patient": patient,
        "portal": portal,
        "sessions": sessions,
        "slot": data,
        "chosen": args["starts_overrides"],
        "error": error,
    }
    status = 409 if error else 200
    return render(request, "scheduling/course_preview.html", context, status=status)


def _appointments_url(patient: Patient, portal: bool) -> str:
    if portal:
        return reverse("portal_appointments")
    return reverse("patient_appointments", args=[patient.pk])


def _render_search(
    request: HttpRequest,
    clinic: Clinic,
    patient: Patient,
    *,
    portal: bool,
    taken: SlotTakenError | None,
    refusal: DomainError | None,
) -> HttpResponse:
    today = clinic.local_date()
    therapists = queries.list_suitable_therapists(request.user, clinic, patient.pk, on=today)
    listed = queries.list_services(request.user, clinic)
    form = BookingSearchForm(
        request.GET or None, services=listed, therapists=therapists, today=today
    )
    hold = get_hold_status_of(request.user, patient)
    searched = form.cleaned_data if form.is_bound and form.is_valid() else {}
    days: list[tuple[date, list[Slot]]] = []
    if hold.may_book and searched:
        days = _free_days(request, clinic, patient, searched, therapists, listed)
    context: dict[str, Any] = {
        "form": form,
        "patient": patient,
        "portal": portal,
        "hold": hold,
        "days": days,
        "searched": bool(searched),
        "taken": taken,
        "refusal": refusal,
        "service_id": searched.get("service", ""),
        "sessions": searched.get("sessions") or 1,
    }
    invalid = form.is_bound and not form.is_valid()
    failed = taken or refusal
    status = http_status_for(failed) if failed else UNPROCESSABLE if invalid else 200
    return render(request, "scheduling/booking.html", context, status=status)


def _free_days(
    request: HttpRequest,
    clinic: Clinic,
    patient: Patient,
    data: dict[str, Any],
    therapists: list[Therapist],
    listed: list[Service],
) -> list[tuple[date, list[Slot]]]:
    chosen = data["therapist"] or ANY_THERAPIST
    pool = therapists if chosen == ANY_THERAPIST else [t for t in therapists if str(t.pk) == chosen]
    week: date = data["week"]
    found = queries.get_week_availability(
        request.user,
        clinic,
        therapists=pool[:MAX_THERAPISTS_SHOWN],
        service_id=uuid.UUID(data["service"]),
        first_day=week,
        last_day=week + timedelta(days=6),
        now=timezone.now(),
        patient_id=patient.pk,
        listed_services=listed,
    )
    slots = [Slot(start, therapist) for start, therapist in found]
    by_day: dict[date, list[Slot]] = {}
    for slot in sorted(slots, key=lambda s: (s.starts_at, s.therapist.user.full_name)):
        by_day.setdefault(clinic.local_date(slot.starts_at), []).append(slot)
    return sorted(by_day.items())


@login_required
def portal_appointments(request: HttpRequest) -> HttpResponse:
    """The patient's upcoming and past appointments."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    return _appointments_page(request, patient_id, portal=True)


@login_required
def patient_appointments(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's appointments, for clinic staff."""
    return _appointments_page(request, patient_id, portal=False)


def _appointments_page(
    request: HttpRequest, patient_id: uuid.UUID, *, portal: bool
) -> HttpResponse:
    listing = queries.list_patient_appointments(request.user, patient_id, now=timezone.now())
    context = {"listing": listing, "portal": portal, "patient": listing.patient}
    if not portal:
        context["note_ids"] = queries.visit_note_ids(
            request.user, listing.patient.clinic, [*listing.upcoming, *listing.past]
        )
    return render_form(request, "scheduling/appointments.html", context, invalid=False)


@login_required
@require_POST
def appointment_cancel(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    remaining = request.POST.get("remaining") == "1"
    try:
        appointment = services.cancel_appointment(
            cancelled_by=request.user, appointment_id=appointment_id, remaining_in_course=remaining
        )
    except ConflictError as error:
        return render_refusal(request, error, back_url=reverse("dashboard"))
    messages.success(
        request,
        "The appointment and the later sessions of its course are cancelled."
        if remaining
        else "The appointment is cancelled; its time is free again.",
    )
    portal = appointment.patient.user_id == request.user.pk
    return redirect(_appointments_url(appointment.patient, portal))


@dataclass(frozen=True)
class TimeChoice:
    """One radio button of the reschedule page; `id` ties its label and the error summary."""

    id: str
    starts_at: datetime


@login_required
@require_http_methods(["GET", "POST"])
def appointment_reschedule(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Move an appointment to another free time with the same therapist and service, a week of
    free times at a time: the patient (before the clinic's cancellation window) or their
    clinic's staff; 404 for anyone else. A taken time or a refusal shows the page again with
    the reason (409); a garbled time is a 422."""
    taken: SlotTakenError | None = None
    refusal: DomainError | None = None
    choice = RescheduleForm(request.POST) if request.method == "POST" else None
    if choice is not None:
        if choice.is_valid():
            data = choice.cleaned_data
            try:
                moved = services.reschedule_appointment(
                    actor=request.user,
                    appointment_id=appointment_id,
                    starts_at=data["starts_at"],
                    remaining_in_course=data["remaining_in_course"],
                )
            except SlotTakenError as error:
                taken = error
            except NotFoundError:
                raise
            except DomainError as error:
                refusal = error
            else:
                messages.success(request, _moved_message(moved, data["remaining_in_course"]))
                portal = moved.patient.user_id == request.user.pk
                return redirect(_appointments_url(moved.patient, portal))
        else:
            message = " ".join(str(e) for e in choice.errors.get("starts_at", []))
            refusal = InvalidInputError(message, field_errors={"starts_at": message})
        week_form = WeekForm({"week": request.POST.get("week", "")})
    else:
        week_form = WeekForm(request.GET)
    week = week_form.cleaned_data["week"] if week_form.is_valid() else None
    options = queries.get_reschedule_options(request.user, appointment_id, week, now=timezone.now())
    if options.week_error:
        week_form.add_error("week", options.week_error)
    failed = taken or refusal
    status = http_status_for(failed) if failed else UNPROCESSABLE if week_form.errors else 200
    chosen = choice.cleaned_data.get("starts_at") if choice is not None else None
    keep_course = bool(choice is not None and choice.cleaned_data.get("remaining_in_course"))
    portal = options.patient.user_id == request.user.pk
    context = {
        "options": options,
        "appointment": options.appointment,
        "patient": options.patient,
        "clinic": options.clinic,
        "portal": portal,
        "back_url": _appointments_url(options.patient, portal),
        "week_form": week_form,
        "week_end": options.week_start + timedelta(days=6),
        "days": _time_choices(options),
        "alternatives": _alternatives(taken),
        "taken": taken,
        "refusal": refusal,
        "chosen": chosen,
        "keep_course": keep_course,
    }
    return render(request, "scheduling/reschedule.html", context, status=status)


def _time_choices(options: RescheduleOptions) -> list[tuple[date, list[TimeChoice]]]:
    by_day: dict[date, list[TimeChoice]] = {}
    for number, start in enumerate(options.free, 1):
        day = options.clinic.local_date(start)
        by_day.setdefault(day, []).append(TimeChoice(f"time-{number}", start))
    return sorted(by_day.items())


def _alternatives(taken: SlotTakenError | None) -> list[TimeChoice]:
    """The next free times a lost single move offers (a course's refused session offers times
    in its own week instead, named in the message: they are not starts for this one)."""
    if taken is None or taken.session is not None:
        return []
    return [TimeChoice(f"next-{n}", start) for n, start in enumerate(taken.alternatives, 1)]


def _moved_message(moved: Appointment, with_course: bool) -> str:
    local = moved.starts_at.astimezone(moved.clinic.zone)
    message = f"Moved to {date_format(local, 'D j M Y, H:i')}."
    if with_course and moved.course_id is not None:
        message += " The later sessions of the course moved to the same weekday and time."
    return message


@rate_limited
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A private calendar feed for calendar apps: the secret token in the address is the key,
    so no login; unknown and revoked tokens get 404."""
    body = services.read_calendar_feed(token=token)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="backcare.ics"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feeds(request: HttpRequest) -> HttpResponse:
    """The signed-in person's calendar feeds: create one (its address is shown once), revoke."""
    ctx = clinic_context(request)
    if request.method == "POST":
        if request.POST.get("revoke"):
            services.revoke_calendar_feed(
                actor=request.user, feed_id=_uuid_or_404(request.POST["revoke"])
            )
            messages.success(request, "That calendar link no longer works.")
        else:
            _, token = services.create_calendar_feed(
                actor=request.user, clinic=ctx.clinic, kind=request.POST.get("kind", "")
            )
            url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
            messages.success(
                request,
                f"Your calendar link (shown only now; copy it into your calendar app): {url}",
            )
        return redirect("calendar_feeds")
    context = {
        "feeds": queries.list_calendar_feeds(request.user),
        "can_patient": ctx.has(Role.PATIENT),
        "can_therapist": ctx.has(Role.THERAPIST),
    }
    return render(request, "scheduling/calendar_feeds.html", context)


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise NotFoundError("We could not find that calendar link.") from error


@login_required
def staff_calendar(request: HttpRequest) -> HttpResponse:
    """Day and week calendars per therapist and per room, for clinic staff; htmx swaps the
    calendar when moving between days."""
    clinic = clinic_context(request).clinic
    therapists = [row.therapist for row in list_therapists(request.user, clinic)]
    form = CalendarForm(
        request.GET, therapists=therapists, rooms=list(list_rooms(request.user, clinic))
    )
    data = form.cleaned_data if form.is_valid() else {}
    assert clinic is not None
    first_day = data.get("day") or clinic.local_date()
    days = 7 if data.get("view") == "week" else 1
    page = queries.get_calendar(
        request.user,
        clinic,
        first_day=first_day,
        days=days,
        therapist_id=uuid.UUID(data["therapist"]) if data.get("therapist") else None,
        room_id=uuid.UUID(data["room"]) if data.get("room") else None,
    )
    step = timedelta(days=days)
    query = {k: v for k, v in request.GET.items() if k != "day"}
    listed = [appointment for _, appointments in page.days for appointment in appointments]
    context = {
        "form": form,
        "page": page,
        "note_ids": queries.visit_note_ids(request.user, page.clinic, listed),
        "view": "week" if days == 7 else "day",
        "previous": urlencode({**query, "day": (first_day - step).isoformat()}),
        "next": urlencode({**query, "day": (first_day + step).isoformat()}),
    }
    template = "scheduling/calendar.html"
    if request.headers.get("HX-Request") == "true":
        template += "#calendar"
    return render(request, template, context, status=200 if form.is_valid() else 400)


# --- Waitlist ---------------------------------------------------------------------------------


# --- Clinic configuration -------------------------------------------------------------------------


@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    """The clinic's services, offered and retired, for clinic staff; admins add and edit."""
    ctx = clinic_context(request)
    context = {
        "services": queries.list_clinic_services(request.user, ctx.clinic),
        "can_change": ctx.has(Role.CLINIC_ADMIN),
    }
    return render(request, "scheduling/service_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def portal_waitlist(request: HttpRequest) -> HttpResponse:
    """The patient's waitlist entries, and joining the waitlist."""
    patient_id = own_patient_id(request.user, clinic_context(request).clinic)
    return _waitlist_page(request, patient_id, portal=True)


@login_required
@require_http_methods(["GET", "POST"])
def patient_waitlist(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """A patient's waitlist entries, for clinic staff, who may add one for them."""
    return _waitlist_page(request, patient_id, portal=False)


def _waitlist_page(request: HttpRequest, patient_id: uuid.UUID, *, portal: bool) -> HttpResponse:
    listing = queries.list_waitlist(request.user, patient_id)
    clinic = listing.patient.clinic
    form = WaitlistForm(
        request.POST if request.method == "POST" else None,
        services=queries.list_services(request.user, clinic),
        therapists=list(
            list_bookable_therapists(request.user, clinic, on=clinic.local_date())[
                :MAX_THERAPISTS_SHOWN
            ]
        ),
        initial={"first_date": clinic.local_date(), "therapist": ANY_THERAPIST},
    )
    status = 200
    if request.method == "POST":
        status = UNPROCESSABLE
        if form.is_valid():
            try:
                services.join_waitlist(
                    actor=request.user,
                    patient_id=listing.patient.pk,
                    service_id=uuid.UUID(form.cleaned_data["service"]),
                    therapist_id=form.therapist_id(),
                    first_date=form.cleaned_data["first_date"],
                    last_date=form.cleaned_data["last_date"],
                    earliest_time=form.cleaned_data["earliest_time"],
                    latest_time=form.cleaned_data["latest_time"],
                )
            except DomainError as error:
                form.add_domain_error(error)
                status = http_status_for(error)
            else:
                messages.success(
                    request, "On the waitlist: we will email when a suitable time becomes free."
                )
                return redirect(_waitlist_url(listing.patient, portal))
    context = {"listing": listing, "form": form, "portal": portal, "patient": listing.patient}
    return render(request, "scheduling/waitlist.html", context, status=status)


def _waitlist_url(patient: Patient, portal: bool) -> str:
    if portal:
        return reverse("portal_waitlist")
    return reverse("patient_waitlist", args=[patient.pk])


@login_required
def service_add(request: HttpRequest) -> HttpResponse:
    clinic = require_roles(
        request.user, clinic_context(request).clinic, ADMIN_ROLES, action="service.create"
    )
    form = ServiceForm(
        request.POST if request.method == "POST" else None, initial={"is_active": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            service = services.add_service(actor=request.user, clinic=clinic, **form.service_args())
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Service “{service.name}” added.")
            return redirect("service_list")
    context = {"form": form, "service": None}
    return render_form(
        request, "scheduling/service_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    clinic = clinic_context(request).clinic
    service = queries.get_service_for_change(request.user, clinic, service_id)
    if request.method == "GET":
        form = ServiceForm(initial=model_to_dict(service))
    else:
        form = ServiceForm(request.POST)
        if form.is_valid():
            try:
                services.change_service(
                    actor=request.user, clinic=clinic, service_id=service.pk, **form.service_args()
                )
            except InvalidInputError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, f"Service “{form.cleaned_data['name']}” saved.")
                return redirect("service_list")
    context = {"form": form, "service": service}
    return render_form(
        request, "scheduling/service_form.html", context, invalid=request.method == "POST"
    )


def _hours_page(
    request: HttpRequest,
    therapist_id: uuid.UUID,
    *,
    weekly: WeeklyHoursForm | None = None,
    dated: DatedHoursForm | None = None,
    time_off: TimeOffForm | None = None,
) -> HttpResponse:
    """The therapist's hours page; a bound, refused form is shown with what was typed (422)."""
    clinic = clinic_context(request).clinic
    schedule = queries.get_therapist_schedule(
        request.user, clinic, therapist_id, now=timezone.now()
    )
    rooms = list(list_rooms(request.user, schedule.clinic))
    context = {
        "schedule": schedule,
        "therapist": schedule.therapist,
        "weekly_form": weekly or WeeklyHoursForm(prefix="weekly", rooms=rooms),
        "dated_form": dated or DatedHoursForm(prefix="dated", rooms=rooms, today=schedule.today),
        "time_off_form": time_off or TimeOffForm(prefix="off", zone=schedule.clinic.zone),
    }
    invalid = any(form is not None for form in (weekly, dated, time_off))
    return render_form(request, "scheduling/therapist_hours.html", context, invalid=invalid)


@login_required
def therapist_hours(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    """A therapist's weekly pattern, one-off dates and time off at the current clinic, with the
    appointments left outside working time; for the clinic's admins and the therapist."""
    return _hours_page(request, therapist_id)


def _schedule_clinic(request: HttpRequest, therapist_id: uuid.UUID, *, action: str) -> Clinic:
    """The current clinic, once the viewer may change the therapist's hours there (checked
    before the form reads the clinic's rooms, so a refusal is audited as `action`)."""
    clinic, _ = queries.therapist_for_schedule(
        request.user, clinic_context(request).clinic, therapist_id, action=action
    )
    return clinic


def _hours_saved(request: HttpRequest, therapist_id: uuid.UUID, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("therapist_hours", therapist_id=therapist_id)


@login_required
@require_POST
def waitlist_leave(request: HttpRequest, entry_id: uuid.UUID) -> HttpResponse:
    try:
        entry = services.leave_waitlist(actor=request.user, entry_id=entry_id)
    except ConflictError as error:
        return render_refusal(request, error, back_url=reverse("dashboard"))
    messages.success(request, "Taken off the waitlist.")
    portal = entry.patient.user_id == request.user.pk
    return redirect(_waitlist_url(entry.patient, portal))


@login_required
def clinic_waitlist(request: HttpRequest) -> HttpResponse:
    """The clinic's waitlist, first come first, for the front desk."""
    entries = queries.list_clinic_waitlist(request.user, clinic_context(request).clinic)
    return render(request, "scheduling/clinic_waitlist.html", {"entries": entries})


@login_required
@require_POST
def working_hours_add(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    """Add a block to the weekly pattern."""
    clinic = _schedule_clinic(request, therapist_id, action="working_hours.create")
    form = WeeklyHoursForm(
        request.POST, prefix="weekly", rooms=list(list_rooms(request.user, clinic))
    )
    if form.is_valid():
        try:
            services.add_working_hours(
                actor=request.user, clinic=clinic, therapist_id=therapist_id, **form.hours_args()
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            return _hours_saved(request, therapist_id, "Weekly hours added.")
    return _hours_page(request, therapist_id, weekly=form)


@login_required
@require_POST
def dated_hours_add(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    """Add a block of a one-off change on a date (it replaces the weekly pattern that day)."""
    clinic = _schedule_clinic(request, therapist_id, action="working_hours.create")
    rooms = list(list_rooms(request.user, clinic))
    form = DatedHoursForm(request.POST, prefix="dated", rooms=rooms, today=clinic.local_date())
    if form.is_valid():
        try:
            services.add_working_hours(
                actor=request.user, clinic=clinic, therapist_id=therapist_id, **form.hours_args()
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            day = form.cleaned_data["on_date"]
            return _hours_saved(request, therapist_id, f"Hours for {day:%a %d %b %Y} added.")
    return _hours_page(request, therapist_id, dated=form)


@login_required
@require_POST
def working_hours_remove(
    request: HttpRequest, therapist_id: uuid.UUID, hours_id: uuid.UUID
) -> HttpResponse:
    try:
        services.remove_working_hours(
            actor=request.user,
            clinic=clinic_context(request).clinic,
            therapist_id=therapist_id,
            hours_id=hours_id,
        )
    except ConflictError as error:
        back = reverse("therapist_hours", args=[therapist_id])
        return render_refusal(request, error, back_url=back)
    return _hours_saved(request, therapist_id, "Working hours removed.")


@login_required
@require_POST
def time_off_add(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    clinic = _schedule_clinic(request, therapist_id, action="time_off.create")
    form = TimeOffForm(request.POST, prefix="off", zone=clinic.zone)
    if form.is_valid():
        try:
            services.add_time_off(
                actor=request.user, clinic=clinic, therapist_id=therapist_id, **form.cleaned_data
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            return _hours_saved(request, therapist_id, "Time off added.")
    return _hours_page(request, therapist_id, time_off=form)


@login_required
@require_POST
def time_off_remove(
    request: HttpRequest, therapist_id: uuid.UUID, time_off_id: uuid.UUID
) -> HttpResponse:
    try:
        services.remove_time_off(
            actor=request.user,
            clinic=clinic_context(request).clinic,
            therapist_id=therapist_id,
            time_off_id=time_off_id,
        )
    except ConflictError as error:
        back = reverse("therapist_hours", args=[therapist_id])
        return render_refusal(request, error, back_url=back)
    return _hours_saved(request, therapist_id, "Time off removed.")


@rate_limited
@login_required
@require_http_methods(["GET", "POST"])
def waitlist_offer(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link to a freed time: book it or let it go to the next person."""
    offer_id = services.waitlist_offer_id(token)
    offer = queries.get_waitlist_offer(request.user, offer_id)
    portal = offer.entry.patient.user_id == request.user.pk
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "accept":
                services.accept_waitlist_offer(actor=request.user, offer_id=offer.pk)
                messages.success(request, "Booked: the time is yours.")
            else:
                services.decline_waitlist_offer(actor=request.user, offer_id=offer.pk)
                messages.success(request, "Thank you: the time goes to the next person.")
        except ConflictError as error:
            return render_refusal(
                request, error, back_url=_waitlist_url(offer.entry.patient, portal)
            )
        return redirect(_appointments_url(offer.entry.patient, portal))
    context = {
        "offer": offer,
        "open": offer.status == "open" and offer.expires_at > timezone.now(),
        "zone": offer.clinic.zone,
    }
    return render(request, "scheduling/waitlist_offer.html", context)


@login_required
def scheduling_settings_edit(request: HttpRequest) -> HttpResponse:
    """The clinic's booking rules, reminders, text messages and waitlist offers (admins)."""
    clinic = clinic_context(request).clinic
    current = queries.get_scheduling_settings(request.user, clinic)
    if request.method == "GET":
        form = SchedulingSettingsForm(initial=model_to_dict(current))
    else:
        form = SchedulingSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.change_scheduling_settings(
                    changed_by=request.user, clinic=clinic, **form.cleaned_data
                )
            except InvalidInputError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, "Scheduling settings saved.")
                return redirect("scheduling_settings")
    return render_form(
        request,
        "scheduling/scheduling_settings.html",
        {"form": form},
        invalid=request.method == "POST",
    )
