"""Reads of treatment plans, scoped to the viewer; and, for scheduling, the techniques a
patient's active plan needs."""

import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from backcare.accounts.models import Clinic, Role, Technique
from backcare.accounts.queries import (
    ADMIN_ROLES,
    Viewer,
    list_techniques,
    require_roles,
    require_roles_in_all,
)
from backcare.clinical.body import CLINICAL_REGIONS
from backcare.clinical.contraindications import TreatmentLimits
from backcare.core.audit import record_event
from backcare.core.export import ExportTable, table_of
from backcare.core.paging import page_after
from backcare.patients.models import Patient, PatientPreferences
from backcare.patients.queries import find_patient, preferences_of
from backcare.plans.models import HomeCareAdvice, PlanGoal, PlanStatus, PlanTechnique, TreatmentPlan
from backcare.triage.queries import HoldStatus, hold_status, limits_from

# Who plans: therapists and clinic admins of the patient's clinic. The front desk and the
# patient read the plan; changing it is clinical work.
PLAN_ROLES = frozenset({Role.THERAPIST, Role.CLINIC_ADMIN})
READ_ROLES = PLAN_ROLES | {Role.FRONT_DESK}


@dataclass(frozen=True)
class PlanPage:
    """What planning shows: the active plan (None before the first), its live techniques and
    goals, the limits of the screening and clearances, the hold, and the patient's
    preferences."""

    patient: Patient
    plan: TreatmentPlan | None
    techniques: list[PlanTechnique]
    hold: HoldStatus
    limits: TreatmentLimits
    preferences: PatientPreferences | None
    offered: list[Technique]
    home_care: list[HomeCareAdvice]

    @property
    def avoid_region_labels(self) -> list[str]:
        return [_REGION_LABELS.get(c, c) for c in sorted(self.limits.avoid_regions)]

    @property
    def regional_caps(self) -> list[tuple[str, int]]:
        caps = self.limits.regional_pressure_caps.items()
        return [(_REGION_LABELS.get(region, region), level) for region, level in sorted(caps)]

    @property
    def excluded_names(self) -> list[str]:
        names = {t.code: t.name for t in self.offered}
        return [names.get(c, c.replace("_", " ")) for c in sorted(self.limits.excluded_techniques)]


_REGION_LABELS = {region.code: region.label for region in CLINICAL_REGIONS}


def get_plan_page(viewer: Viewer, patient_id: uuid.UUID) -> PlanPage:
    """The patient's active plan with its limits and preferences, for the patient's clinic
    staff; one `plan.view` event. `NotFoundError` (audited) for anyone else."""
    patient = find_patient(
        viewer, patient_id, roles=READ_ROLES, allow_self=False, action="plan.view"
    )
    plan = (
        TreatmentPlan.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, status=PlanStatus.ACTIVE
        )
        .prefetch_related("goals", "home_care")
        .first()
    )
    techniques = (
        list(
            PlanTechnique.objects.filter(clinic_id=patient.clinic_id, plan=plan, removed_at=None)
            .select_related("technique", "acknowledged_by")
            .order_by("created_at")
        )
        if plan
        else []
    )
    hold = hold_status(patient)
    record_event(
        actor=viewer,
        action="plan.view",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        obj=plan,
    )
    return PlanPage(
        patient=patient,
        plan=plan,
        techniques=techniques,
        hold=hold,
        limits=limits_from(hold),
        preferences=preferences_of(patient),
        offered=list(list_techniques()),
        home_care=list(HomeCareAdvice.objects.filter(is_active=True)),
    )


def techniques_needed(patient_id: uuid.UUID) -> frozenset[str]:
    """Codes of the techniques the patient's active plan needs (none without a plan). Not
    audited: for the booking service, which checked the actor."""
    return frozenset(
        PlanTechnique.objects.filter(
            plan__patient_id=patient_id, plan__status=PlanStatus.ACTIVE, removed_at=None
        ).values_list("technique__code", flat=True)
    )


def active_plan_of(patient: Patient) -> tuple[TreatmentPlan | None, list[PlanTechnique]]:
    """The patient's active plan (None before the first) with its home care advice, and its
    live techniques with their technique and acknowledger. Two queries, three with a plan. Not
    audited: for the visits app, whose queries and services checked the viewer."""
    plan = (
        TreatmentPlan.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, status=PlanStatus.ACTIVE
        )
        .prefetch_related("home_care")
        .first()
    )
    if plan is None:
        return None, []
    techniques = list(
        PlanTechnique.objects.filter(clinic_id=patient.clinic_id, plan=plan, removed_at=None)
        .select_related("technique", "acknowledged_by")
        .order_by("created_at")
    )
    return plan, techniques


@dataclass(frozen=True)
class CourseSchedule:
    """What the questionnaire schedule needs of the active plan."""

    sessions_planned: int
    reassess_at_sessions: tuple[int, ...]
    activities: tuple[str, ...]


def course_schedule_of(patient: Patient) -> CourseSchedule | None:
    """The active plan's course length, re-assessment points and goal activities (PSFS), or
    None without a plan. Two queries. Not audited: for reads that checked the viewer."""
    plan = (
        TreatmentPlan.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, status=PlanStatus.ACTIVE
        )
        .prefetch_related("goals")
        .first()
    )
    if plan is None:
        return None
    return CourseSchedule(
        sessions_planned=plan.sessions_planned,
        reassess_at_sessions=tuple(plan.reassess_at_sessions),
        activities=tuple(goal.activity for goal in plan.goals.all()),
    )


