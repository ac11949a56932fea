"""Booking: every refusal with its reason, no overlaps for therapist, room or patient, cancelled
time free again, and a lost race answered with a 409 offering the next free times."""

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection

from backcare.accounts.models import Role
from backcare.core.errors import ConflictError, InvalidInputError
from backcare.core.models import AuditEvent
from backcare.scheduling import services
from backcare.scheduling.models import Appointment, Service, WorkingHours
from backcare.scheduling.queries import free_starts
from backcare.scheduling.services import SlotTakenError
from backcare.triage.tests.factories import make_clearance, make_screening
from tests.factories import make_clinic, make_member, make_patient, make_room, make_therapist


class World:
    """A clinic (London) with a front desk, a therapist working Mondays 09:00-17:00, a 60-minute
    massage with a 15-minute buffer, and two screened patients who may be booked. The courses
    tests choose the zone and how long the therapist's licence runs."""

    def __init__(self, *, time_zone: str = "Europe/London", licence_days: int = 365) -> None:
        self.clinic = make_clinic("Home", time_zone=time_zone)
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.therapist = make_therapist(self.clinic, expires_in_days=licence_days)
        self.service = Service.objects.create(
            clinic=self.clinic, name="Back massage 60", duration_minutes=60, buffer_minutes=15
        )
        WorkingHours.objects.create(
            clinic=self.clinic, therapist=self.therapist, weekday=0, starts=time(9), ends=time(17)
        )
        self.patient = self._screened()
        self.other_patient = self._screened()
        today = self.clinic.local_date()
        self.monday = today + timedelta(days=7 - today.weekday())

    def _screened(self):
        patient = make_patient(self.clinic)
        make_screening(self.desk, patient)
        return patient

    def at(self, hour: int, minute: int = 0, days: int = 0) -> datetime:
        local = datetime.combine(self.monday + timedelta(days=days), time(hour, minute))
        return local.replace(tzinfo=self.clinic.zone)

    def book(self, when: datetime, *, patient=None, therapist=None, room=None, actor=None):
        return services.book_appointment(
            booked_by=actor or self.desk,
            patient_id=(patient or self.patient).pk,
            therapist_id=(therapist or self.therapist).pk,
            service_id=self.service.pk,
            starts_at=when,
            room_id=room.pk if room else None,
        )


@pytest.fixture
def world(db) -> World:
    return World()


def test_front_desk_books_a_free_slot_and_it_is_audited(world):
    appointment = world.book(world.at(10))
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
    assert appointment.blocked_until - appointment.ends_at == timedelta(minutes=15)
    assert AuditEvent.objects.filter(action="appointment.create", patient_id=world.patient.pk)


def test_a_patient_books_themself(world):
    from tests.factories import make_user

    user = make_user()
    patient = make_patient(world.clinic, user=user)
    make_screening(world.desk, patient)
    appointment = world.book(world.at(11), patient=patient, actor=user)
    assert appointment.booked_by == user


@pytest.mark.parametrize(
    ("start", "expected"),
    [((10, 0), True), ((11, 0), False), ((11, 15), True), ((9, 15), False), ((8, 45), False)],
)
def test_a_slot_overlapping_the_therapists_appointment_or_buffer_is_refused(world, start, expected):
    world.book(world.at(10))  # busy 10:00-11:15 with the buffer
    if (start == (10, 0)) or not expected:
        with pytest.raises((SlotTakenError, InvalidInputError)):
            world.book(world.at(*start), patient=world.other_patient)
    else:
        assert world.book(world.at(*start), patient=world.other_patient)


def test_a_taken_slot_is_a_409_that_offers_the_next_free_times(world):
    world.book(world.at(10))
    with pytest.raises(SlotTakenError) as taken:
        world.book(world.at(10), patient=world.other_patient)
    assert taken.value.alternatives
    assert taken.value.alternatives[0] == world.at(11, 15)
    assert "Next free times: Mon" in taken.value.message
    assert "11:15" in taken.value.message


def test_a_patient_cannot_be_in_two_places_at_once(world):
    other_therapist = make_therapist(world.clinic)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=other_therapist, weekday=0, starts=time(9), ends=time(17)
    )
    world.book(world.at(10))
    with pytest.raises(SlotTakenError):
        world.book(world.at(10, 30), therapist=other_therapist)


def test_a_room_is_never_double_booked(world):
    room = make_room(world.clinic)
    other_therapist = make_therapist(world.clinic)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=other_therapist, weekday=0, starts=time(9), ends=time(17)
    )
    world.book(world.at(10), room=room)
    with pytest.raises(SlotTakenError):
        world.book(world.at(10), patient=world.other_patient, therapist=other_therapist, room=room)


