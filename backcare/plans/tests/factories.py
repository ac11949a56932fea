"""Typed helpers for plan tests."""

from typing import Any

from backcare.accounts.models import User
from backcare.patients.models import Patient
from backcare.plans import services
from backcare.plans.models import PlanTechnique, TreatmentPlan


def make_plan(actor: User, patient: Patient, **fields: Any) -> TreatmentPlan:
    return services.start_plan(actor=actor, patient_id=patient.pk, **fields)


def plan_technique(actor: User, plan: TreatmentPlan, **fields: Any) -> PlanTechnique:
    values: dict[str, Any] = {
        "technique_code": "swedish",
        "muscle": "erector_spinae",
        "side": "both",
        "pressure_level": 3,
    } | fields
    return services.add_plan_technique(actor=actor, plan_id=plan.pk, **values)
