"""Any sequence of bookings, cancellations, moves, courses and changes of working hours keeps
the scheduling promises (ARCHITECTURE.md §5):

- no two active appointments overlap for a therapist (with buffers), a room or a patient;
- every appointment booked or moved lay inside the working hours in force at that moment, and
  those booked since the last change of hours lie inside the current hours;
- a cancelled time can be booked again (while it is still inside working hours).

The machine keeps its own model of hours and appointments and predicts each service's answer
(booked, outside working hours, taken); the database must agree. Each example runs in a
savepoint rolled back at its end, so examples start from the same clinic.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from backcare.core.errors import ConflictError, InvalidInputError
from backcare.scheduling import services
from backcare.scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Service,
    WorkingHours,
)
from backcare.scheduling.services import SlotTakenError
from backcare.scheduling.tests.test_services import World
from tests.factories import make_room, make_therapist

WEEKDAYS = (0, 1)  # the machine's therapists work Mondays and Tuesdays
DAYS = (0, 1, 7)  # Monday and Tuesday of next week, Monday of the week after
# Quarter hours from 08:00 to 17:00: mostly inside the hours, crowded enough to collide.
QUARTERS = st.integers(8 * 4, 17 * 4).map(lambda q: time(q // 4, q % 4 * 15))


@dataclass(frozen=True)
class Booked:
    """The machine's record of an active appointment."""

    therapist: int
    patient: int
    service: int
    with_room: bool
    start: datetime
    end: datetime
    blocked: datetime
    hours_then: tuple[time, time] | None  # the therapist's block that day when booked or moved
    hours_version: int  # how many changes of hours came before the booking or move


class Clinic:
    """Two therapists, three patients, one room, two services (60 min + 15 buffer, 30 + 0)."""

    def __init__(self) -> None:
        self.world = World()
        clinic = self.world.clinic
        self.therapists = [self.world.therapist, make_therapist(clinic)]
        WorkingHours.objects.filter(clinic=clinic).delete()
        for therapist in self.therapists:
            for weekday in WEEKDAYS:
                WorkingHours.objects.create(
                    clinic=clinic,
                    therapist=therapist,
                    weekday=weekday,
                    starts=time(9),
                    ends=time(17),
                )
        self.patients = [self.world.patient, self.world.other_patient, self.world._screened()]
        self.services = [
            self.world.service,
            Service.objects.create(
                clinic=clinic, name="Back massage 30", duration_minutes=30, buffer_minutes=0
            ),
        ]
        self.room = make_room(clinic)