def test_a_patient_on_hold_cannot_be_booked_by_anyone(world):
    held = make_patient(world.clinic)
    make_screening(world.desk, held, yes=("history_of_cancer",))
    with pytest.raises(ConflictError, match="cannot be booked yet"):
        world.book(world.at(10), patient=held)
    make_clearance(world.desk, held)
    assert world.book(world.at(10), patient=held)


def test_a_patient_never_screened_cannot_be_booked(world):
    with pytest.raises(ConflictError, match="safety questions"):
        world.book(world.at(10), patient=make_patient(world.clinic))


@pytest.mark.parametrize(("expires_in_days", "verified"), [(-1, True), (365, False), (None, True)])
def test_a_therapist_without_a_valid_verified_licence_is_refused(world, expires_in_days, verified):
    therapist = make_therapist(world.clinic, expires_in_days=expires_in_days, verified=verified)
    WorkingHours.objects.create(
        clinic=world.clinic, therapist=therapist, weekday=0, starts=time(9), ends=time(17)
    )
    with pytest.raises(ConflictError, match="valid, verified licence"):
        world.book(world.at(10), therapist=therapist)


@pytest.mark.parametrize("start", [(8, 0), (16, 30), (10, 0, 1)])
def test_a_time_outside_working_hours_is_refused(world, start):
    with pytest.raises(InvalidInputError, match="does not work at that time"):
        world.book(world.at(*start))


def test_a_time_in_the_past_is_refused(world):
    with pytest.raises(InvalidInputError, match="has passed"):
        world.book(world.at(10) - timedelta(days=14))


def test_a_cancelled_appointment_frees_its_time(world):
    appointment = world.book(world.at(10))
    services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)
    assert world.book(world.at(10), patient=world.other_patient)


def test_strangers_cannot_book_or_cancel(world):
    outsider = make_member(make_clinic("Elsewhere"), Role.FRONT_DESK)
    from backcare.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        world.book(world.at(10), actor=outsider)
    appointment = world.book(world.at(10))
    with pytest.raises(NotFoundError):
        services.cancel_appointment(cancelled_by=outsider, appointment_id=appointment.pk)
    assert AuditEvent.objects.filter(outcome="denied").count() == 2


def test_availability_takes_three_queries_whatever_the_history(world, django_assert_num_queries):
    def count_queries() -> int:
        with django_assert_num_queries(3) as captured:
            free_starts(
                world.clinic,
                therapist_id=world.therapist.pk,
                service=world.service,
                first_day=world.monday,
                last_day=world.monday + timedelta(days=13),
                not_before=world.at(0),
            )
        return len(captured.captured_queries)

    assert count_queries() == 3
    past = [
        Appointment(
            clinic=world.clinic,
            patient=world.patient,
            therapist=world.therapist,
            service=world.service,
            starts_at=world.at(10) - timedelta(days=7 * n),
            ends_at=world.at(11) - timedelta(days=7 * n),
            blocked_until=world.at(11, 15) - timedelta(days=7 * n),
            booked_by=world.desk,
        )
        for n in range(1, 1001)
    ]
    Appointment.objects.bulk_create(past)
    assert count_queries() == 3


# --- A lost race is a clean 409 (both databases) --------------------------------------------------


def _race(world: World, attempts: list, threads: int = 16) -> tuple[int, int, list]:
    """`threads` bookings of the same slot at once; returns (booked, refused, other errors)."""
    barrier = threading.Barrier(threads)
    results: list = []
    lock = threading.Lock()

    def attempt(args) -> None:
        barrier.wait()
        outcome: object
        try:
            world.book(**args)
            outcome = "booked"
        except SlotTakenError:
            outcome = "taken"
        except Exception as error:
            outcome = error
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=attempt, args=(args,)) for args in attempts[:threads]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    booked = sum(1 for r in results if r == "booked")
    taken = sum(1 for r in results if r == "taken")
    return booked, taken, [r for r in results if r not in ("booked", "taken")]


