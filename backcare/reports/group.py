"""Whole-group outcomes analytics (issue 10): for a person who administers several clinics,
each clinic's "All courses" row of the clinic analytics (`analytics.clinic_analytics`) and the
group's total, for one period.

Seven reads whatever the number of clinics or courses: each is one set-based query over every
clinic of the group (filtered by clinic first, so the `clinic_id`-led indexes serve it) that
returns narrow rows, not model objects; the figures are then worked out by the same rules as
the clinic page (`cohort.judge` with each clinic's thresholds, `cohort.row_of`)."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from backcare.accounts.models import Clinic
from backcare.accounts.queries import Viewer, group_clinics, require_group_admin
from backcare.clinical import change
from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError
from backcare.outcomes.queries import (
    GroupReading,
    group_check_ins,
    list_group_readings,
    outcome_settings_of,
)
from backcare.plans.queries import (
    CourseRow,
    count_group_courses,
    group_course_patients,
    list_group_courses,
)
from backcare.reports import cohort
from backcare.reports.analytics import (
    adverse_reported,
    column_headers,
    default_period,
    exact,
    period_window,
)
from backcare.visits.queries import (
    GroupSession,
    group_session_appointments,
    list_group_sessions,
)

ACTION = "analytics.group_view"
TOTAL_LABEL = "Whole group"
# The overall row needs no STarT Back reading (that is a breakdown of the clinic page).
ROW_INSTRUMENTS = (cohort.PAIN, *cohort.DISABILITY, cohort.ANALGESIC)


@dataclass(frozen=True)
class GroupPage:
    """One row per clinic (in `clinics`' order) and the group's total, suppressed for display
    (`rows`); `clinic_rows` and `total` hold the figures before suppression."""

    clinics: tuple[Clinic, ...]
    start: date
    end: date
    clinic_rows: tuple[cohort.Row, ...]
    total: cohort.Row
    headers: tuple[str, ...]

    @property
    def rows(self) -> list[tuple[str, tuple[str, ...]]]:
        shown = [*cohort.suppress_complements(self.clinic_rows), cohort.suppress(self.total)]
        return [(row.label, cohort.cells(row)) for row in shown]


def administers_group(viewer: Viewer) -> bool:
    """True when the viewer administers two clinics or more (no query once memberships are
    loaded): the clinic analytics page then links to the group's."""
    return len(group_clinics(viewer)) > 1


def group_period(viewer: Viewer) -> tuple[date, date]:
    """The default period: the last 12 months up to today in the first clinic's calendar.
    `NotFoundError` (audited) for anyone who is not a group admin."""
    return default_period(require_group_admin(viewer, action=ACTION)[0])


def group_analytics(viewer: Viewer, *, start: date, end: date) -> GroupPage:
    """The outcome figures of the courses each of the viewer's clinics started from `start` to
    `end` (inclusive, each clinic's calendar), per clinic and for the whole group, for a person
    who administers two clinics or more; `NotFoundError` (audited) for anyone else. Seven
    reads, then one `analytics.group_view` event with the period and counts only.

    `InvalidInputError` when the period holds more than `BACKCARE_GROUP_ANALYTICS_MAX_COURSES`
    courses: working them out on request would hold a server worker for longer than a request
    may last (docs/performance.md, "Whole-group analytics")."""
    clinics = require_group_admin(viewer, action=ACTION)
    windows = {c.pk: period_window(c, start, end) for c in clinics}
    courses = count_group_courses(viewer, clinics, windows)
    if courses > settings.BACKCARE_GROUP_ANALYTICS_MAX_COURSES:
        raise InvalidInputError(
            f"Your clinics started {courses:,} courses in this period; the group view works out "
            f"at most {settings.BACKCARE_GROUP_ANALYTICS_MAX_COURSES:,} at a time. Choose a "
            "shorter period, or open each clinic's own analytics."
        )
    plans = list_group_courses(viewer, clinics, windows)
    sessions = list_group_sessions(viewer, clinics, windows)
    check_ins = group_check_ins(viewer, clinics, group_session_appointments(windows))
    since = {
        pk: w[0] - timedelta(days=cohort.BASELINE_BEFORE_DAYS + 1) for pk, w in windows.items()
    }
    readings = list_group_readings(
        viewer, clinics, group_course_patients(windows), instruments=ROW_INSTRUMENTS, since=since
    )
    thresholds = outcome_settings_of([c.pk for c in clinics])
    results = _judged(clinics, plans, sessions, check_ins, readings, thresholds)
    clinic_rows = tuple(cohort.row_of(c.name, results[c.pk]) for c in clinics)
    total = cohort.row_of(TOTAL_LABEL, [r for c in clinics for r in results[c.pk]])
    record_event(
        actor=viewer,
        action=ACTION,
        detail={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "clinics": [str(c.pk) for c in clinics],
            "courses": total.courses,
            "patients": len({p.patient_id for p in plans}),
        },
    )
    return GroupPage(
        clinics=tuple(clinics),
        start=start,
        end=end,
        clinic_rows=clinic_rows,
        total=total,
        headers=_headers([thresholds[c.pk] for c in clinics]),
    )


def _judged(
    clinics: Sequence[Clinic],
    plans: Sequence[CourseRow],
    sessions: Sequence[GroupSession],
    check_ins: Mapping[uuid.UUID, tuple[str, str]],
    readings: Sequence[GroupReading],
    thresholds: Mapping[uuid.UUID, Mapping[str, change.Thresholds]],
) -> dict[uuid.UUID, list[cohort.CourseResult]]:
    """Every course judged by its own clinic's rules, by clinic."""
    by_id = {c.pk: c for c in clinics}
    zone_of_plan = {p.id: by_id[p.clinic_id].zone for p in plans}
    zone_of_patient = {p.patient_id: by_id[p.clinic_id].zone for p in plans}
    sessions_of: dict[uuid.UUID, list[cohort.Session]] = {}
    for s in sessions:
        adverse = adverse_reported(s.adverse_events, check_ins.get(s.appointment_id))
        day = s.starts_at.astimezone(zone_of_plan[s.plan_id]).date()
        sessions_of.setdefault(s.plan_id, []).append(cohort.Session(day, adverse_event=adverse))
    readings_of: dict[uuid.UUID, dict[str, list[cohort.Reading]]] = {}
    for m in readings:
        day = m.measured_at.astimezone(zone_of_patient[m.patient_id]).date()
        reading = cohort.Reading(day, exact(m.score_exact), m.band)
        readings_of.setdefault(m.patient_id, {}).setdefault(m.instrument, []).append(reading)
    results: dict[uuid.UUID, list[cohort.CourseResult]] = {c.pk: [] for c in clinics}
    today = {c.pk: c.local_date() for c in clinics}
    for plan in plans:
        zone = zone_of_plan[plan.id]
        course = cohort.Course(
            key=str(plan.id),
            started_on=plan.created_at.astimezone(zone).date(),
            sessions_planned=plan.sessions_planned,
            ended_on=plan.ended_at.astimezone(zone).date() if plan.ended_at else None,
            sessions=tuple(sessions_of.get(plan.id, ())),
            readings=readings_of.get(plan.patient_id, {}),
        )
        judged = cohort.judge(
            course, today=today[plan.clinic_id], thresholds=thresholds[plan.clinic_id]
        )
        results[plan.clinic_id].append(judged)
    return results


def _headers(thresholds: Sequence[Mapping[str, change.Thresholds]]) -> tuple[str, ...]:
    """The clinic page's headings when every clinic uses the same thresholds; else headings
    that say each clinic's own thresholds apply."""
    found = {column_headers(t) for t in thresholds}
    if len(found) == 1:
        return found.pop()
    return (
        *column_headers(thresholds[0])[:5],
        "Pain: improved by the clinic's points threshold",
        "Pain: improved by the clinic's percent threshold",
        "Disability: courses counted",
        "Disability: improved by the clinic's points threshold",
        "Disability: improved by the clinic's percent threshold",
        *column_headers(thresholds[0])[10:],
    )
