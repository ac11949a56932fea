"""Reads behind the reschedule page: where an appointment may move (the same therapist and
service, clear of the patient's other appointments, only on days the therapist's licence allows
booking), who may look (audited), and the week shown."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core.errors import NotFoundError
from backcare.core.models import AuditEvent
from backcare.scheduling.models import Appointment, AppointmentStatus, TimeOff, WorkingHours
from backcare.scheduling.queries import (
    get_reschedule_options,
    list_patient_appointments,
    page_of_patient_appointments,
)
from backcare.scheduling.tests.test_services import World
from backcare.triage.tests.factories import make_screening
from tests.factories import make_clinic, make_member, make_patient, make_therapist


@pytest.fixture
def world(db) -> World:
    return World()


def _work_every_day(world: World, therapist) -> None:
    for weekday in range(1, 7):
        WorkingHours.objects.create(
            clinic=world.clinic, therapist=therapist, weekday=weekday, starts=time(9), ends=time(17)
        )


def test_a_move_is_offered_only_on_days_the_therapists_licence_allows(world):
    # A licence that ends on the Wednesday of the week shown: Thursday on, nothing is offered.
    days_to_wednesday = (world.monday - world.clinic.local_date()).days + 2
    lapsing = make_therapist(world.clinic, expires_in_days=days_to_wednesday)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=lapsing, weekday=0, starts=time(9), ends=time(17)
    )
    _work_every_day(world, lapsing)
    appointment = world.book(world.at(10), therapist=lapsing)

    options = get_reschedule_options(world.desk, appointment.pk, world.monday, now=timezone.now())

    offered = {world.clinic.local_date(start) for start in options.free}
    assert offered == {world.monday + timedelta(days=n) for n in range(3)}


def test_a_move_is_not_offered_onto_the_patients_other_appointments(world):
    other_therapist = make_therapist(world.clinic)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=other_therapist, weekday=0, starts=time(9), ends=time(17)
    )
    appointment = world.book(world.at(10))
    world.book(world.at(14), therapist=other_therapist)

    options = get_reschedule_options(world.desk, appointment.pk, world.monday, now=timezone.now())

    # The moved session needs its own buffer before the patient's 14:00 (12:45 fits, 13:00
    # does not); the other appointment's buffer is its therapist's, so 15:00 is free again.
    free = [start.astimezone(world.clinic.zone) for start in options.free]
    assert world.at(12, 45) in free
    assert world.at(13) not in free
    assert world.at(14) not in free
    assert world.at(14, 45) not in free
    assert world.at(15) in free


def test_the_default_week_is_the_appointments_own_from_monday(world):
    appointment = world.book(world.at(10, days=14))
    options = get_reschedule_options(world.desk, appointment.pk, None, now=timezone.now())
    assert options.week_start == world.monday + timedelta(days=14)
    assert options.previous_week == world.monday + timedelta(days=7)
    assert options.next_week == world.monday + timedelta(days=21)


def test_a_week_out_of_range_is_reported_and_the_default_week_shown(world):
    appointment = world.book(world.at(10))
    today = world.clinic.local_date()
    options = get_reschedule_options(
        world.desk, appointment.pk, today + timedelta(days=400), now=timezone.now()
    )
    assert options.week_error == "Choose a date within the next year."
    assert options.week_start == world.monday


def test_looking_is_audited_and_outsiders_get_not_found(world):
    appointment = world.book(world.at(10))
    get_reschedule_options(world.desk, appointment.pk, None, now=timezone.now())
    event = AuditEvent.objects.get(action="appointment.view", outcome="allowed")
    assert event.patient_id == world.patient.pk
    assert event.detail["purpose"] == "reschedule"

    outsider = make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN)
    with pytest.raises(NotFoundError):
        get_reschedule_options(outsider, appointment.pk, None, now=timezone.now())
    assert AuditEvent.objects.filter(action="appointment.view", outcome="denied").count() == 1


def test_only_appointments_not_yet_started_are_listed_as_movable_and_not_to_referrers(world):
    referrer = make_member(world.clinic, Role.REFERRING_CLINICIAN)
    referred = make_patient(world.clinic, referred_by=referrer)
    make_screening(world.desk, referred)
    started = world.book(world.at(10), patient=referred)
    ahead = world.book(world.at(13), patient=referred)
    during = world.at(10, 30)

    staff = list_patient_appointments(world.desk, referred.pk, now=during)
    referring = list_patient_appointments(referrer, referred.pk, now=during)

    assert [a.pk for a in staff.upcoming] == [started.pk, ahead.pk]
    assert staff.movable_ids == {ahead.pk}
    assert [a.pk for a in referring.upcoming] == [started.pk, ahead.pk]
    assert referring.movable_ids == frozenset()


def _week_availability_queries(world: World, therapists: list) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from backcare.scheduling.queries import get_week_availability

    with CaptureQueriesContext(connection) as captured:
        get_week_availability(
            world.desk,
            world.clinic,
            therapists=therapists,
            service_id=world.service.pk,
            first_day=world.monday,
            last_day=world.monday + timedelta(days=6),
            now=timezone.now(),
            patient_id=world.patient.pk,
        )
    return len(captured.captured_queries)


def test_week_availability_takes_the_same_queries_for_two_and_six_therapists(world):
    # The booking page's "any therapist" search (issue 10): the service, working hours, time
    # off and busy times for all therapists at once, and the last day each stays bookable (one
    # query, whether or not a licence lapses in the week: here one does in two searches).
    days_to_wednesday = (world.monday - world.clinic.local_date()).days + 2
    lapsing = make_therapist(world.clinic, expires_in_days=days_to_wednesday)
    others = [make_therapist(world.clinic) for _ in range(4)]
    for n, therapist in enumerate([lapsing, *others]):
        _work_every_day(world, therapist)
        _appointment(world, therapist, world.at(10 + n, days=1), patient=make_patient(world.clinic))
    TimeOff.objects.create(
        clinic=world.clinic,
        therapist=others[-1],
        starts_at=world.at(9, days=2),
        ends_at=world.at(12, days=2),
    )
    just_one = _week_availability_queries(world, [world.therapist])
    two = _week_availability_queries(world, [world.therapist, lapsing])
    six = _week_availability_queries(world, [world.therapist, lapsing, *others])
    assert just_one == two == six == 2 + 3


@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Auckland", "America/Los_Angeles"])
def test_week_availability_leaves_out_the_days_after_a_licence_lapses(db, zone):
    # Far from UTC, a clinic's working day straddles two UTC dates: the lapse is by local day.
    from backcare.scheduling.queries import get_week_availability

    world = World(time_zone=zone)
    days_to_wednesday = (world.monday - world.clinic.local_date()).days + 2
    lapsing = make_therapist(world.clinic, expires_in_days=days_to_wednesday)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=lapsing, weekday=0, starts=time(9), ends=time(17)
    )
    for therapist in (lapsing, world.therapist):  # Mondays already, now every day
        _work_every_day(world, therapist)
    found = get_week_availability(
        world.desk,
        world.clinic,
        therapists=[world.therapist, lapsing],
        service_id=world.service.pk,
        first_day=world.monday,
        last_day=world.monday + timedelta(days=6),
        now=timezone.now(),
    )
    days = {
        who: {world.clinic.local_date(start) for start, t in found if t == who}
        for who in (world.therapist, lapsing)
    }
    week = {world.monday + timedelta(days=n) for n in range(7)}
    assert days[world.therapist] == week
    assert days[lapsing] == {world.monday + timedelta(days=n) for n in range(3)}


def _appointment(world: World, therapist, start, *, patient=None, room=None, **fields):
    from backcare.scheduling.models import Appointment

    clinic = fields.pop("clinic", world.clinic)
    return Appointment.objects.create(
        clinic=clinic,
        patient=patient or world.patient,
        therapist=therapist,
        service=fields.pop("service", world.service),
        room=room,
        starts_at=start,
        ends_at=start + timedelta(minutes=60),
        blocked_until=start + timedelta(minutes=75),
        booked_by=world.desk,
        **fields,
    )


def test_batched_free_starts_equal_each_therapists_own(world):
    from backcare.scheduling.models import AppointmentStatus, Service
    from backcare.scheduling.queries import free_starts, free_starts_of
    from tests.factories import make_room

    a, b, c, d = world.therapist, *(make_therapist(world.clinic) for _ in range(3))
    idle = make_therapist(world.clinic)  # no working hours at all
    for therapist in (b, c, d):
        _work_every_day(world, therapist)
    tuesday, wednesday = world.monday + timedelta(days=1), world.monday + timedelta(days=2)
    for therapist, day, starts, ends in ((a, tuesday, 12, 17), (b, wednesday, 10, 12)):
        WorkingHours.objects.create(
            clinic=world.clinic,
            therapist=therapist,
            on_date=day,
            weekday=day.weekday(),
            starts=time(starts),
            ends=time(ends),
        )
    TimeOff.objects.create(
        clinic=world.clinic, therapist=a, starts_at=world.at(12), ends_at=world.at(13)
    )
    room = make_room(world.clinic)
    moved = _appointment(world, a, world.at(13, days=1))  # the patient, with a
    _appointment(world, b, world.at(10, days=1), patient=world.other_patient)
    _appointment(world, d, world.at(11, days=2), patient=make_patient(world.clinic), room=room)
    _appointment(world, d, world.at(15, days=3))  # the patient, with someone not searched
    _appointment(world, c, world.at(14, days=4), status=AppointmentStatus.CANCELLED)
    elsewhere = make_clinic("Elsewhere")
    _appointment(
        world,
        c,
        world.at(10, days=3),
        patient=make_patient(elsewhere),
        clinic=elsewhere,
        service=Service.objects.create(clinic=elsewhere, name="Elsewhere", duration_minutes=60),
    )
    searched = [a.pk, b.pk, c.pk, idle.pk]

    def compare(**options) -> dict:
        common = {
            "service": world.service,
            "first_day": world.monday,
            "last_day": world.monday + timedelta(days=6),
            "not_before": timezone.now(),
            **options,
        }
        batched = free_starts_of(world.clinic, therapist_ids=searched, **common)
        assert batched == {
            pk: free_starts(world.clinic, therapist_id=pk, **common) for pk in searched
        }
        return batched

    plain = compare()
    clashes = compare(room_id=room.pk, patient_id=world.patient.pk)
    moving = compare(
        room_id=room.pk, patient_id=world.patient.pk, exclude_appointment_ids={moved.pk}
    )
    # Each feature of the data shows in the results, so the comparison is not of empty lists.
    assert plain[idle.pk] == []
    assert world.at(10, 45) in plain[a.pk]
    assert world.at(11) not in plain[a.pk]  # the 75 minutes reach into the time off
    assert world.at(13) in plain[a.pk]
    assert world.at(9, days=1) not in plain[a.pk]  # only the dated hours on Tuesday
    assert world.at(14, 15, days=1) in plain[a.pk]
    assert world.at(10, days=2) in plain[b.pk]  # the dated hours replace the weekly ones
    assert world.at(13, days=2) not in plain[b.pk]
    assert world.at(11, days=1) not in plain[b.pk]  # their booking with its buffer
    assert world.at(11, 15, days=1) in plain[b.pk]
    assert world.at(10, days=3) not in plain[c.pk]  # their booking at another clinic
    assert world.at(14, days=4) in plain[c.pk]  # a cancelled booking is no clash
    assert world.at(11, days=2) in plain[c.pk]
    assert world.at(11, days=2) not in clashes[c.pk]  # the room is taken
    assert world.at(12, 15, days=2) in clashes[c.pk]
    assert world.at(13, days=1) not in clashes[c.pk]  # the patient is with a
    assert world.at(14, days=1) in clashes[c.pk]  # without a's buffer
    assert world.at(14, days=3) in plain[b.pk]
    assert world.at(14, days=3) not in clashes[b.pk]  # the patient is with d
    assert world.at(13, 45, days=3) in clashes[b.pk]
    assert world.at(13, days=1) in moving[c.pk]
    assert world.at(13, days=1) in moving[a.pk]


def test_an_appointment_that_began_hours_before_the_window_still_blocks_it(world):
    from backcare.scheduling.models import Appointment
    from backcare.scheduling.queries import busy_times

    start = world.at(9)
    Appointment.objects.create(
        clinic=world.clinic,
        patient=world.patient,
        therapist=world.therapist,
        service=world.service,
        starts_at=start - timedelta(hours=10),
        ends_at=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=45),
        booked_by=world.desk,
    )
    busy = busy_times(
        clinic_id=world.clinic.pk, therapist_id=world.therapist.pk, start=start, end=world.at(17)
    )
    assert [interval.end for interval in busy] == [start + timedelta(minutes=45)]


def make_past_appointments(world: World, size: int, *, patient=None, hour: int = 10) -> None:
    """`size` past appointments of the patient at `hour`, one a day, every third one cancelled,
    written in one go (the booking rules are not what is tested here)."""
    rows = []
    for day in range(1, size + 1):
        starts = world.at(hour, days=-day)
        cancelled = day % 3 == 0
        rows.append(
            Appointment(
                clinic=world.clinic,
                patient=patient or world.patient,
                therapist=world.therapist,
                service=world.service,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=60),
                blocked_until=starts + timedelta(minutes=75),
                status=AppointmentStatus.CANCELLED if cancelled else AppointmentStatus.COMPLETED,
                booked_by=world.desk,
            )
        )
    Appointment.objects.bulk_create(rows)


def test_pages_of_appointments_follow_the_full_listing_in_order_and_count(world):
    make_past_appointments(world, 7)
    world.book(world.at(10))
    world.book(world.at(13))
    listing = list_patient_appointments(world.desk, world.patient.pk, now=timezone.now())
    everything = sorted([*listing.upcoming, *listing.past], key=lambda a: (a.starts_at, a.pk))

    pages = [
        page_of_patient_appointments(world.desk, world.patient.pk, offset=offset, limit=4)
        for offset in (0, 4, 8, 12)
    ]

    assert [count for count, _ in pages] == [9, 9, 9, 9]
    assert [a.pk for _, rows in pages for a in rows] == [a.pk for a in everything]
    between = page_of_patient_appointments(
        world.desk,
        world.patient.pk,
        first_day=world.monday,
        last_day=world.monday,
        offset=0,
        limit=1,
    )
    assert (between[0], [a.pk for a in between[1]]) == (2, [everything[7].pk])


def _page_queries(world: World, size: int) -> tuple[int, list[str], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_past_appointments(world, size)
    with CaptureQueriesContext(connection) as captured:
        count, rows = page_of_patient_appointments(world.desk, world.patient.pk, offset=5, limit=10)
    assert count == size
    listed = [q["sql"] for q in captured.captured_queries if "scheduling_appointment" in q["sql"]]
    return len(captured.captured_queries), listed, len(rows)


def test_a_page_of_appointments_reads_only_its_limit_whatever_the_history(db):
    # The API's appointment list (issue 10): counted and sliced in SQL, so a long history adds
    # neither queries nor rows read.
    small, large = World(), World()
    small_queries, _, small_rows = _page_queries(small, 20)
    large_queries, large_sql, large_rows = _page_queries(large, 200)

    assert small_queries == large_queries
    assert (small_rows, large_rows) == (10, 10)
    assert any("LIMIT 10" in sql for sql in large_sql)
    assert all("LIMIT" in sql or "COUNT(" in sql for sql in large_sql)


def test_a_stranger_gets_no_page_of_appointments_and_it_is_audited(world):
    make_past_appointments(world, 3)
    stranger = make_member(make_clinic("Elsewhere"), Role.FRONT_DESK)
    with pytest.raises(NotFoundError):
        page_of_patient_appointments(stranger, world.patient.pk, offset=0, limit=10)
    assert AuditEvent.objects.filter(action="appointment.list", outcome="denied").count() == 1
    page_of_patient_appointments(world.desk, world.patient.pk, offset=0, limit=10)
    assert AuditEvent.objects.get(action="appointment.list", outcome="allowed").detail == {
        "count": 3
    }