class SchedulingMachine(RuleBasedStateMachine):
    clinic: Clinic  # set by the test before running

    appointments = Bundle("appointments")

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint_create()
        self.hours: dict[tuple[int, int], tuple[time, time] | None] = {
            (t, d): (time(9), time(17)) for t in range(2) for d in WEEKDAYS
        }
        self.hours_version = 0
        self.active: dict[Any, Booked] = {}

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    # --- the model --------------------------------------------------------------------------

    @property
    def world(self) -> World:
        return self.clinic.world

    def _times(self, service: int, start: datetime) -> tuple[datetime, datetime, datetime]:
        row = self.clinic.services[service]
        end = start + timedelta(minutes=row.duration_minutes)
        return start, end, end + timedelta(minutes=row.buffer_minutes)

    def _block(self, therapist: int, start: datetime) -> tuple[time, time] | None:
        return self.hours.get((therapist, start.astimezone(self.world.clinic.zone).weekday()))

    def _inside(self, block: tuple[time, time] | None, start: datetime, blocked: datetime) -> bool:
        zone = self.world.clinic.zone
        local_start, local_end = start.astimezone(zone), blocked.astimezone(zone)
        return (
            block is not None
            and local_start.date() == local_end.date()
            and block[0] <= local_start.time()
            and local_end.time() <= block[1]
        )

    def _clashes(
        self, therapist: int, patient: int, with_room: bool, times: tuple, ignore: Any = None
    ) -> bool:
        start, end, blocked = times
        for key, other in self.active.items():
            if key == ignore:
                continue
            blocking = other.start < blocked and start < other.blocked
            if (other.therapist == therapist or (with_room and other.with_room)) and blocking:
                return True
            if other.patient == patient and other.start < end and start < other.end:
                return True
        return False

    def _record(
        self, therapist: int, patient: int, service: int, with_room: bool, start: datetime
    ) -> Booked:
        begin, end, blocked = self._times(service, start)
        return Booked(
            therapist,
            patient,
            service,
            with_room,
            begin,
            end,
            blocked,
            self._block(therapist, start),
            self.hours_version,
        )

    def _at(self, day: int, wall: time) -> datetime:
        return self.world.at(wall.hour, wall.minute, days=day)

    def _book(self, therapist: int, patient: int, service: int, with_room: bool, start: datetime):
        return services.book_appointment(
            booked_by=self.world.desk,
            patient_id=self.clinic.patients[patient].pk,
            therapist_id=self.clinic.therapists[therapist].pk,
            service_id=self.clinic.services[service].pk,
            starts_at=start,
            room_id=self.clinic.room.pk if with_room else None,
        )

    def _expected(self, record: Booked, ignore: Any = None) -> type[Exception] | None:
        """What the services answer: None (done), or the error class they raise."""
        if not self._inside(
            self._block(record.therapist, record.start), record.start, record.blocked
        ):
            return InvalidInputError
        times = (record.start, record.end, record.blocked)
        if self._clashes(record.therapist, record.patient, record.with_room, times, ignore):
            return SlotTakenError
        return None

    # --- rules ------------------------------------------------------------------------------

    @rule(
        target=appointments,
        therapist=st.integers(0, 1),
        patient=st.integers(0, 2),
        service=st.integers(0, 1),
        with_room=st.booleans(),
        day=st.sampled_from(DAYS),
        wall=QUARTERS,
    )
    def book(self, therapist, patient, service, with_room, day, wall):
        record = self._record(therapist, patient, service, with_room, self._at(day, wall))
        expected = self._expected(record)
        outcome = _outcome(lambda: self._book(therapist, patient, service, with_room, record.start))
        _agree("book", outcome, expected)
        if expected is not None:
            return multiple()
        self.active[outcome.pk] = record
        return outcome.pk

    @rule(
        target=appointments,
        therapist=st.integers(0, 1),
        patient=st.integers(0, 2),
        with_room=st.booleans(),
        day=st.sampled_from(DAYS[:2]),
        wall=QUARTERS,
        count=st.integers(1, 4),
    )
    def book_course(self, therapist, patient, with_room, day, wall, count):
        records = [
            self._record(therapist, patient, 0, with_room, self._at(day + 7 * n, wall))
            for n in range(count)
        ]
        refused = [n for n, r in enumerate(records, 1) if self._expected(r) is not None]
        outcome = _outcome(
            lambda: services.book_course(
                booked_by=self.world.desk,
                patient_id=self.clinic.patients[patient].pk,
                therapist_id=self.clinic.therapists[therapist].pk,
                service_id=self.clinic.services[0].pk,
                first_starts_at=records[0].start,
                sessions_count=count,
                room_id=self.clinic.room.pk if with_room else None,
            )
        )
        # Any session that is not free refuses the whole course, naming the first such session;
        # the invariants then find the database unchanged, like the model.
        _agree("book_course", outcome, SlotTakenError if refused else None)
        if refused:
            assert outcome.session == refused[0]
            return multiple()
        booked = list(Appointment.objects.filter(course=outcome).order_by("starts_at"))
        assert [a.starts_at for a in booked] == [r.start for r in records]
        for appointment, record in zip(booked, records, strict=True):
            self.active[appointment.pk] = record
        return multiple(*(a.pk for a in booked))

    @rule(target=appointments, appointment=consumes(appointments))
    def cancel_and_book_again(self, appointment):
        if appointment not in self.active:
            return multiple()
        record = self.active.pop(appointment)
        services.cancel_appointment(cancelled_by=self.world.desk, appointment_id=appointment)
        # The freed time is bookable again, by the same patient, unless the hours moved away.
        expected = self._expected(record)
        assert expected in (None, InvalidInputError)
        outcome = _outcome(
            lambda: self._book(
                record.therapist, record.patient, record.service, record.with_room, record.start
            )
        )
        _agree("book again", outcome, expected)
        if expected is not None:
            return multiple()
        self.active[outcome.pk] = self._record(
            record.therapist, record.patient, record.service, record.with_room, record.start
        )
        return outcome.pk

    @rule(appointment=appointments, day=st.sampled_from(DAYS), wall=QUARTERS)
    def reschedule(self, appointment, day, wall):
        if appointment not in self.active:
            return
        old = self.active[appointment]
        record = self._record(
            old.therapist, old.patient, old.service, old.with_room, self._at(day, wall)
        )
        expected = self._expected(record, ignore=appointment)
        outcome = _outcome(
            lambda: services.reschedule_appointment(
                actor=self.world.desk, appointment_id=appointment, starts_at=record.start
            )
        )
        _agree("reschedule", outcome, expected)
        if expected is None:
            assert outcome.pk == appointment
            self.active[appointment] = record

    @rule(
        therapist=st.integers(0, 1),
        weekday=st.sampled_from(WEEKDAYS),
        starts=st.integers(7, 12),
        ends=st.integers(13, 19),
        day_off=st.integers(0, 4).map(lambda n: n == 4),
    )
    def change_working_hours(self, therapist, weekday, starts, ends, day_off):
        row = self.clinic.therapists[therapist]
        WorkingHours.objects.filter(
            clinic=self.world.clinic, therapist=row, weekday=weekday
        ).delete()
        block = None if day_off else (time(starts), time(ends))
        if block is not None:
            WorkingHours.objects.create(
                clinic=self.world.clinic,
                therapist=row,
                weekday=weekday,
                starts=block[0],
                ends=block[1],
            )
        self.hours[(therapist, weekday)] = block
        self.hours_version += 1
        event("hours: day off" if day_off else "hours: changed")

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def no_overlaps_for_a_therapist_a_room_or_a_patient(self):
        rows = list(
            Appointment.objects.filter(clinic=self.world.clinic, status__in=ACTIVE_STATUSES).values(
                "pk",
                "therapist_id",
                "room_id",
                "patient_id",
                "starts_at",
                "ends_at",
                "blocked_until",
            )
        )
        for index, a in enumerate(rows):
            for b in rows[index + 1 :]:
                blocking = (
                    a["starts_at"] < b["blocked_until"] and b["starts_at"] < a["blocked_until"]
                )
                assert not (blocking and a["therapist_id"] == b["therapist_id"]), (a, b)
                assert not (blocking and a["room_id"] and a["room_id"] == b["room_id"]), (a, b)
                meeting = a["starts_at"] < b["ends_at"] and b["starts_at"] < a["ends_at"]
                assert not (meeting and a["patient_id"] == b["patient_id"]), (a, b)

    @invariant()
    def the_database_holds_what_the_model_holds(self):
        rows = {
            a.pk: a
            for a in Appointment.objects.filter(
                clinic=self.world.clinic, status__in=ACTIVE_STATUSES
            )
        }
        assert set(rows) == set(self.active)
        for pk, record in self.active.items():
            assert (rows[pk].starts_at, rows[pk].blocked_until) == (record.start, record.blocked)

    @invariant()
    def bookings_lay_inside_the_working_hours_of_their_time(self):
        zone = self.world.clinic.zone
        for record in self.active.values():
            assert self._inside(record.hours_then, record.start, record.blocked)
            if record.hours_version == self.hours_version:
                current = WorkingHours.objects.filter(
                    clinic=self.world.clinic,
                    therapist=self.clinic.therapists[record.therapist],
                    weekday=record.start.astimezone(zone).weekday(),
                ).values_list("starts", "ends")
                assert any(self._inside(block, record.start, record.blocked) for block in current)


def _outcome(call: Callable[[], Any]) -> Any:
    """The call's result, or the domain error it raised on purpose."""
    try:
        return call()
    except (ConflictError, InvalidInputError) as error:
        return error


def _agree(step: str, outcome: Any, expected: type[Exception] | None) -> None:
    """The service answered what the model predicted (and `event` tallies the answers)."""
    answer = type(outcome).__name__ if isinstance(outcome, Exception) else "done"
    event(f"{step}: {answer}")
    if expected is None:
        assert answer == "done", f"{step} refused: {getattr(outcome, 'message', outcome)}"
    else:
        assert isinstance(outcome, expected), f"{step}: expected {expected.__name__}, got {answer}"


@pytest.mark.django_db
def test_any_sequence_of_scheduling_steps_keeps_the_promises():
    SchedulingMachine.clinic = Clinic()
    run_state_machine_as_test(
        SchedulingMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
