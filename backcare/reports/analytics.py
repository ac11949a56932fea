"""Clinic analytics for admins (issue 7, decision 0017): the courses started in a period, read
with a fixed number of queries through each app's `queries.py`, turned into `cohort.Course`
rows and summarised by `cohort.summarise` (which takes every responder judgement from
`clinical.change`)."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, require_roles
from backcare.clinical import change
from backcare.clinical.numbers import half_up
from backcare.core.audit import record_event
from backcare.intake.models import Intake
from backcare.intake.queries import list_sent_intakes_of
from backcare.intake.questions import episode_phase
from backcare.outcomes.models import Soreness
from backcare.outcomes.queries import (
    list_check_ins_for_visits,
    list_measurements_for_analytics,
    outcome_settings,
)
from backcare.plans.models import TreatmentPlan
from backcare.plans.queries import list_courses_started
from backcare.reports import cohort
from backcare.visits.queries import PlanSession, list_signed_notes_of_plans

DEFAULT_PERIOD_DAYS = 365


@dataclass(frozen=True)
class AnalyticsPage:
    clinic: Clinic
    start: date
    end: date
    today: date
    summary: cohort.Summary
    headers: tuple[str, ...]

    @property
    def overall_rows(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(self.summary.overall.label, cohort.cells(self.summary.overall))]

    @property
    def tables(self) -> list[tuple[cohort.Breakdown, list[tuple[str, tuple[str, ...]]]]]:
        """Each breakdown with its rows as (label, cells in words)."""
        return [
            (b, [(row.label, cohort.cells(row)) for row in b.rows]) for b in self.summary.breakdowns
        ]


def column_headers(thresholds: Mapping[str, change.Thresholds]) -> tuple[str, ...]:
    """The figures' column headings (after the group's), with the clinic's thresholds."""

    def points(code: str) -> str:
        found = thresholds[code].abs_points
        return "-" if found is None else str(half_up(found, 1)).removesuffix(".0")

    def percent(code: str) -> str:
        return str(thresholds[code].pct)

    return (
        "Courses",
        "Completed (of courses ended)",
        "Stopped early (of courses ended)",
        "Under way",
        "Pain: courses counted",
        f"Pain: improved at least {points('pain_nrs')} points",
        f"Pain: improved at least {percent('pain_nrs')} %",
        "Disability: courses counted",
        f"Disability: improved at least {points('rmdq')} RMDQ / {points('odi')} ODI points",
        f"Disability: improved at least {percent('rmdq')} % (RMDQ) / {percent('odi')} % (ODI)",
        "Sessions with an adverse event",
        "Days a week with pain medicine: mean change",
    )


def default_period(clinic: Clinic) -> tuple[date, date]:
    """The last 12 months up to today, in the clinic's calendar."""
    today = clinic.local_date()
    return today - timedelta(days=DEFAULT_PERIOD_DAYS), today


def clinic_analytics(
    viewer: Viewer, clinic: Clinic | None, *, start: date, end: date
) -> AnalyticsPage:
    """The analytics of the courses (treatment plans) the clinic started from `start` to `end`
    (inclusive, the clinic's calendar), for its admins; `NotFoundError` (audited) for anyone
    else. Eight reads (narrow rows, not model objects, for notes, check-ins and measurements)
    whatever the number of patients, then one `analytics.view` event with the
    period and counts only."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")
    zone = clinic.zone
    today = clinic.local_date()
    starts_at, ends_at = period_window(clinic, start, end)
    plans = list_courses_started(viewer, clinic, starts_at=starts_at, ends_at=ends_at)
    patient_ids = {p.patient_id for p in plans}
    sessions = list_signed_notes_of_plans(viewer, clinic, [p.pk for p in plans])
    check_ins = list_check_ins_for_visits(viewer, clinic, [s.appointment_id for s in sessions])
    measurements = list_measurements_for_analytics(
        viewer,
        clinic,
        patient_ids,
        instruments=cohort.INSTRUMENTS,
        since=starts_at - timedelta(days=cohort.BASELINE_BEFORE_DAYS + 1),
    )
    intakes = list_sent_intakes_of(viewer, clinic, patient_ids)
    _, thresholds = outcome_settings(clinic.pk)

    readings: dict[Any, dict[str, list[cohort.Reading]]] = {}
    for m in measurements:
        reading = cohort.Reading(
            m.measured_at.astimezone(zone).date(), exact(m.score_exact), m.band
        )
        readings.setdefault(m.patient_id, {}).setdefault(m.instrument, []).append(reading)
    sessions_by_plan: dict[Any, list[PlanSession]] = {}
    for session in sessions:
        sessions_by_plan.setdefault(session.plan_id, []).append(session)
    intakes_by_patient: dict[Any, list[Intake]] = {}
    for intake in intakes:
        intakes_by_patient.setdefault(intake.patient_id, []).append(intake)

    courses = [
        _course(
            plan,
            sessions_by_plan.get(plan.pk, []),
            check_ins,
            intakes_by_patient.get(plan.patient_id, []),
            readings.get(plan.patient_id, {}),
            clinic,
        )
        for plan in plans
    ]
    summary = cohort.summarise(courses, today=today, thresholds=thresholds)
    record_event(
        actor=viewer,
        action="analytics.view",
        clinic_id=clinic.pk,
        detail={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "courses": len(courses),
            "patients": len(patient_ids),
        },
    )
    return AnalyticsPage(
        clinic=clinic,
        start=start,
        end=end,
        today=today,
        summary=summary,
        headers=column_headers(thresholds),
    )


def period_window(clinic: Clinic, start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the start of the day after `end`, in the clinic's zone."""
    zone = clinic.zone
    return (
        datetime.combine(start, time(), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=zone),
    )


