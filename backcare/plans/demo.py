"""Demo plans: Maria (the portal patient) on a weekly course of ten 60-minute sessions with
techniques her therapist offers, goals and home care, so the plan and booking pages show a
real plan; a patient whose course ended nine weeks ago, with pain at its start and end and
two monthly follow-ups answered, so progress shows how long relief has lasted; and the past
courses of `outcomes.demo.ANALYTICS_COURSES` for the clinic analytics."""

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.accounts.queries import list_techniques
from backcare.core.demo import State, demo_id
from backcare.outcomes import services as outcomes
from backcare.outcomes.demo import ANALYTICS_COURSES
from backcare.patients.models import Patient
from backcare.plans import services
from backcare.plans.models import PlanStatus, PlanTechnique, TreatmentPlan
from backcare.plans.queries import techniques_needed

TECHNIQUES = [
    ("swedish", "erector_spinae", "both", 3),
    ("myofascial_release", "thoracolumbar_fascia", "both", 3),
    ("myofascial_release", "quadratus_lumborum", "right", 2),
]


def build(state: State) -> None:
    _analytics_plans(state)
    _maria_plan(state)
    build_ended_course(state)


def _maria_plan(state: State) -> None:
    therapist = state["users"]["therapist"]
    maria: Patient = state["patients"][0]
    if techniques_needed(maria.pk):
        return
    plan = services.start_plan(
        actor=therapist,
        patient_id=maria.pk,
        focus="Ease lower back stiffness after long days at the desk; return to gardening.",
        sessions_planned=10,
        reassess_at_sessions=[5, 10],
        pain_target=2,
        disability_target_points=4,
        home_care_codes=["heat", "posture_breaks", "knee_to_chest"],
        goals=[
            services.GoalInput("Garden for an hour", target_score=8, baseline_score=3),
            services.GoalInput("Sit through a film", target_score=9, baseline_score=5),
        ],
    )
    for technique, muscle, side, pressure in TECHNIQUES:
        services.add_plan_technique(
            actor=therapist,
            plan_id=plan.pk,
            technique_code=technique,
            muscle=muscle,
            side=side,
            pressure_level=pressure,
        )


def build_ended_course(state: State) -> None:
    """Patient 5: a course of 8 weekly sessions ended 9 weeks ago; pain 7 at the start, 3 at
    the end, 3 and 4 at the monthly follow-ups (no flare-up)."""
    therapist = state["users"]["therapist"]
    patient: Patient = state["patients"][4]
    if TreatmentPlan.objects.filter(patient=patient).exists():
        return
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    started, ended = now - timedelta(weeks=17), now - timedelta(weeks=9)
    plan = services.start_plan(
        actor=therapist,
        patient_id=patient.pk,
        focus="Settle a lumbar strain from lifting; back to full shifts.",
        sessions_planned=8,
    )
    services.end_plan(actor=therapist, plan_id=plan.pk)
    TreatmentPlan.objects.filter(pk=plan.pk).update(created_at=started, ended_at=ended)
    for value, moment in ((7, started), (3, ended - timedelta(days=1))):
        outcomes.record_measurement(
            actor=therapist,
            patient_id=patient.pk,
            instrument="pain_nrs",
            answers={"now": value},
            measured_at=moment,
            method="paper",
        )
    for number, pain in ((1, 3), (2, 4)):
        _answered_follow_up(patient, plan.pk, number, ended + timedelta(days=30 * number), pain)


def _answered_follow_up(
    patient: Patient, plan_id: uuid.UUID, number: int, due_at: datetime, pain: int
) -> None:
    check_in = outcomes.create_follow_up(
        patient=patient, plan_ref=plan_id, number=number, due_at=due_at
    )
    if check_in is None:
        return
    outcomes.answer_check_in(
        token=outcomes.check_in_token(check_in),
        pain_now=pain,
        global_change=2,
        flare_up=False,
        now=due_at + timedelta(hours=3),
    )


def _analytics_plans(state: State) -> None:
    """The past courses' plans, written straight to the database (backdated, some ended)."""
    clinic: Clinic = state["clinic"]
    techniques = {t.code: t for t in list_techniques()}
    plans = {}
    for course in ANALYTICS_COURSES:
        ended_at = (
            course.session_at(clinic, course.attended - 1) + timedelta(days=1)
            if course.ended
            else None
        )
        plan, _ = TreatmentPlan.objects.update_or_create(
            id=demo_id(f"analytics-plan-{course.patient}"),
            defaults={
                "clinic": clinic,
                "patient": state["patients"][course.patient],
                "focus": "Ease lower back pain and stiffness.",
                "sessions_planned": course.planned,
                "reassess_at_sessions": [course.planned],
                "created_by": state["users"][course.therapist],
                "created_at": course.starts_at(clinic),
                "status": PlanStatus.ENDED if course.ended else PlanStatus.ACTIVE,
                "ended_at": ended_at,
            },
        )
        PlanTechnique.objects.update_or_create(
            id=demo_id(f"analytics-plan-technique-{course.patient}"),
            defaults={
                "clinic": clinic,
                "plan": plan,
                "technique": techniques[course.technique],
                "muscle": "erector_spinae",
                "side": "both",
                "pressure_level": 3,
            },
        )
        plans[course.patient] = plan
    state["analytics_plans"] = plans
