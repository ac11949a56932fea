"""The clinic's scheduling configuration: services (admins change, staff view, never deleted),
therapists' working hours (weekly and one-off dates) and time off (admins and the therapist
themself), and the scheduling settings. Changing hours never cancels an appointment: those left
outside working time are listed."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backcare.accounts.models import Role, Technique
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.scheduling import queries, services
from backcare.scheduling.models import (
    AppointmentStatus,
    SchedulingSettings,
    Service,
    TimeOff,
    WorkingHours,
)
from backcare.scheduling.tests.test_services import World
from tests.factories import make_clinic, make_member, make_patient, make_room, make_user


class ConfigWorld(World):
    """The booking world with a clinic admin, and a second therapist as the colleague."""

    def __init__(self) -> None:
        super().__init__()
        self.admin = make_member(self.clinic, Role.CLINIC_ADMIN)
        self.colleague = make_member(self.clinic, Role.THERAPIST)

    def service_values(self, **changes: object) -> dict[str, object]:
        values: dict[str, object] = {
            "name": "Back massage 90",
            "description": "Long session",
            "duration_minutes": 90,
            "buffer_minutes": 15,
            "price": Decimal("95.00"),
            "technique_ids": [],
        }
        values.update(changes)
        return values

    def add_hours(self, actor=None, **values: object) -> WorkingHours:
        return services.add_working_hours(
            actor=actor or self.admin,
            clinic=self.clinic,
            therapist_id=self.therapist.pk,
            **values,  # type: ignore[arg-type]
        )

    def monday_starts(self, days: int = 0) -> list[datetime]:
        day = self.monday + timedelta(days=days)
        return queries.free_starts(
            self.clinic,
            therapist_id=self.therapist.pk,
            service=self.service,
            first_day=day,
            last_day=day,
            not_before=self.at(0),
        )

    def schedule(self, viewer=None) -> queries.TherapistSchedule:
        return queries.get_therapist_schedule(
            viewer or self.admin, self.clinic, self.therapist.pk, now=timezone.now()
        )


@pytest.fixture
def world(db) -> ConfigWorld:
    return ConfigWorld()


def _denied(actor) -> int:
    return AuditEvent.objects.filter(actor_id=actor.pk, outcome="denied").count()


def _time_off(world: ConfigWorld, *, starts_in: timedelta, ends_in: timedelta) -> TimeOff:
    now = timezone.now()
    return TimeOff.objects.create(
        clinic=world.clinic,
        therapist=world.therapist,
        starts_at=now + starts_in,
        ends_at=now + ends_in,
    )


def _remove_time_off(world: ConfigWorld, time_off: TimeOff) -> TimeOff:
    return services.remove_time_off(
        actor=world.admin,
        clinic=world.clinic,
        therapist_id=world.therapist.pk,
        time_off_id=time_off.pk,
    )


# --- Services -----------------------------------------------------------------------------------


def test_an_admin_adds_a_service_with_its_techniques_and_it_is_audited(world):
    techniques = list(Technique.objects.filter(is_active=True)[:2])
    service = services.add_service(
        actor=world.admin,
        clinic=world.clinic,
        **world.service_values(technique_ids=[t.pk for t in techniques]),
    )
    assert (service.clinic, service.duration_minutes, service.is_active) == (world.clinic, 90, True)
    assert set(service.techniques.all()) == set(techniques)
    assert AuditEvent.objects.filter(
        action="service.create", object_id=str(service.pk), actor_id=world.admin.pk
    ).exists()


def test_an_admin_edits_a_service_and_the_audit_names_the_changed_fields(world):
    technique = Technique.objects.filter(is_active=True)[0]
    services.change_service(
        actor=world.admin,
        clinic=world.clinic,
        service_id=world.service.pk,
        **world.service_values(
            name="Back massage 60",
            description="",
            duration_minutes=60,
            buffer_minutes=10,
            price=Decimal("0"),
            technique_ids=[technique.pk],
            is_active=True,
        ),
    )
    world.service.refresh_from_db()
    assert world.service.buffer_minutes == 10
    assert list(world.service.techniques.all()) == [technique]
    event = AuditEvent.objects.get(action="service.update")
    assert event.detail["fields"] == ["buffer_minutes", "techniques"]


def test_a_retired_service_stays_listed_but_can_no_longer_be_booked(world):
    services.change_service(
        actor=world.admin,
        clinic=world.clinic,
        service_id=world.service.pk,
        **world.service_values(name="Back massage 60", is_active=False),
    )
    assert Service.objects.filter(pk=world.service.pk, is_active=False).exists()
    assert world.service not in queries.list_services(world.desk, world.clinic)
    assert world.service in queries.list_clinic_services(world.desk, world.clinic)
    with pytest.raises(InvalidInputError, match="Choose one of the clinic's services"):
        world.book(world.at(10))


def test_a_service_name_the_clinic_already_uses_is_refused_whatever_its_case(world):
    with pytest.raises(InvalidInputError, match="already has a service") as refused:
        services.add_service(
            actor=world.admin,
            clinic=world.clinic,
            **world.service_values(name="back MASSAGE 60"),
        )
    assert "name" in refused.value.field_errors
    other = make_clinic("Elsewhere")
    other_admin = make_member(other, Role.CLINIC_ADMIN)
    assert services.add_service(
        actor=other_admin, clinic=other, **world.service_values(name="Back massage 60")
    )


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("price", Decimal("-1"), "price"),
        ("duration_minutes", 4, "duration_minutes"),
        ("duration_minutes", 481, "duration_minutes"),
        ("buffer_minutes", 121, "buffer_minutes"),
        ("technique_ids", [999_999], "techniques"),
    ],
)
def test_bad_service_values_are_refused_naming_the_field(world, field, value, named):
    with pytest.raises(InvalidInputError) as refused:
        services.add_service(
            actor=world.admin, clinic=world.clinic, **world.service_values(**{field: value})
        )
    assert list(refused.value.field_errors) == [named]
    assert not Service.objects.filter(name="Back massage 90").exists()


@pytest.mark.parametrize("who", ["front desk", "therapist", "patient", "stranger", "other admin"])
def test_only_the_clinics_admins_add_or_change_its_services(world, who):
    actor = {
        "front desk": lambda: world.desk,
        "therapist": lambda: world.therapist.user,
        "patient": lambda: make_patient(world.clinic, user=make_user()).user,
        "stranger": make_user,
        "other admin": lambda: make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN),
    }[who]()
    with pytest.raises(NotFoundError):
        services.add_service(actor=actor, clinic=world.clinic, **world.service_values())
    with pytest.raises(NotFoundError):
        services.change_service(
            actor=actor,
            clinic=world.clinic,
            service_id=world.service.pk,
            **world.service_values(is_active=False),
        )
    assert _denied(actor) == 2
    assert Service.objects.filter(is_active=True).count() == 1


def test_an_admin_cannot_reach_another_clinics_service_through_their_own_clinic(world):
    other = make_clinic("Elsewhere")
    other_admin = make_member(other, Role.CLINIC_ADMIN)
    with pytest.raises(NotFoundError):
        services.change_service(
            actor=other_admin,
            clinic=other,
            service_id=world.service.pk,
            **world.service_values(is_active=False),
        )
    assert AuditEvent.objects.filter(
        action="service.change", outcome="denied", object_id=str(world.service.pk)
    ).exists()
    world.service.refresh_from_db()
    assert world.service.is_active


def test_staff_see_every_service_and_patients_do_not_get_the_staff_list(world):
    retired = Service.objects.create(
        clinic=world.clinic, name="Old", duration_minutes=30, is_active=False
    )
    for viewer in (world.admin, world.desk, world.therapist.user):
        assert queries.list_clinic_services(viewer, world.clinic) == [world.service, retired]
    patient_user = make_user()
    make_patient(world.clinic, user=patient_user)
    with pytest.raises(NotFoundError):
        queries.list_clinic_services(patient_user, world.clinic)


# --- Working hours ------------------------------------------------------------------------------


def test_a_dated_change_replaces_the_weekly_pattern_on_that_date_only(world):
    assert world.monday_starts()[0] == world.at(9)
    world.add_hours(on_date=world.monday, starts=time(13), ends=time(15))
    # 60 minutes and a 15-minute buffer fit from 13:00 to 13:45 in 13:00-15:00.
    assert world.monday_starts() == [world.at(13, m) for m in (0, 15, 30, 45)]
    next_week = world.monday_starts(days=7)
    assert (next_week[0], next_week[-1]) == (world.at(9, days=7), world.at(15, 45, days=7))


def test_a_dated_change_on_a_day_off_adds_working_time_that_day(world):
    tuesday = world.monday + timedelta(days=1)
    assert world.monday_starts(days=1) == []
    hours = world.add_hours(on_date=tuesday, starts=time(9), ends=time(11))
    assert hours.weekday == 1
    assert world.monday_starts(days=1)[0] == world.at(9, days=1)


def test_availability_takes_three_queries_with_one_off_dates(world, django_assert_num_queries):
    world.add_hours(on_date=world.monday, starts=time(13), ends=time(15))
    world.add_hours(on_date=world.monday + timedelta(days=9), starts=time(8), ends=time(12))
    with django_assert_num_queries(3):
        starts = queries.free_starts(
            world.clinic,
            therapist_id=world.therapist.pk,
            service=world.service,
            first_day=world.monday,
            last_day=world.monday + timedelta(days=13),
            not_before=world.at(0),
        )
    assert world.at(13) in starts
    assert world.at(9) not in starts
    assert world.at(8, days=9) in starts


@pytest.mark.parametrize(
    ("values", "clash"),
    [
        ({"weekday": 0, "starts": time(16), "ends": time(18)}, "Monday 09:00\N{EN DASH}17:00"),
        ({"weekday": 0, "starts": time(8), "ends": time(9, 30)}, "Monday 09:00\N{EN DASH}17:00"),
    ],
)
def test_an_overlapping_weekly_block_is_refused_naming_the_block(world, values, clash):
    with pytest.raises(InvalidInputError) as refused:
        world.add_hours(**values)
    assert f"This block overlaps {clash}." in refused.value.message
    assert refused.value.field_errors == {"starts": "Overlaps another block."}
    assert WorkingHours.objects.count() == 1


def test_overlapping_blocks_of_one_date_are_refused_but_touching_ones_and_the_pattern_are_not(
    world,
):
    world.add_hours(weekday=0, starts=time(17), ends=time(19))  # touches 09:00-17:00
    world.add_hours(on_date=world.monday, starts=time(10), ends=time(12))  # the pattern is replaced
    world.add_hours(on_date=world.monday, starts=time(12), ends=time(14))
    with pytest.raises(InvalidInputError, match=r"overlaps Mon \d\d \w+ \d{4} 12:00"):
        world.add_hours(on_date=world.monday, starts=time(13), ends=time(15))
    assert WorkingHours.objects.filter(on_date=world.monday).count() == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"weekday": 2, "starts": time(12), "ends": time(12)}, "ends"),
        ({"weekday": 2, "starts": time(12), "ends": time(9)}, "ends"),
        ({"weekday": 7, "starts": time(9), "ends": time(12)}, "weekday"),
        ({"on_date": date(2020, 1, 6), "starts": time(9), "ends": time(12)}, "on_date"),
    ],
)
def test_bad_hours_are_refused_naming_the_field(world, values, field):
    with pytest.raises(InvalidInputError) as refused:
        world.add_hours(**values)
    assert field in refused.value.field_errors
    assert WorkingHours.objects.count() == 1


def test_hours_need_either_a_weekday_or_a_date(world):
    with pytest.raises(InvalidInputError, match="either a weekday or a date"):
        world.add_hours(starts=time(9), ends=time(10))
    with pytest.raises(InvalidInputError, match="either a weekday or a date"):
        world.add_hours(weekday=0, on_date=world.monday, starts=time(9), ends=time(10))


def test_a_block_may_name_one_of_the_clinics_rooms_in_use(world):
    room = make_room(world.clinic)
    hours = world.add_hours(weekday=2, starts=time(9), ends=time(12), room_id=room.pk)
    assert hours.room == room


def test_a_room_out_of_use_or_of_another_clinic_is_refused(world):
    out_of_use = make_room(world.clinic)
    out_of_use.is_active = False
    out_of_use.save()
    elsewhere = make_room(make_clinic("Elsewhere"))
    for room in (out_of_use, elsewhere):
        with pytest.raises(InvalidInputError, match="rooms in use"):
            world.add_hours(weekday=3, starts=time(9), ends=time(12), room_id=room.pk)
    assert WorkingHours.objects.count() == 1


def test_a_therapist_changes_their_own_hours_but_not_a_colleagues(world):
    own = world.add_hours(actor=world.therapist.user, weekday=2, starts=time(9), ends=time(12))
    assert own.therapist == world.therapist
    colleague = world.colleague
    with pytest.raises(NotFoundError):
        world.add_hours(actor=colleague, weekday=3, starts=time(9), ends=time(12))
    with pytest.raises(NotFoundError):
        services.remove_working_hours(
            actor=colleague, clinic=world.clinic, therapist_id=world.therapist.pk, hours_id=own.pk
        )
    with pytest.raises(NotFoundError):
        world.schedule(viewer=colleague)
    assert _denied(colleague) == 3
    services.remove_working_hours(
        actor=world.therapist.user,
        clinic=world.clinic,
        therapist_id=world.therapist.pk,
        hours_id=own.pk,
    )
    assert not WorkingHours.objects.filter(pk=own.pk).exists()


@pytest.mark.parametrize("who", ["front desk", "stranger", "other admin", "patient"])
def test_only_admins_and_the_therapist_see_or_change_hours_and_time_off(world, who):
    actor = {
        "front desk": lambda: world.desk,
        "stranger": make_user,
        "other admin": lambda: make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN),
        "patient": lambda: make_patient(world.clinic, user=make_user()).user,
    }[who]()
    block = WorkingHours.objects.get()
    attempts = [
        lambda: world.schedule(viewer=actor),
        lambda: world.add_hours(actor=actor, weekday=2, starts=time(9), ends=time(12)),
        lambda: services.remove_working_hours(
            actor=actor, clinic=world.clinic, therapist_id=world.therapist.pk, hours_id=block.pk
        ),
        lambda: services.add_time_off(
            actor=actor,
            clinic=world.clinic,
            therapist_id=world.therapist.pk,
            starts_at=world.at(9),
            ends_at=world.at(12),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError):
            attempt()
    assert _denied(actor) == len(attempts)
    assert list(WorkingHours.objects.all()) == [block]
    assert not TimeOff.objects.exists()


def test_an_admin_cannot_change_hours_of_a_therapist_who_does_not_work_at_the_clinic(world):
    outsider = make_member(make_clinic("Elsewhere"), Role.THERAPIST)
    with pytest.raises(NotFoundError):
        services.add_working_hours(
            actor=world.admin,
            clinic=world.clinic,
            therapist_id=outsider.therapist.pk,
            weekday=0,
            starts=time(9),
            ends=time(12),
        )
    assert not WorkingHours.objects.filter(therapist__user=outsider).exists()


def test_appointments_left_outside_new_hours_are_listed_and_not_cancelled(world):
    early = world.book(world.at(10))
    late = world.book(world.at(15), patient=world.other_patient)
    weekly = WorkingHours.objects.get()
    services.remove_working_hours(
        actor=world.admin, clinic=world.clinic, therapist_id=world.therapist.pk, hours_id=weekly.pk
    )
    world.add_hours(weekday=0, starts=time(12), ends=time(17))
    schedule = world.schedule()
    assert schedule.outside == [early]
    early.refresh_from_db()
    assert early.status == AppointmentStatus.BOOKED
    assert late not in schedule.outside
    event = AuditEvent.objects.get(action="working_hours.view")
    assert event.detail == {"appointments_outside": 1, "patients": 1}


def test_an_appointment_whose_buffer_runs_past_the_new_end_is_listed(world):
    appointment = world.book(world.at(15))  # 15:00-16:00, buffer until 16:15
    world.add_hours(on_date=world.monday, starts=time(9), ends=time(16))
    assert world.schedule().outside == [appointment]


def test_a_dated_change_lists_that_days_appointments_outside_it(world):
    monday = world.book(world.at(10))
    next_monday = world.book(world.at(10, days=7))
    world.add_hours(on_date=world.monday, starts=time(13), ends=time(17))
    assert world.schedule().outside == [monday]
    assert next_monday.status == AppointmentStatus.BOOKED


def test_removing_hours_is_audited_and_past_dated_hours_stay(world):
    block = world.add_hours(on_date=world.monday, starts=time(9), ends=time(12))
    services.remove_working_hours(
        actor=world.admin, clinic=world.clinic, therapist_id=world.therapist.pk, hours_id=block.pk
    )
    event = AuditEvent.objects.get(action="working_hours.delete")
    assert event.detail["on_date"] == world.monday.isoformat()
    past = WorkingHours.objects.create(
        clinic=world.clinic,
        therapist=world.therapist,
        weekday=0,
        on_date=world.monday - timedelta(days=14),
        starts=time(9),
        ends=time(12),
    )
    with pytest.raises(ConflictError, match="date has passed"):
        services.remove_working_hours(
            actor=world.admin,
            clinic=world.clinic,
            therapist_id=world.therapist.pk,
            hours_id=past.pk,
        )
    assert WorkingHours.objects.filter(pk=past.pk).exists()


def test_the_schedule_shows_the_pattern_coming_dates_and_time_off_not_yet_over(world):
    coming = world.add_hours(on_date=world.monday, starts=time(9), ends=time(12))
    WorkingHours.objects.create(
        clinic=world.clinic,
        therapist=world.therapist,
        weekday=0,
        on_date=world.monday - timedelta(days=14),
        starts=time(9),
        ends=time(12),
    )
    over = _time_off(world, starts_in=timedelta(days=-3), ends_in=timedelta(days=-2))
    current = _time_off(world, starts_in=timedelta(hours=-1), ends_in=timedelta(hours=1))
    schedule = world.schedule(viewer=world.therapist.user)
    assert [h.weekday for h in schedule.weekly] == [0]
    assert schedule.dated == [coming]
    assert schedule.time_off == [current]
    assert over not in schedule.time_off


# --- Time off -----------------------------------------------------------------------------------


def test_time_off_removes_slots_and_lists_the_appointments_in_it_without_cancelling(world):
    appointment = world.book(world.at(10))
    time_off = services.add_time_off(
        actor=world.therapist.user,
        clinic=world.clinic,
        therapist_id=world.therapist.pk,
        starts_at=world.at(0),
        ends_at=world.at(0, days=1),
        reason="Training",
    )
    assert world.monday_starts() == []
    assert world.monday_starts(days=7)
    assert world.schedule().outside == [appointment]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    event = AuditEvent.objects.get(action="time_off.create")
    assert event.object_id == str(time_off.pk)
    assert "Training" not in str(event.detail)


def test_removing_time_off_gives_its_slots_back_and_is_audited(world):
    time_off = services.add_time_off(
        actor=world.admin,
        clinic=world.clinic,
        therapist_id=world.therapist.pk,
        starts_at=world.at(0),
        ends_at=world.at(0, days=1),
    )
    services.remove_time_off(
        actor=world.admin,
        clinic=world.clinic,
        therapist_id=world.therapist.pk,
        time_off_id=time_off.pk,
    )
    assert world.monday_starts()[0] == world.at(9)
    assert AuditEvent.objects.filter(action="time_off.delete", object_id=str(time_off.pk))


def test_past_time_off_cannot_be_removed(world):
    past = _time_off(world, starts_in=timedelta(days=-3), ends_in=timedelta(days=-2))
    with pytest.raises(ConflictError, match="past time off stays on record"):
        _remove_time_off(world, past)
    assert TimeOff.objects.filter(pk=past.pk).exists()


@pytest.mark.parametrize(
    ("starts_in", "ends_in"),
    [(timedelta(hours=-1), timedelta(hours=1)), (timedelta(days=2), timedelta(days=3))],
    ids=["current", "future"],
)
def test_current_and_future_time_off_can_be_removed(world, starts_in, ends_in):
    time_off = _time_off(world, starts_in=starts_in, ends_in=ends_in)
    _remove_time_off(world, time_off)
    assert not TimeOff.objects.filter(pk=time_off.pk).exists()


def test_time_off_must_end_after_it_starts_and_carry_a_zone(world):
    with pytest.raises(InvalidInputError) as refused:
        services.add_time_off(
            actor=world.admin,
            clinic=world.clinic,
            therapist_id=world.therapist.pk,
            starts_at=world.at(12),
            ends_at=world.at(9),
        )
    assert refused.value.field_errors == {"ends_at": "Must be after the start."}
    with pytest.raises(InvalidInputError, match="time zone"):
        services.add_time_off(
            actor=world.admin,
            clinic=world.clinic,
            therapist_id=world.therapist.pk,
            starts_at=datetime(2030, 1, 7, 9),  # noqa: DTZ001 (naive on purpose)
            ends_at=world.at(9),
        )
    assert not TimeOff.objects.exists()


def test_time_off_of_a_colleague_cannot_be_removed_through_my_own_page(world):
    colleague_therapist = world.colleague.therapist
    theirs = TimeOff.objects.create(
        clinic=world.clinic,
        therapist=colleague_therapist,
        starts_at=world.at(9),
        ends_at=world.at(12),
    )
    with pytest.raises(NotFoundError):
        services.remove_time_off(
            actor=world.therapist.user,
            clinic=world.clinic,
            therapist_id=world.therapist.pk,
            time_off_id=theirs.pk,
        )
    assert TimeOff.objects.filter(pk=theirs.pk).exists()


# --- Settings -----------------------------------------------------------------------------------


def change_settings(world: ConfigWorld, actor=None, **values: object) -> SchedulingSettings:
    fields: dict[str, object] = {
        "cancellation_window_hours": 24,
        "new_patients_need_approval": False,
        **values,
    }
    return services.change_scheduling_settings(
        changed_by=actor or world.admin,
        clinic=world.clinic,
        **fields,  # type: ignore[arg-type]
    )


def test_the_new_settings_are_saved_and_every_value_is_audited(world):
    change_settings(world, reminder_hours_before=48, sms_enabled=True, waitlist_offer_hours=6)
    saved = queries.scheduling_settings(world.clinic.pk)
    assert (saved.reminder_hours_before, saved.sms_enabled, saved.waitlist_offer_hours) == (
        48,
        True,
        6,
    )
    event = AuditEvent.objects.get(action="scheduling.settings")
    assert event.detail == {
        "cancellation_window_hours": 24,
        "new_patients_need_approval": False,
        "reminder_hours_before": 48,
        "sms_enabled": True,
        "waitlist_offer_hours": 6,
    }


def test_settings_not_given_keep_their_values(world):
    change_settings(world, reminder_hours_before=0, sms_enabled=True, waitlist_offer_hours=72)
    change_settings(world, cancellation_window_hours=48)
    saved = queries.scheduling_settings(world.clinic.pk)
    assert (
        saved.cancellation_window_hours,
        saved.reminder_hours_before,
        saved.sms_enabled,
        saved.waitlist_offer_hours,
    ) == (48, 0, True, 72)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reminder_hours_before", 169, "Choose 0 to 168 hours before for reminders"),
        ("reminder_hours_before", -1, "Choose 0 to 168 hours before for reminders"),
        ("waitlist_offer_hours", 0, "Choose 1 to 72 hours for a waitlist offer"),
        ("waitlist_offer_hours", 73, "Choose 1 to 72 hours for a waitlist offer"),
        ("cancellation_window_hours", 337, "Choose 0 to 336 hours for the cancellation window"),
    ],
)
def test_out_of_range_settings_are_refused_with_a_message(world, field, value, message):
    with pytest.raises(InvalidInputError, match=message) as refused:
        change_settings(world, **{field: value})
    assert list(refused.value.field_errors) == [field]
    assert not SchedulingSettings.objects.exists()


@pytest.mark.parametrize("who", ["front desk", "therapist", "other admin"])
def test_only_the_clinics_admins_see_or_change_the_scheduling_settings(world, who):
    actor = {
        "front desk": lambda: world.desk,
        "therapist": lambda: world.therapist.user,
        "other admin": lambda: make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN),
    }[who]()
    with pytest.raises(NotFoundError):
        queries.get_scheduling_settings(actor, world.clinic)
    with pytest.raises(NotFoundError):
        change_settings(world, actor=actor, sms_enabled=True)
    assert _denied(actor) == 2
    assert not SchedulingSettings.objects.exists()
