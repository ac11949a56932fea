"""Courses of sessions (the same local time across daylight-saving changes, previewed with
alternatives, booked whole or not at all), moving and cancelling with the clinic's cancellation
window, and approval of new patients' own bookings."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from backcare.accounts.models import Role, User
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.patients.models import Patient
from backcare.scheduling import services
from backcare.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Course,
    SchedulingSettings,
    TimeOff,
    WorkingHours,
)
from backcare.scheduling.queries import list_patient_appointments, scheduling_settings
from backcare.scheduling.services import CourseSession, SlotTakenError
from backcare.scheduling.tests.test_services import World
from backcare.triage.tests.factories import make_screening
from tests.factories import make_clinic, make_member, make_patient, make_room, make_user

# --- Helpers --------------------------------------------------------------------------------------


def make_own_patient(world: World) -> tuple[User, Patient]:
    """A screened patient with a portal login, who books and cancels for themself."""
    user = make_user()
    patient = make_patient(world.clinic, user=user)
    make_screening(world.desk, patient)
    return user, patient


def make_settings(world: World, **fields: object) -> SchedulingSettings:
    return SchedulingSettings.objects.create(clinic=world.clinic, **fields)


def preview(world: World, first: datetime, count: int = 10, **kwargs) -> list[CourseSession]:
    return services.preview_course(
        viewer=kwargs.pop("viewer", world.desk),
        patient_id=kwargs.pop("patient", world.patient).pk,
        therapist_id=world.therapist.pk,
        service_id=world.service.pk,
        first_starts_at=first,
        sessions_count=count,
        **kwargs,
    )


def book_course(world: World, first: datetime, count: int = 10, **kwargs) -> Course:
    return services.book_course(
        booked_by=kwargs.pop("booked_by", world.desk),
        patient_id=kwargs.pop("patient", world.patient).pk,
        therapist_id=world.therapist.pk,
        service_id=world.service.pk,
        first_starts_at=first,
        sessions_count=count,
        **kwargs,
    )


def sessions_of(course: Course) -> list[Appointment]:
    return list(Appointment.objects.filter(course=course).order_by("starts_at"))


def _sunday(year: int, month: int, nth: int) -> date:
    """The nth Sunday of the month (nth=-1: the last)."""
    days = [date(year, month, d) for d in range(1, 32) if _is_date(year, month, d)]
    return [d for d in days if d.weekday() == 6][nth if nth < 0 else nth - 1]


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# When each zone's clocks change: (month, nth Sunday).
CHANGES = {
    ("Europe/London", "spring"): (3, -1),
    ("Europe/London", "autumn"): (10, -1),
    ("America/New_York", "spring"): (3, 2),
    ("America/New_York", "autumn"): (11, 1),
}


def monday_before_change(zone: str, season: str) -> date:
    """The Monday before the next clock change of that season still more than a day ahead."""
    month, nth = CHANGES[(zone, season)]
    today = timezone.now().date()
    for year in (today.year, today.year + 1):
        monday = _sunday(year, month, nth) - timedelta(days=6)
        if monday > today + timedelta(days=1):
            return monday
    raise AssertionError("unreachable")


# --- Daylight saving --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "season", "utc_hours"),
    [
        ("Europe/London", "spring", (10, 9)),
        ("Europe/London", "autumn", (9, 10)),
        ("America/New_York", "spring", (15, 14)),
        ("America/New_York", "autumn", (14, 15)),
    ],
)
def test_a_weekly_course_keeps_its_local_time_across_a_clock_change(db, zone, season, utc_hours):
    world = World(time_zone=zone, licence_days=800)
    first = datetime.combine(monday_before_change(zone, season), time(10), tzinfo=ZoneInfo(zone))

    planned = preview(world, first)
    course = book_course(world, first)

    booked = [a.starts_at for a in sessions_of(course)]
    assert [s.starts_at for s in planned] == booked
    assert all(s.free for s in planned)
    assert [t.astimezone(ZoneInfo(zone)).time() for t in booked] == [time(10)] * 10
    assert [t.astimezone(ZoneInfo(zone)).weekday() for t in booked] == [0] * 10
    before, after = utc_hours
    assert [t.astimezone(UTC).hour for t in booked] == [before] + [after] * 9


# --- Preview ----------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> World:
    return World(licence_days=800)


def test_a_preview_shows_a_taken_session_with_alternatives_that_week_and_books_nothing(world):
    world.book(world.at(10, days=14), patient=world.other_patient)  # session 3's time

    sessions = preview(world, world.at(10), count=5)

    assert [s.number for s in sessions] == [1, 2, 3, 4, 5]
    assert [s.free for s in sessions] == [True, True, False, True, True]
    taken = sessions[2]
    assert taken.reason == services.TAKEN
    assert len(taken.alternatives) == 3
    # Nearest to 10:00 that week: 11:15 (after the other booking and its buffer), then later.
    assert taken.alternatives[0] == world.at(11, 15, days=14)
    assert all(
        world.clinic.local_date(t) == world.monday + timedelta(days=14) for t in taken.alternatives
    )
    assert Appointment.objects.count() == 1
    assert not Course.objects.exists()
    assert AuditEvent.objects.filter(action="course.preview", patient_id=world.patient.pk).exists()


def test_a_preview_marks_time_off_and_a_lapsed_licence_as_not_free(db):
    world = World(licence_days=24)  # the licence ends before the fifth Monday
    TimeOff.objects.create(
        clinic=world.clinic,
        therapist=world.therapist,
        starts_at=world.at(0, days=7),
        ends_at=world.at(23, days=7),
    )

    sessions = preview(world, world.at(10), count=6)

    assert [s.free for s in sessions[:2]] == [True, False]
    assert "does not work at that time" in sessions[1].reason
    assert sessions[1].alternatives == ()  # the whole day off, and only Mondays worked
    lapsed = [s for s in sessions if "valid, verified licence" in s.reason]
    assert lapsed
    assert lapsed[0].number >= 4


def test_a_session_in_the_past_is_not_free(world):
    sessions = preview(world, world.at(10), count=2, starts_overrides={2: world.at(10, days=-21)})
    assert not sessions[1].free
    assert "has passed" in sessions[1].reason


@pytest.mark.parametrize(
    ("count", "every_weeks", "overrides"),
    [(0, 1, {}), (53, 1, {}), (10, 0, {}), (10, 5, {}), (10, 1, {11: None}), (10, 1, {0: None})],
)
def test_course_sizes_out_of_range_are_refused(world, count, every_weeks, overrides):
    overrides = {n: world.at(11) for n in overrides}
    with pytest.raises(InvalidInputError):
        preview(
            world, world.at(10), count=count, every_weeks=every_weeks, starts_overrides=overrides
        )
    with pytest.raises(InvalidInputError):
        book_course(
            world, world.at(10), count=count, every_weeks=every_weeks, starts_overrides=overrides
        )
    assert not Appointment.objects.exists()


def test_a_course_needs_a_time_with_its_zone(world):
    with pytest.raises(InvalidInputError, match="time zone"):
        book_course(world, world.at(10).replace(tzinfo=None), count=2)


# --- Booking a course -------------------------------------------------------------------------


def test_a_course_is_booked_whole_every_two_weeks_and_audited(world):
    room = make_room(world.clinic)
    course = book_course(world, world.at(10), count=4, every_weeks=2, room_id=room.pk)

    booked = sessions_of(course)
    assert [a.starts_at for a in booked] == [world.at(10, days=14 * n) for n in range(4)]
    assert {a.status for a in booked} == {AppointmentStatus.BOOKED}
    assert {a.room_id for a in booked} == {room.pk}
    assert (course.sessions_count, course.every_weeks) == (4, 2)
    assert AuditEvent.objects.filter(action="course.create", object_id=str(course.pk)).exists()
    assert AuditEvent.objects.filter(action="appointment.create").count() == 4


def test_a_taken_fifth_session_books_no_session_at_all(world):
    world.book(world.at(10, 30, days=28), patient=world.other_patient)

    with pytest.raises(SlotTakenError) as taken:
        book_course(world, world.at(10))

    assert taken.value.session == 5
    assert "Session 5" in taken.value.message
    assert "Nothing was booked" in taken.value.message
    assert taken.value.alternatives
    assert Appointment.objects.count() == 1
    assert not Course.objects.exists()


def test_a_session_lost_to_a_booking_made_meanwhile_rolls_back_the_whole_course(world, monkeypatch):
    # Another booking lands between the plan and the transaction.
    real_plan = services._plan_course

    def plan_then_lose_the_race(*args, **kwargs):
        sessions = real_plan(*args, **kwargs)
        world.book(world.at(10, days=21), patient=world.other_patient)
        return sessions

    monkeypatch.setattr(services, "_plan_course", plan_then_lose_the_race)
    with pytest.raises(SlotTakenError) as taken:
        book_course(world, world.at(10), count=6)
    assert taken.value.session == 4
    assert Appointment.objects.count() == 1
    assert not Course.objects.exists()


def test_a_chosen_alternative_replaces_the_taken_session(world):
    world.book(world.at(10, days=28), patient=world.other_patient)
    sessions = preview(world, world.at(10))
    alternative = sessions[4].alternatives[0]

    replanned = preview(world, world.at(10), starts_overrides={5: alternative})
    course = book_course(world, world.at(10), starts_overrides={5: alternative})

    assert all(s.free for s in replanned)
    booked = [a.starts_at for a in sessions_of(course)]
    assert len(booked) == 10
    assert booked[4] == alternative
    assert booked[5] == world.at(10, days=35)


def test_an_override_may_not_clash_with_another_session_of_the_course(world):
    sessions = preview(world, world.at(10), count=3, starts_overrides={3: world.at(10, 30, days=7)})
    assert not sessions[2].free
    assert sessions[2].reason == "It overlaps session 2 of this course."
    assert sessions[2].alternatives
    assert all(t >= world.at(11, 15, days=7) for t in sessions[2].alternatives)


def test_a_patient_on_hold_cannot_book_a_course(world):
    held = make_patient(world.clinic)
    make_screening(world.desk, held, yes=("history_of_cancer",))
    with pytest.raises(ConflictError, match="cannot be booked yet"):
        book_course(world, world.at(10), count=3, patient=held)
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_courses_on_the_same_times_give_one_course_and_seven_409s():
    world = World(licence_days=800)
    patients = [world._screened() for _ in range(8)]
    barrier = threading.Barrier(len(patients))
    outcomes: list[object] = []
    lock = threading.Lock()

    def attempt(patient: Patient) -> None:
        barrier.wait()
        outcome: object
        try:
            book_course(world, world.at(10), count=4, patient=patient)
            outcome = "booked"
        except SlotTakenError:
            outcome = "taken"
        except Exception as error:
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(map(str, outcomes)) == ["booked"] + ["taken"] * 7
    assert Course.objects.count() == 1
    assert Appointment.objects.count() == 4


# --- Moving and cancelling --------------------------------------------------------------------


def test_rescheduling_keeps_the_appointment_and_frees_its_old_time(world):
    appointment = world.book(world.at(10))

    moved = services.reschedule_appointment(
        actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(14)
    )

    assert moved.pk == appointment.pk
    assert (moved.starts_at, moved.ends_at) == (world.at(14), world.at(15))
    assert moved.blocked_until == world.at(15, 15)
    assert world.book(world.at(10), patient=world.other_patient)
    event = AuditEvent.objects.get(action="appointment.reschedule")
    assert event.detail["from"] == world.at(10).isoformat()


def test_rescheduling_into_its_own_old_time_is_allowed(world):
    appointment = world.book(world.at(10))
    moved = services.reschedule_appointment(
        actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(10, 30)
    )
    assert moved.starts_at == world.at(10, 30)


def test_rescheduling_onto_a_taken_time_is_refused_and_keeps_the_old_time(world):
    appointment = world.book(world.at(10))
    world.book(world.at(13), patient=world.other_patient)

    with pytest.raises(SlotTakenError) as taken:
        services.reschedule_appointment(
            actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(13, 30)
        )

    # The appointment's own time is offered back: it does not stand in its own way.
    assert world.at(14, 15) in taken.value.alternatives
    appointment.refresh_from_db()
    assert appointment.starts_at == world.at(10)


@pytest.mark.parametrize(
    ("start", "error"), [((8, 0), InvalidInputError), ((16, 30), InvalidInputError)]
)
def test_rescheduling_outside_working_hours_is_refused(world, start, error):
    appointment = world.book(world.at(10))
    with pytest.raises(error, match="does not work at that time"):
        services.reschedule_appointment(
            actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(*start)
        )


def test_a_cancelled_appointment_cannot_be_moved_or_cancelled_again(world):
    appointment = world.book(world.at(10))
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)
    with pytest.raises(ConflictError, match="Only a booked or requested appointment"):
        services.reschedule_appointment(
            actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(14)
        )
    with pytest.raises(ConflictError, match="Only a booked or requested appointment"):
        services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)


def test_cancelling_the_remaining_sessions_cancels_this_and_later_ones_only(world):
    course = book_course(world, world.at(10), count=5)
    booked = sessions_of(course)

    services.cancel_appointment(
        cancelled_by=world.desk, appointment_id=booked[2].pk, remaining_in_course=True
    )

    statuses = [a.status for a in sessions_of(course)]
    assert statuses == ["booked", "booked", "cancelled", "cancelled", "cancelled"]
    assert AuditEvent.objects.filter(action="appointment.cancel").count() == 3
    assert world.book(world.at(10, days=21), patient=world.other_patient)


def test_cancelling_one_session_leaves_the_rest_of_the_course(world):
    course = book_course(world, world.at(10), count=3)
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=sessions_of(course)[1].pk)
    assert [a.status for a in sessions_of(course)] == ["booked", "cancelled", "booked"]


def _work_tuesdays(world: World) -> None:
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=world.therapist, weekday=1, starts=time(9), ends=time(17)
    )


def test_moving_the_remaining_sessions_moves_this_and_later_ones_to_the_new_weekly_time(world):
    _work_tuesdays(world)
    course = book_course(world, world.at(10), count=5)
    before = sessions_of(course)

    moved = services.reschedule_appointment(
        actor=world.desk,
        appointment_id=before[2].pk,
        starts_at=world.at(14, days=15),
        remaining_in_course=True,
    )

    after = sessions_of(course)
    assert moved.pk == before[2].pk
    assert [a.pk for a in after] == [a.pk for a in before]
    assert [a.starts_at for a in after] == [
        world.at(10),
        world.at(10, days=7),
        world.at(14, days=15),
        world.at(14, days=22),
        world.at(14, days=29),
    ]
    assert AuditEvent.objects.filter(action="appointment.reschedule").count() == 3
    assert world.book(world.at(10, days=21), patient=world.other_patient)


def test_moving_the_remaining_sessions_is_all_or_none(world):
    _work_tuesdays(world)
    course = book_course(world, world.at(10), count=5)
    world.book(world.at(14, days=29), patient=world.other_patient)

    with pytest.raises(SlotTakenError) as taken:
        services.reschedule_appointment(
            actor=world.desk,
            appointment_id=sessions_of(course)[2].pk,
            starts_at=world.at(14, days=15),
            remaining_in_course=True,
        )

    assert taken.value.session == 5
    assert [a.starts_at for a in sessions_of(course)] == [
        world.at(10, days=7 * n) for n in range(5)
    ]


def test_a_course_moves_a_week_later_through_its_own_times(world):
    course = book_course(world, world.at(10), count=4)

    services.reschedule_appointment(
        actor=world.desk,
        appointment_id=sessions_of(course)[0].pk,
        starts_at=world.at(10, days=7),
        remaining_in_course=True,
    )

    assert [a.starts_at for a in sessions_of(course)] == [
        world.at(10, days=7 * n) for n in range(1, 5)
    ]


def test_a_patient_may_cancel_and_move_outside_the_cancellation_window(world):
    user, patient = make_own_patient(world)
    first = world.book(world.at(10, days=7), patient=patient, actor=user)
    second = world.book(world.at(13, days=7), patient=patient, actor=user)

    services.reschedule_appointment(
        actor=user, appointment_id=first.pk, starts_at=world.at(11, days=7)
    )
    services.cancel_appointment(cancelled_by=user, appointment_id=second.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.starts_at == world.at(11, days=7)
    assert second.status == AppointmentStatus.CANCELLED


def test_a_patient_cannot_change_an_appointment_inside_the_window_but_staff_can(world):
    user, patient = make_own_patient(world)
    appointment = world.book(world.at(10), patient=patient, actor=user)
    refusal = "Appointments can be changed up to 24 hours before; please call the clinic"

    with time_machine.travel(world.at(9), tick=True):  # an hour before
        with pytest.raises(ConflictError, match=refusal):
            services.cancel_appointment(cancelled_by=user, appointment_id=appointment.pk)
        with pytest.raises(ConflictError, match=refusal):
            services.reschedule_appointment(
                actor=user, appointment_id=appointment.pk, starts_at=world.at(14)
            )
        moved = services.reschedule_appointment(
            actor=world.desk, appointment_id=appointment.pk, starts_at=world.at(14)
        )
        assert moved.starts_at == world.at(14)
        services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)


def test_the_window_is_the_clinics_own(world):
    make_settings(world, cancellation_window_hours=336)
    world.clinic.phone = "+44 20 7946 0123"
    world.clinic.save()
    user, patient = make_own_patient(world)
    appointment = world.book(world.at(10), patient=patient, actor=user)
    with pytest.raises(
        ConflictError, match=r"up to 336 hours before; please call the clinic on \+44"
    ):
        services.cancel_appointment(cancelled_by=user, appointment_id=appointment.pk)


# --- Approval of new patients -----------------------------------------------------------------


def test_a_new_patients_own_booking_waits_for_approval_and_holds_its_time(world):
    make_settings(world, new_patients_need_approval=True)
    user, patient = make_own_patient(world)

    requested = world.book(world.at(10), patient=patient, actor=user)

    assert requested.status == AppointmentStatus.REQUESTED
    with pytest.raises(SlotTakenError):
        world.book(world.at(10, 30), patient=world.other_patient)
    with pytest.raises(NotFoundError):
        services.approve_appointment(actor=user, appointment_id=requested.pk)
    approved = services.approve_appointment(actor=world.desk, appointment_id=requested.pk)
    assert approved.status == AppointmentStatus.BOOKED
    assert AuditEvent.objects.filter(action="appointment.approve", object_id=str(requested.pk))
    assert world.book(world.at(13), patient=patient, actor=user).status == AppointmentStatus.BOOKED


def test_bookings_by_staff_and_by_known_patients_need_no_approval(world):
    make_settings(world, new_patients_need_approval=True)
    user, patient = make_own_patient(world)
    assert world.book(world.at(10), patient=patient).status == AppointmentStatus.BOOKED
    assert world.book(world.at(13), patient=patient, actor=user).status == AppointmentStatus.BOOKED


def test_without_the_setting_a_new_patients_booking_is_booked(world):
    user, patient = make_own_patient(world)
    assert world.book(world.at(10), patient=patient, actor=user).status == AppointmentStatus.BOOKED


def test_approving_one_session_of_a_requested_course_approves_the_course(world):
    make_settings(world, new_patients_need_approval=True)
    user, patient = make_own_patient(world)
    course = book_course(world, world.at(10), count=3, patient=patient, booked_by=user)
    assert {a.status for a in sessions_of(course)} == {AppointmentStatus.REQUESTED}

    therapist_user = world.therapist.user
    services.approve_appointment(actor=therapist_user, appointment_id=sessions_of(course)[0].pk)

    assert {a.status for a in sessions_of(course)} == {AppointmentStatus.BOOKED}
    with pytest.raises(ConflictError, match="waiting for approval"):
        services.approve_appointment(actor=world.desk, appointment_id=sessions_of(course)[0].pk)


def test_a_requested_appointment_can_be_declined_by_cancelling_it(world):
    make_settings(world, new_patients_need_approval=True)
    user, patient = make_own_patient(world)
    requested = world.book(world.at(10), patient=patient, actor=user)
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=requested.pk)
    assert world.book(world.at(10), patient=world.other_patient)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's"
)
def test_postgresql_itself_counts_a_requested_appointment_as_holding_its_time(world):
    from django.db import IntegrityError, transaction

    first = world.book(world.at(10))
    Appointment.objects.filter(pk=first.pk).update(status=AppointmentStatus.REQUESTED)
    clash = Appointment(
        clinic=world.clinic,
        patient=world.other_patient,
        therapist=world.therapist,
        service=world.service,
        starts_at=world.at(10, 30),
        ends_at=world.at(11, 30),
        blocked_until=world.at(11, 45),
        booked_by=world.desk,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()


# --- Settings ---------------------------------------------------------------------------------


def test_settings_have_defaults_until_the_clinic_changes_them(world):
    defaults = scheduling_settings(world.clinic.pk)
    assert (defaults.cancellation_window_hours, defaults.new_patients_need_approval) == (24, False)
    assert defaults._state.adding
    assert not SchedulingSettings.objects.exists()

    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    services.change_scheduling_settings(
        changed_by=admin,
        clinic=world.clinic,
        cancellation_window_hours=48,
        new_patients_need_approval=True,
    )
    changed = scheduling_settings(world.clinic.pk)
    assert (changed.cancellation_window_hours, changed.new_patients_need_approval) == (48, True)
    assert AuditEvent.objects.filter(action="scheduling.settings", outcome="allowed").exists()


@pytest.mark.parametrize("hours", [-1, 337])
def test_a_window_out_of_range_is_refused(world, hours):
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError):
        services.change_scheduling_settings(
            changed_by=admin,
            clinic=world.clinic,
            cancellation_window_hours=hours,
            new_patients_need_approval=False,
        )


def test_only_clinic_admins_change_the_settings(world):
    with pytest.raises(NotFoundError):
        services.change_scheduling_settings(
            changed_by=world.desk,
            clinic=world.clinic,
            cancellation_window_hours=1,
            new_patients_need_approval=False,
        )
    assert AuditEvent.objects.filter(action="scheduling.settings", outcome="denied").exists()


# --- Who may ------------------------------------------------------------------------------------


def test_a_patients_appointments_are_listed_for_them_and_their_clinic(world):
    user, patient = make_own_patient(world)
    coming = world.book(world.at(10), patient=patient)
    cancelled = world.book(world.at(13), patient=patient)
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=cancelled.pk)

    for viewer in (user, world.desk):
        listing = list_patient_appointments(viewer, patient.pk, now=timezone.now())
        assert (listing.upcoming, listing.past) == ([coming], [cancelled])
    with pytest.raises(NotFoundError):
        list_patient_appointments(
            make_member(make_clinic("Elsewhere"), Role.FRONT_DESK), patient.pk, now=timezone.now()
        )


@pytest.mark.parametrize("who", ["other clinic staff", "stranger", "another patient"])
def test_outsiders_get_not_found_and_a_denied_event(world, who):
    appointment = world.book(world.at(10))
    outsider = {
        "other clinic staff": lambda: make_member(make_clinic("Elsewhere"), Role.FRONT_DESK),
        "stranger": make_user,
        "another patient": lambda: make_own_patient(world)[0],
    }[who]()
    attempts = [
        lambda: preview(world, world.at(13), count=2, viewer=outsider),
        lambda: book_course(world, world.at(13), count=2, booked_by=outsider),
        lambda: services.reschedule_appointment(
            actor=outsider, appointment_id=appointment.pk, starts_at=world.at(14)
        ),
        lambda: services.cancel_appointment(cancelled_by=outsider, appointment_id=appointment.pk),
        lambda: services.approve_appointment(actor=outsider, appointment_id=appointment.pk),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError):
            attempt()
    denied = AuditEvent.objects.filter(outcome="denied", actor_id=outsider.pk)
    assert denied.count() == len(attempts)
    assert set(denied.values_list("patient_id", flat=True)) == {world.patient.pk}
    assert Appointment.objects.count() == 1
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.status) == (world.at(10), AppointmentStatus.BOOKED)