def courses_in_follow_up(ended_since: datetime) -> Iterator[TreatmentPlan]:
    """Plans that ended at or after `ended_since`, with their patient and clinic, leaving out
    patients who have started another course (it has its own measures). For the follow-up job
    (a system read, not audited)."""
    newer = TreatmentPlan.objects.filter(patient=OuterRef("patient"), status=PlanStatus.ACTIVE)
    return (
        TreatmentPlan.objects.filter(status=PlanStatus.ENDED, ended_at__gte=ended_since)
        .filter(~Exists(newer))
        .select_related("patient", "clinic")
        .order_by("ended_at", "pk")
        .iterator(chunk_size=500)
    )


def course_of(patient: Patient) -> TreatmentPlan | None:
    """The patient's course: the active plan, else the most recently ended one, else None. One
    query. Not audited: for reads that checked the viewer."""
    return (
        TreatmentPlan.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .order_by(F("ended_at").desc(nulls_first=True), "-created_at")
        .first()
    )


# --- Clinic analytics (reports.analytics) --------------------------------------------------------


def list_courses_started(
    viewer: Viewer, clinic: Clinic | None, *, starts_at: datetime, ends_at: datetime
) -> list[TreatmentPlan]:
    """The clinic's plans created in [starts_at, ends_at), oldest first, each with its
    techniques not removed (`plan.live_techniques`, technique loaded), for its admins; two
    queries. `NotFoundError` (audited) for anyone else. Not audited itself: the analytics page
    records one event for the whole page."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")
    live = Prefetch(
        "techniques",
        queryset=PlanTechnique.objects.filter(clinic=clinic, removed_at=None).select_related(
            "technique"
        ),
        to_attr="live_techniques",
    )
    return list(
        TreatmentPlan.objects.filter(
            clinic=clinic, created_at__gte=starts_at, created_at__lt=ends_at
        )
        .order_by("created_at", "id")
        .prefetch_related(live)
    )


# A period per clinic: plans created from the first instant to before the second.
Windows = Mapping[uuid.UUID, tuple[datetime, datetime]]


def courses_started_q(windows: Windows, *, prefix: str = "") -> Q:
    """The condition "a plan created in its clinic's window", on plans reached through
    `prefix` (e.g. "visit__plan__"); an empty mapping matches nothing."""
    found = Q(pk__in=[])
    for clinic_id, (starts_at, ends_at) in windows.items():
        found |= Q(
            **{
                f"{prefix}clinic_id": clinic_id,
                f"{prefix}created_at__gte": starts_at,
                f"{prefix}created_at__lt": ends_at,
            }
        )
    return found


class CourseRow(NamedTuple):
    """What the group analytics reads of one plan."""

    id: uuid.UUID
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    created_at: datetime
    ended_at: datetime | None
    sessions_planned: int


def list_group_courses(
    viewer: Viewer, clinics: Collection[Clinic], windows: Windows
) -> list[CourseRow]:
    """The plans each clinic created in its window, oldest first, for a viewer who administers
    every one of the clinics; one query. `NotFoundError` (audited) otherwise. Not audited
    itself: the group analytics page records one event."""
    ids = require_roles_in_all(viewer, clinics, ADMIN_ROLES, action="analytics.group_view")
    rows = (
        TreatmentPlan.objects.filter(clinic_id__in=ids)
        .filter(courses_started_q(windows))
        .order_by("created_at", "id")
        .values_list("id", "clinic_id", "patient_id", "created_at", "ended_at", "sessions_planned")
    )
    return list(map(CourseRow._make, rows))


def count_group_courses(viewer: Viewer, clinics: Collection[Clinic], windows: Windows) -> int:
    """How many plans the clinics created in their windows (`list_group_courses`' rows), in one
    COUNT; same check. Not audited: it reads no patient's data."""
    ids = require_roles_in_all(viewer, clinics, ADMIN_ROLES, action="analytics.group_view")
    return (
        TreatmentPlan.objects.filter(clinic_id__in=ids).filter(courses_started_q(windows)).count()
    )


def group_course_patients(windows: Windows) -> QuerySet[TreatmentPlan, Any]:
    """The patient ids of the plans in `windows`, as a subquery for other apps' reads (the
    caller checked the viewer with `list_group_courses`)."""
    return (
        TreatmentPlan.objects.filter(clinic_id__in=list(windows))
        .filter(courses_started_q(windows))
        .values("patient_id")
    )


def plans_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[TreatmentPlan]:
    """One page of the clinic's treatment plans for a clinic-wide export (not audited: the
    export's kick-off checked and audited the clinic admin)."""
    return page_after(TreatmentPlan.objects.filter(clinic=clinic), after, limit)


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every plans table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(TreatmentPlan.objects.filter(clinic=clinic)),
        table_of(PlanGoal.objects.filter(clinic=clinic)),
        table_of(PlanTechnique.objects.filter(clinic=clinic)),
    ]
