"""Planning: one active plan per patient, goals and home care, techniques within the
screening's limits (pressure cap and regions refused, an excluded technique only with an
acknowledged reason, audited), and who may plan."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from backcare.plans import services
from backcare.plans.models import PlanStatus, TreatmentPlan
from backcare.plans.queries import techniques_needed
from backcare.plans.tests.factories import make_plan, plan_technique
from backcare.triage.tests.factories import make_clearance, make_screening
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


class World:
    def __init__(self) -> None:
        self.clinic = make_clinic("Home")
        self.therapist = make_member(self.clinic, Role.THERAPIST)
        self.desk = make_member(self.clinic, Role.FRONT_DESK)
        self.patient = make_patient(self.clinic)
        # Anticoagulants (RULES.md §2): pressure cap 3 and no deep tissue; a history of cancer
        # holds for a clearance, which adds a region to avoid.
        make_screening(
            self.therapist,
            self.patient,
            yes=("history_of_cancer",),
            conditions={"anticoagulant_or_bleeding_disorder": True},
        )
        make_clearance(self.therapist, self.patient, restricted_regions=["leg_left"])


@pytest.fixture
def world() -> World:
    return World()


def test_a_therapist_starts_a_plan_with_goals_and_home_care(world):
    plan = make_plan(
        world.therapist,
        world.patient,
        sessions_planned=10,
        reassess_at_sessions=[10, 5],
        pain_target=2,
        home_care_codes=["heat", "knee_to_chest"],
        goals=[services.GoalInput("Sit through a film", target_score=8, baseline_score=3)],
    )
    assert plan.reassess_at_sessions == [5, 10]
    assert [g.activity for g in plan.goals.all()] == ["Sit through a film"]
    assert sorted(plan.home_care.values_list("code", flat=True)) == ["heat", "knee_to_chest"]
    assert AuditEvent.objects.filter(action="plan.create", patient_id=world.patient.pk).exists()


def test_a_new_plan_ends_the_active_one(world):
    first = make_plan(world.therapist, world.patient)
    second = make_plan(world.therapist, world.patient)
    first.refresh_from_db()
    assert (first.status, second.status) == (PlanStatus.ENDED, PlanStatus.ACTIVE)
    assert TreatmentPlan.objects.filter(status="active").count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reassess_at_sessions": [12], "sessions_planned": 10}, "reassess_at_sessions"),
        ({"home_care_codes": ["magic"]}, "home_care"),
        ({"pain_target": 11}, "pain_target"),
        ({"sessions_planned": 0}, "sessions_planned"),
    ],
)
def test_bad_plan_values_are_refused_with_the_field_named(world, fields, field):
    with pytest.raises(InvalidInputError) as refused:
        make_plan(world.therapist, world.patient, **fields)
    assert field in refused.value.field_errors
    assert not TreatmentPlan.objects.exists()


def test_a_technique_within_the_limits_is_planned(world):
    plan = make_plan(world.therapist, world.patient)
    row = plan_technique(world.therapist, plan, pressure_level=3)
    assert row.acknowledged_reason == ""
    assert techniques_needed(world.patient.pk) == frozenset({"swedish"})


def test_a_pressure_above_the_cap_is_refused_with_a_clear_message(world):
    plan = make_plan(world.therapist, world.patient)
    with pytest.raises(InvalidInputError) as refused:
        plan_technique(world.therapist, plan, pressure_level=4)
    assert refused.value.message == (
        "Pressure level 4 is above the cap of 3 for this patient; choose level 3 or lower."
    )
    assert "pressure_level" in refused.value.field_errors


def test_work_in_a_region_to_avoid_is_refused_even_with_a_reason(world):
    plan = make_plan(world.therapist, world.patient)
    with pytest.raises(InvalidInputError, match="avoid leg_left"):
        plan_technique(
            world.therapist, plan, muscle="hamstrings", side="left", acknowledged_reason="Asked"
        )
    assert plan_technique(world.therapist, plan, muscle="hamstrings", side="right")


def test_an_excluded_technique_needs_an_acknowledged_reason_which_is_audited(world):
    plan = make_plan(world.therapist, world.patient)
    with pytest.raises(InvalidInputError) as refused:
        plan_technique(world.therapist, plan, technique_code="deep_tissue", pressure_level=2)
    assert "excludes deep tissue" in refused.value.message
    assert "acknowledged_reason" in refused.value.field_errors
    row = plan_technique(
        world.therapist,
        plan,
        technique_code="deep_tissue",
        pressure_level=2,
        acknowledged_reason="INR stable; GP agreed to slow, moderate work",
    )
    assert row.acknowledged_by == world.therapist
    event = AuditEvent.objects.get(action="plan.precaution.acknowledge")
    assert event.detail == {"technique": "deep_tissue", "kinds": ["excluded_technique"]}


def test_the_front_desk_and_other_clinics_cannot_plan(world):
    for outsider in (world.desk, make_member(make_clinic("Other"), Role.THERAPIST), make_user()):
        with pytest.raises(NotFoundError):
            make_plan(outsider, world.patient)
    assert AuditEvent.objects.filter(action="plan.create", outcome="denied").count() == 3


def test_an_ended_plan_cannot_change(world):
    plan = make_plan(world.therapist, world.patient)
    row = plan_technique(world.therapist, plan)
    services.end_plan(actor=world.therapist, plan_id=plan.pk)
    with pytest.raises(ConflictError):
        plan_technique(world.therapist, plan)
    with pytest.raises(ConflictError):
        services.remove_plan_technique(actor=world.therapist, technique_id=row.pk)
    with pytest.raises(ConflictError):
        services.end_plan(actor=world.therapist, plan_id=plan.pk)
    assert techniques_needed(world.patient.pk) == frozenset()


def test_a_removed_technique_is_kept_but_no_longer_needed(world):
    plan = make_plan(world.therapist, world.patient)
    row = plan_technique(world.therapist, plan, technique_code="myofascial_release")
    services.remove_plan_technique(actor=world.therapist, technique_id=row.pk)
    row.refresh_from_db()
    assert row.removed_at is not None
    assert techniques_needed(world.patient.pk) == frozenset()


def test_unknown_technique_muscle_or_pressure_is_refused(world):
    plan = make_plan(world.therapist, world.patient)
    for fields in (
        {"technique_code": "reiki"},
        {"muscle": "biceps"},
        {"side": "middle"},
        {"pressure_level": 0},
    ):
        with pytest.raises(InvalidInputError):
            plan_technique(world.therapist, plan, **fields)


def test_another_patients_plan_is_not_found_for_a_patient_user(world):
    user = make_user()
    make_patient(world.clinic, user=user)
    plan = make_plan(world.therapist, world.patient)
    with pytest.raises(NotFoundError):
        services.end_plan(actor=user, plan_id=plan.pk)


def test_an_imported_plan_keeps_its_course_and_dates(world):
    admin = make_member(world.clinic, Role.CLINIC_ADMIN)
    started = timezone.now() - timedelta(days=90)
    ended = started + timedelta(days=60)
    plan = services.import_plan(
        actor=admin,
        patient_id=world.patient.pk,
        focus="Neck",
        session_minutes=30,
        every_weeks=2,
        sessions_planned=6,
        started_at=started,
        ended_at=ended,
    )
    assert (plan.status, plan.created_at, plan.ended_at) == (PlanStatus.ENDED, started, ended)
    with pytest.raises(InvalidInputError, match="end before it starts"):
        services.import_plan(
            actor=admin,
            patient_id=world.patient.pk,
            focus="",
            session_minutes=30,
            every_weeks=1,
            sessions_planned=6,
            started_at=ended,
            ended_at=started,
        )


def test_only_the_clinics_admins_import_a_plan(world):
    with pytest.raises(NotFoundError):
        services.import_plan(
            actor=world.therapist,
            patient_id=world.patient.pk,
            focus="",
            session_minutes=30,
            every_weeks=1,
            sessions_planned=6,
            started_at=timezone.now(),
        )