def analytics_clinic(viewer: Viewer, clinic: Clinic | None) -> Clinic:
    """The clinic whose analytics the viewer may see (its admins); `NotFoundError` (audited)
    for anyone else."""
    return require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")


def _course(
    plan: TreatmentPlan,
    sessions: list[PlanSession],
    check_ins: Mapping[Any, tuple[str, str]],
    intakes: list[Intake],
    readings: dict[str, list[cohort.Reading]],
    clinic: Clinic,
) -> cohort.Course:
    zone = clinic.zone
    started_on = plan.created_at.astimezone(zone).date()
    attended = tuple(
        cohort.Session(
            s.starts_at.astimezone(zone).date(),
            adverse_event=adverse_reported(s.adverse_events, check_ins.get(s.appointment_id)),
        )
        for s in sessions
    )
    intake = _intake_for(intakes, plan.created_at)
    answers: dict[str, Any] = intake.answers if intake and isinstance(intake.answers, dict) else {}
    cause = answers.get("cause")
    return cohort.Course(
        key=str(plan.pk),
        started_on=started_on,
        sessions_planned=plan.sessions_planned,
        ended_on=plan.ended_at.astimezone(zone).date() if plan.ended_at else None,
        sessions=attended,
        techniques=tuple(
            dict.fromkeys(t.technique.name for t in getattr(plan, "live_techniques", []))
        ),
        therapist=_main_therapist(sessions),
        cause=str(cause) if cause else None,
        phase=_phase(answers.get("pain_started_on"), started_on),
        readings=readings,
    )


def adverse_reported(events: Any, check_in: tuple[str, str] | None) -> bool:
    """A session counts as having an adverse event when its signed note (amendments applied)
    lists any, or the patient's check-in after it, given as (soreness, other effects), reports
    severe soreness or other effects."""
    if events:
        return True
    if check_in is None:
        return False
    soreness, other_effects = check_in
    return soreness == Soreness.SEVERE or bool(other_effects.strip())


def _main_therapist(sessions: Iterable[PlanSession]) -> str | None:
    """Who gave most of the sessions (oldest first, so a tie goes to who treated first)."""
    counts = Counter(s.therapist for s in sessions)
    return counts.most_common(1)[0][0] if counts else None


def _intake_for(intakes: list[Intake], started_at: datetime) -> Intake | None:
    """The latest intake sent on or before the course start, else the first sent after."""
    before = [i for i in intakes if i.submitted_at and i.submitted_at <= started_at]
    if before:
        return before[-1]
    return intakes[0] if intakes else None


@lru_cache(maxsize=4096)
def exact(score: str) -> Fraction:
    """A stored exact score as a fraction; scores repeat, so each text is parsed once."""
    return Fraction(score)


def _phase(started: object, course_start: date) -> str | None:
    if not isinstance(started, str):
        return None
    try:
        return episode_phase(date.fromisoformat(started), course_start)
    except ValueError:
        return None