RACES = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["therapist", "room", "patient"])
def test_sixteen_simultaneous_bookings_of_one_slot_give_one_booking_and_fifteen_409s(kind):
    world = World()
    room = make_room(world.clinic)
    therapists = [world.therapist]
    patients = [world._screened() for _ in range(16)]
    if kind != "therapist":
        for _ in range(15):
            therapist = make_therapist(world.clinic)
            WorkingHours.objects.create(
                clinic=world.clinic, therapist=therapist, weekday=0, starts=time(9), ends=time(17)
            )
            therapists.append(therapist)
    for race in range(RACES):
        when = world.at(10, days=7 * race)
        attempts = [
            {
                "when": when,
                "patient": world.patient if kind == "patient" else patients[n],
                "therapist": therapists[0] if kind == "therapist" else therapists[n],
                "room": room if kind == "room" else None,
            }
            for n in range(16)
        ]
        booked, taken, errors = _race(world, attempts)
        assert errors == []
        assert (booked, taken) == (1, 15), f"race {race}"
    assert Appointment.objects.count() == RACES


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's"
)
def test_postgresql_itself_refuses_overlapping_appointments(world):
    from django.db import IntegrityError, transaction

    first = world.book(world.at(10))
    clash = Appointment(
        clinic=world.clinic,
        patient=world.other_patient,
        therapist=world.therapist,
        service=world.service,
        starts_at=world.at(11),  # inside the first one's buffer
        ends_at=world.at(12),
        blocked_until=world.at(12, 15),
        booked_by=world.desk,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clash.save()
    first.status = "cancelled"
    first.save()
    clash.save()  # a cancelled appointment holds no time


def test_a_deadlock_postgresql_breaks_between_two_bookings_is_a_lost_race_not_a_500():
    # Concurrent inserts each waiting for the other's uncommitted overlapping row: PostgreSQL
    # cancels one with SQLSTATE 40P01 (seen in the race above under load).
    from django.db import IntegrityError, OperationalError

    class DeadlockDetected(Exception):
        sqlstate = "40P01"

    deadlock = OperationalError("deadlock detected")
    deadlock.__cause__ = DeadlockDetected()
    assert services._lost_race(deadlock)
    assert services._lost_race(IntegrityError("conflicting key value violates exclusion"))
    assert not services._lost_race(OperationalError("server closed the connection"))


# --- The techniques the patient's plan needs -----------------------------------------------------


def _plan_needing_myofascial_release(world: World) -> None:
    from backcare.plans.tests.factories import make_plan, plan_technique

    therapist_user = make_member(world.clinic, Role.THERAPIST)
    plan = make_plan(therapist_user, world.patient)
    plan_technique(therapist_user, plan, technique_code="myofascial_release")


def test_a_therapist_who_does_not_offer_a_planned_technique_is_refused_with_the_reason(world):
    from backcare.accounts.models import Technique

    _plan_needing_myofascial_release(world)
    with pytest.raises(ConflictError) as refused:
        world.book(world.at(10))
    assert refused.value.message == (
        f"{world.therapist.user.full_name} does not offer Myofascial release, which "
        f"{world.patient.display_name}'s treatment plan needs. Choose another therapist."
    )
    with pytest.raises(ConflictError, match="does not offer Myofascial release"):
        services.book_course(
            booked_by=world.desk,
            patient_id=world.patient.pk,
            therapist_id=world.therapist.pk,
            service_id=world.service.pk,
            first_starts_at=world.at(10),
            sessions_count=3,
        )
    world.therapist.techniques.add(Technique.objects.get(code="myofascial_release"))
    assert world.book(world.at(10))
    assert world.book(world.at(12), patient=world.other_patient)  # no plan: anyone


def test_any_suitable_therapist_means_one_offering_the_plans_techniques(world):
    from backcare.accounts.models import Technique
    from backcare.scheduling.queries import list_suitable_therapists

    other = make_therapist(world.clinic)
    other.techniques.add(Technique.objects.get(code="myofascial_release"))
    day = world.monday
    everyone = list_suitable_therapists(world.desk, world.clinic, world.patient.pk, on=day)
    assert {world.therapist, other} <= set(everyone)
    _plan_needing_myofascial_release(world)
    assert list_suitable_therapists(world.desk, world.clinic, world.patient.pk, on=day) == [other]


# --- Attended ---------------------------------------------------------------------------------


def test_an_appointment_is_marked_attended_once_it_has_begun_and_only_by_staff(world):
    import time_machine

    from backcare.core.errors import NotFoundError

    appointment = world.book(world.at(10))
    with pytest.raises(ConflictError, match="once it has begun"):
        services.complete_appointment(actor=world.desk, appointment_id=appointment.pk)
    with time_machine.travel(world.at(10, 30)):
        with pytest.raises(NotFoundError):
            services.complete_appointment(
                actor=make_member(make_clinic("Other"), Role.THERAPIST),
                appointment_id=appointment.pk,
            )
        done = services.complete_appointment(actor=world.desk, appointment_id=appointment.pk)
        assert done.status == "completed"
        again = services.complete_appointment(actor=world.desk, appointment_id=appointment.pk)
        assert again.status == "completed"
        with pytest.raises(ConflictError):
            services.cancel_appointment(cancelled_by=world.desk, appointment_id=appointment.pk)
    assert AuditEvent.objects.filter(action="appointment.complete", outcome="allowed").count() == 1
    assert AuditEvent.objects.filter(action="appointment.complete", outcome="denied").count() == 1
