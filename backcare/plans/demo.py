"""Demo plan: Maria (the portal patient) on a weekly course of ten 60-minute sessions with
techniques her therapist offers, goals and home care, so the plan and booking pages show a
real plan."""

from backcare.core.demo import State
from backcare.patients.models import Patient
from backcare.plans import services
from backcare.plans.queries import techniques_needed

TECHNIQUES = [
    ("swedish", "erector_spinae", "both", 3),
    ("myofascial_release", "thoracolumbar_fascia", "both", 3),
    ("myofascial_release", "quadratus_lumborum", "right", 2),
]


def build(state: State) -> None:
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
