"""Planning a course of massage: starting a plan (ending the last), its goals, techniques per
muscle and side within the screening's limits, and ending it.

A technique the screening or a clearance excludes is planned only with the therapist's
acknowledged reason, audited; a pressure above the cap and work in a region to avoid are
refused (`clinical.contraindications.check_work`, RULES.md §2).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backcare.accounts.models import Technique
from backcare.accounts.queries import ADMIN_ROLES, Viewer, acting_user, list_techniques
from backcare.clinical import body
from backcare.clinical.contraindications import Work, WorkProblem, check_work
from backcare.clinical.errors import ClinicalInputError
from backcare.core.audit import record_event
from backcare.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    full_clean_or_invalid,
)
from backcare.patients.models import Patient
from backcare.patients.queries import find_patient
from backcare.plans.models import (
    HomeCareAdvice,
    PlanGoal,
    PlanStatus,
    PlanTechnique,
    TreatmentPlan,
)
from backcare.plans.queries import PLAN_ROLES, active_plan_of
from backcare.triage.queries import hold_status, limits_from

MAX_GOALS = 5


@dataclass(frozen=True)
class GoalInput:
    activity: str
    target_score: int
    baseline_score: int | None = None


def start_plan(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    focus: str = "",
    session_minutes: int = 60,
    every_weeks: int = 1,
    sessions_planned: int = 10,
    reassess_at_sessions: Sequence[int] = (),
    pain_target: int | None = None,
    disability_target_points: int | None = None,
    home_care_codes: Sequence[str] = (),
    home_care_note: str = "",
    goals: Sequence[GoalInput] = (),
) -> TreatmentPlan:
    """Start the patient's plan; the active one, if any, ends. Therapists and clinic admins of
    the patient's clinic (`NotFoundError`, audited, for others). `InvalidInputError` for values
    out of range, re-assessment points outside the course, an unknown home care item or more
    than `MAX_GOALS` goals."""
    patient = _plannable(actor, patient_id, "plan.create")
    reassess = sorted(set(reassess_at_sessions))
    if any(not 1 <= n <= sessions_planned for n in reassess):
        raise InvalidInputError(
            "Re-assessment points must be sessions of the course.",
            field_errors={"reassess_at_sessions": f"Use numbers from 1 to {sessions_planned}."},
        )
    if len(goals) > MAX_GOALS:
        raise InvalidInputError(
            f"Give at most {MAX_GOALS} goals.", field_errors={"goals": "Too many."}
        )
    advice = list(HomeCareAdvice.objects.filter(code__in=home_care_codes, is_active=True))
    if len(advice) != len(set(home_care_codes)):
        raise InvalidInputError(
            "Choose home care advice from the list.", field_errors={"home_care": "Unknown item."}
        )
    plan = TreatmentPlan(
        clinic_id=patient.clinic_id,
        patient=patient,
        focus=focus.strip(),
        session_minutes=session_minutes,
        every_weeks=every_weeks,
        sessions_planned=sessions_planned,
        reassess_at_sessions=reassess,
        pain_target=pain_target,
        disability_target_points=disability_target_points,
        home_care_note=home_care_note.strip(),
        created_by=acting_user(actor),
    )
    full_clean_or_invalid(plan, exclude=["home_care"], validate_constraints=False)
    rows = [_goal(plan, g) for g in goals]
    with transaction.atomic():
        ended = _end_active(patient)
        plan.save()
        plan.home_care.set(advice)
        for goal in rows:
            goal.save()
        record_event(
            actor=actor,
            action="plan.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=plan,
            detail={"ended_plan": str(ended.pk) if ended else "", "goals": len(rows)},
        )
    return plan


def import_plan(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    focus: str,
    session_minutes: int,
    every_weeks: int,
    sessions_planned: int,
    started_at: datetime,
    ended_at: datetime | None = None,
) -> TreatmentPlan:
    """Write the plan of an imported record as it was: started at `started_at`, ended at
    `ended_at` when it has ended (clinic admins; `NotFoundError`, audited, for others). Its
    techniques, goals and home care stay with the source clinic, which does not send them.
    `InvalidInputError` for values out of range or an end before the start; `ConflictError`
    for an active plan when the patient has one already."""
    patient = find_patient(
        actor, patient_id, roles=ADMIN_ROLES, allow_self=False, action="plan.import"
    )
    if ended_at is not None and ended_at < started_at:
        raise InvalidInputError("A plan cannot end before it starts.")
    plan = TreatmentPlan(
        clinic_id=patient.clinic_id,
        patient=patient,
        status=PlanStatus.ENDED if ended_at else PlanStatus.ACTIVE,
        focus=focus.strip(),
        session_minutes=session_minutes,
        every_weeks=every_weeks,
        sessions_planned=sessions_planned,
        created_by=acting_user(actor),
        created_at=started_at,
        ended_at=ended_at,
    )
    full_clean_or_invalid(plan, exclude=["home_care"], validate_constraints=False)
    with transaction.atomic():
        if plan.status == PlanStatus.ACTIVE and active_plan_of(patient)[0] is not None:
            raise ConflictError("The patient has an active plan already.")
        plan.save()
        record_event(
            actor=actor,
            action="plan.import",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=plan,
        )
    return plan


def _plannable(actor: Viewer, patient_id: uuid.UUID, action: str) -> Patient:
    return find_patient(actor, patient_id, roles=PLAN_ROLES, allow_self=False, action=action)


def _goal(plan: TreatmentPlan, goal: GoalInput) -> PlanGoal:
    row = PlanGoal(
        clinic_id=plan.clinic_id,
        plan=plan,
        activity=goal.activity.strip(),
        baseline_score=goal.baseline_score,
        target_score=goal.target_score,
    )
    full_clean_or_invalid(row, exclude=["plan"])
    return row


def _end_active(patient: Patient) -> TreatmentPlan | None:
    active = (
        TreatmentPlan.objects.select_for_update()
        .filter(clinic_id=patient.clinic_id, patient=patient, status=PlanStatus.ACTIVE)
        .first()
    )
    if active is not None:
        active.status = PlanStatus.ENDED
        active.ended_at = timezone.now()
        active.save(update_fields=["status", "ended_at", "updated_at"])
    return active


def end_plan(*, actor: Viewer, plan_id: uuid.UUID) -> TreatmentPlan:
    """End an active plan (the course is over or stopped). `ConflictError` when it has ended."""
    plan = _plan_for(actor, plan_id, "plan.end")
    with transaction.atomic():
        current = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if current.status != PlanStatus.ACTIVE:
            raise ConflictError("This plan has already ended.")
        current.status = PlanStatus.ENDED
        current.ended_at = timezone.now()
        current.save(update_fields=["status", "ended_at", "updated_at"])
        record_event(
            actor=actor,
            action="plan.end",
            clinic_id=current.clinic_id,
            patient_id=current.patient_id,
            obj=current,
        )
        return current


def _plan_for(actor: Viewer, plan_id: uuid.UUID, action: str) -> TreatmentPlan:
    plan = TreatmentPlan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise NotFoundError("No such plan.")
    _plannable(actor, plan.patient_id, action)
    return plan


def add_plan_technique(
    *,
    actor: Viewer,
    plan_id: uuid.UUID,
    technique_code: str,
    muscle: str,
    side: str,
    pressure_level: int,
    minutes: int | None = None,
    acknowledged_reason: str = "",
) -> PlanTechnique:
    """Plan a technique on a muscle and side at a pressure level, within the patient's limits
    (latest screening and clearances in force). Returns the row.

    `InvalidInputError` with the rule's message for a pressure above the cap or a region to
    avoid (never allowed), for a technique the screening excludes when no reason is given (with
    a reason, it is planned and the acknowledgement audited), and for an unknown technique,
    muscle or side or a pressure outside 1-5. `ConflictError` for an ended plan.
    """
    plan = _plan_for(actor, plan_id, "plan.technique.add")
    if plan.status != PlanStatus.ACTIVE:
        raise ConflictError("This plan has ended; start a new plan to change the techniques.")
    technique = technique_by_code(technique_code)
    regions = work_regions(muscle, side)
    reason = acknowledged_reason.strip()
    limits = limits_from(hold_status(plan.patient))
    try:
        problems = check_work(Work(technique.code, regions, pressure_level), limits)
    except ClinicalInputError as error:
        raise InvalidInputError(
            error.message, field_errors={"pressure_level": error.message}
        ) from error
    refuse_unacknowledged(problems, reason, doing="plan it")
    row = PlanTechnique(
        clinic_id=plan.clinic_id,
        plan=plan,
        technique=technique,
        muscle=muscle,
        side=side,
        pressure_level=pressure_level,
        minutes=minutes,
        acknowledged_reason=reason if problems else "",
        acknowledged_by=acting_user(actor) if problems else None,
    )
    full_clean_or_invalid(row, exclude=["plan", "technique", "acknowledged_by"])
    with transaction.atomic():
        row.save()
        record_event(
            actor=actor,
            action="plan.technique.add",
            clinic_id=plan.clinic_id,
            patient_id=plan.patient_id,
            obj=row,
            detail={"technique": technique.code, "muscle": muscle, "side": side},
        )
        if problems:
            record_event(
                actor=actor,
                action="plan.precaution.acknowledge",
                clinic_id=plan.clinic_id,
                patient_id=plan.patient_id,
                obj=row,
                detail={"technique": technique.code, "kinds": [p.kind for p in problems]},
            )
    return row


def technique_by_code(code: str) -> Technique:
    """The active technique `code`; `InvalidInputError` naming the field for any other."""
    found = list_techniques().filter(code=code).first()
    if found is None:
        raise InvalidInputError(
            "Choose a technique from the list.", field_errors={"technique": "Unknown technique."}
        )
    return found


def work_regions(muscle: str, side: str) -> frozenset[str]:
    """The body regions that work on `muscle` and `side` touches (`clinical.body`);
    `InvalidInputError` for an unknown muscle or side."""
    try:
        return body.regions_of(muscle, side)
    except ValueError as error:
        raise InvalidInputError(
            "Choose a muscle and a side from the lists.", field_errors={"muscle": str(error)}
        ) from error


def refuse_unacknowledged(problems: Sequence[WorkProblem], reason: str, *, doing: str) -> None:
    """Raise `InvalidInputError` for work the limits forbid (a pressure cap, a region to avoid)
    or for a precaution without the therapist's reason; `doing` ends the message ("plan it",
    "record it")."""
    hard = [p for p in problems if not p.acknowledgeable]
    if hard:
        field = "pressure_level" if hard[0].kind == "pressure_cap" else "muscle"
        raise InvalidInputError(
            " ".join(p.message for p in hard), field_errors={field: hard[0].message}
        )
    if problems and not reason:
        message = f"{problems[0].message} To {doing} anyway, give your reason for the precaution."
        raise InvalidInputError(message, field_errors={"acknowledged_reason": "Give a reason."})


def remove_plan_technique(*, actor: Viewer, technique_id: uuid.UUID) -> PlanTechnique:
    """Take a technique off an active plan (kept, marked removed, for the record)."""
    row = PlanTechnique.objects.filter(pk=technique_id, removed_at=None).first()
    if row is None:
        raise NotFoundError("No such planned technique.")
    plan = _plan_for(actor, row.plan_id, "plan.technique.remove")
    if plan.status != PlanStatus.ACTIVE:
        raise ConflictError("This plan has ended.")
    with transaction.atomic():
        row.removed_at = timezone.now()
        row.save(update_fields=["removed_at", "updated_at"])
        record_event(
            actor=actor,
            action="plan.technique.remove",
            clinic_id=row.clinic_id,
            patient_id=plan.patient_id,
            obj=row,
        )
    return row
