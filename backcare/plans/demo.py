"""Demo plan: Maria (the portal patient) on a weekly course of ten 60-minute sessions with
techniques her therapist offers, goals and home care, so the plan and booking pages show a
real plan; and the past courses of `outcomes.demo.ANALYTICS_COURSES` for the clinic analytics."""

from datetime import timedelta

from backcare.accounts.models import Clinic
from backcare.accounts.queries import list_techniques
from backcare.core.demo import State, demo_id
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
