"""Clinic analytics, pure: courses in, tables of figures out (decision 0017). No Django.

A course is one treatment plan. Each course is classed as completed (every planned session
attended), stopped early (ended, or no session for `STOPPED_AFTER_DAYS`, before the planned
sessions were attended) or under way. Completed and stopped-early courses are "ended" and counted
in the outcome figures; a stopped-early course keeps its last observation (LOCF), and a course
with a baseline but no follow-up carries the baseline forward, so it counts as not reaching an
important change. Under-way courses are counted, shown, and left out of outcome figures until
they end. Whether a change is important is always the clinical core's judgement
(`clinical.change.change`), never worked out here.

Every figure keeps its n; a group of fewer than `SMALL_CELL` (or a figure over fewer than that)
is suppressed, and so is the next-smallest figure of the same column when it alone would give
the suppressed one away (complementary suppression).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from backcare.clinical import change as change_rules
from backcare.clinical.numbers import half_up

SMALL_CELL = 5
STOPPED_AFTER_DAYS = 28  # an active course with no session for 4 weeks has stopped early
BASELINE_BEFORE_DAYS = 42  # a baseline up to 6 weeks before the course starts...
BASELINE_AFTER_DAYS = 7  # ...or, failing that, in its first week
PAIN = "pain_nrs"
DISABILITY = ("rmdq", "odi")  # RMDQ where the course has an RMDQ baseline, else ODI
ANALGESIC = "analgesic_days"
START_BACK = "start_back"
INSTRUMENTS = (PAIN, *DISABILITY, ANALGESIC, START_BACK)


class Status(StrEnum):
    COMPLETED = "completed"
    STOPPED_EARLY = "stopped_early"
    UNDER_WAY = "under_way"


STATUS_LABELS = {
    Status.COMPLETED: "Completed (all planned sessions)",
    Status.STOPPED_EARLY: "Stopped early (last observation carried forward)",
    Status.UNDER_WAY: "Under way (not yet in outcome figures)",
}
CAUSE_LABELS = {
    "muscle_strain": "Muscle strain",
    "disc_herniation": "Disc herniation",
    "sciatica": "Sciatica",
    "post_surgery": "After an operation",
    "unknown": "Cause not known (non-specific)",
    "other": "Other cause",
}
PHASE_LABELS = {
    "acute": "Acute (under 6 weeks)",
    "subacute": "Subacute (6-12 weeks)",
    "chronic": "Chronic (over 12 weeks)",
}
RISK_LABELS = {"low": "Low risk", "medium": "Medium risk", "high": "High risk"}
NOT_RECORDED = "Not recorded"


class Reading(NamedTuple):
    """One valid, not withdrawn score, on the clinic's calendar day it was taken (a named tuple:
    the analytics build one per measurement, so it must be cheap to make)."""

    day: date
    value: Fraction
    band: str = ""


@dataclass(frozen=True)
class Session:
    """One attended session (signed note) and whether any adverse event was reported for it."""

    day: date
    adverse_event: bool = False


@dataclass(frozen=True)
class Course:
    """What analytics needs of one course; labels are already in words (technique names,
    therapist name); codes for cause, phase and STarT Back risk (None: not recorded)."""

    key: str
    started_on: date
    sessions_planned: int
    ended_on: date | None = None
    sessions: tuple[Session, ...] = ()
    techniques: tuple[str, ...] = ()
    therapist: str | None = None
    cause: str | None = None
    phase: str | None = None
    readings: Mapping[str, Sequence[Reading]] = field(default_factory=dict)


def status_of(course: Course, today: date) -> Status:
    """Completed when the planned sessions were all attended; else stopped early when the plan
    was ended or no session (nor the start) lies within `STOPPED_AFTER_DAYS` of `today`."""
    if len(course.sessions) >= course.sessions_planned:
        return Status.COMPLETED
    if course.ended_on is not None:
        return Status.STOPPED_EARLY
    last = max((s.day for s in course.sessions), default=course.started_on)
    if (today - last).days > STOPPED_AFTER_DAYS:
        return Status.STOPPED_EARLY
    return Status.UNDER_WAY


def baseline_of(readings: Sequence[Reading], started_on: date) -> Reading | None:
    """The latest reading from `BASELINE_BEFORE_DAYS` before the start to the start day; else
    the first in the course's first `BASELINE_AFTER_DAYS`; else None. `readings` oldest first."""
    earliest = started_on - timedelta(days=BASELINE_BEFORE_DAYS)
    before = [r for r in readings if earliest <= r.day <= started_on]
    if before:
        return before[-1]
    latest = started_on + timedelta(days=BASELINE_AFTER_DAYS)
    return next((r for r in readings if started_on < r.day <= latest), None)


def followup_of(readings: Sequence[Reading], baseline: Reading, until: date) -> Reading:
    """The last reading after the baseline's day up to `until`; the baseline itself when there
    is none (last observation carried forward)."""
    later = [r for r in readings if baseline.day < r.day <= until]
    return later[-1] if later else baseline


@dataclass(frozen=True)
class CourseResult:
    """One course judged: its status, and per measure the change from baseline to follow-up
    (None without a baseline)."""

    course: Course
    status: Status
    pain: change_rules.Change | None
    disability: change_rules.Change | None
    analgesic: change_rules.Change | None
    start_back: str | None

    @property
    def ended(self) -> bool:
        return self.status != Status.UNDER_WAY


def judge(
    course: Course, *, today: date, thresholds: Mapping[str, change_rules.Thresholds]
) -> CourseResult:
    """The course's status and its changes, each from `clinical.change.change` with the
    clinic's thresholds. Follow-ups count up to the plan's end (or `today`)."""
    status = status_of(course, today)
    until = course.ended_on or today

    def measured(code: str) -> change_rules.Change | None:
        readings = sorted(course.readings.get(code, ()), key=lambda r: r.day)
        first = baseline_of(readings, course.started_on)
        if first is None:
            return None
        last = followup_of(readings, first, until)
        return _change(code, first.value, last.value, thresholds.get(code))

    disability = next((found for code in DISABILITY if (found := measured(code)) is not None), None)
    risk = baseline_of(
        sorted(course.readings.get(START_BACK, ()), key=lambda r: r.day), course.started_on
    )
    return CourseResult(
        course=course,
        status=status,
        pain=measured(PAIN),
        disability=disability,
        analgesic=measured(ANALGESIC),
        start_back=(risk.band or None) if risk else None,
    )


@lru_cache(maxsize=65536)
def _change(
    code: str, first: Fraction, last: Fraction, thresholds: change_rules.Thresholds | None
) -> change_rules.Change:
    """`clinical.change.change`, remembered: it is pure and its result immutable, and a page
    judges the same few (baseline, follow-up) pairs of whole scores many times over."""
    return change_rules.change(code, first, last, thresholds)


# --- Figures and their rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """`count` of `n`, e.g. 6 of 10 courses reaching an important improvement."""

    count: int
    n: int

    @property
    def percent(self) -> Decimal | None:
        return half_up(Fraction(100 * self.count, self.n), 0) if self.n else None


@dataclass(frozen=True)
class MeasureFigures:
    """Ended courses with a baseline (n), those without one, and how many reached the absolute
    and the percent threshold (None: the instrument has no such threshold)."""

    n: int
    without_baseline: int
    reaching_points: Share | None
    reaching_percent: Share | None


@dataclass(frozen=True)
class Mean:
    value: Fraction | None
    n: int


# Columns that are suppressed together: each has its own n.
COLUMNS = ("courses", "completion", "pain", "disability", "adverse", "analgesic")


@dataclass(frozen=True)
class Row:
    """One group's figures; `hidden` names the columns shown as "fewer than 5"."""

    label: str
    courses: int
    completed: Share  # of ended courses
    stopped_early: Share  # of ended courses
    under_way: int
    pain: MeasureFigures
    disability: MeasureFigures
    adverse: Share  # sessions with an adverse event, of attended sessions
    analgesic: Mean  # mean fall in days a week with pain medicine (positive: fewer)
    hidden: frozenset[str] = frozenset()

    def denominator(self, column: str) -> int:
        return {
            "courses": self.courses,
            "completion": self.completed.n,
            "pain": self.pain.n,
            "disability": self.disability.n,
            "adverse": self.adverse.n,
            "analgesic": self.analgesic.n,
        }[column]


def _measure(changes: list[change_rules.Change | None]) -> MeasureFigures:
    found = [c for c in changes if c is not None]
    points = [c.meets_abs for c in found]
    percent = [c.meets_pct for c in found]
    return MeasureFigures(
        n=len(found),
        without_baseline=len(changes) - len(found),
        reaching_points=None
        if found and points[0] is None
        else Share(sum(1 for m in points if m), len(found)),
        reaching_percent=None
        if found and percent[0] is None
        else Share(sum(1 for m in percent if m), len(found)),
    )


def row_of(label: str, results: Sequence[CourseResult]) -> Row:
    """The figures of one group of courses, before suppression."""
    ended = [r for r in results if r.ended]
    completed = sum(1 for r in ended if r.status == Status.COMPLETED)
    sessions = [s for r in results for s in r.course.sessions]
    analgesic = [r.analgesic.improvement for r in ended if r.analgesic is not None]
    return Row(
        label=label,
        courses=len(results),
        completed=Share(completed, len(ended)),
        stopped_early=Share(len(ended) - completed, len(ended)),
        under_way=len(results) - len(ended),
        pain=_measure([r.pain for r in ended]),
        disability=_measure([r.disability for r in ended]),
        adverse=Share(sum(1 for s in sessions if s.adverse_event), len(sessions)),
        analgesic=Mean(
            Fraction(sum(analgesic), len(analgesic)) if analgesic else None, len(analgesic)
        ),
    )


def suppress(row: Row) -> Row:
    """Hide every column whose n is under `SMALL_CELL`; all of them when the group is."""
    if row.courses < SMALL_CELL:
        return _hide(row, COLUMNS)
    return _hide(row, [c for c in COLUMNS if row.denominator(c) < SMALL_CELL])


def _hide(row: Row, columns: Iterable[str]) -> Row:
    return replace(row, hidden=row.hidden | frozenset(columns))


def suppress_complements(rows: Sequence[Row], *, partition: bool = True) -> list[Row]:
    """Primary suppression of each row, then, when the rows partition the courses (each course
    in one group), for each column where exactly one group is hidden, also hide the shown group
    with the smallest n, so that the hidden one cannot be worked out from the total."""
    result = [suppress(r) for r in rows]
    if not partition:
        return result
    for column in COLUMNS:
        hidden = [r for r in result if column in r.hidden]
        shown = [i for i, r in enumerate(result) if column not in r.hidden]
        if len(hidden) == 1 and shown:
            smallest = min(shown, key=lambda i: result[i].denominator(column))
            result[smallest] = _hide(result[smallest], [column])
    return result


# --- The whole page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Summary:
    overall: Row
    breakdowns: tuple[Breakdown, ...]


def _ordered_groups(
    results: Sequence[CourseResult],
    keys_of: Callable[[CourseResult], Iterable[str | None]],
    labels: Mapping[str, str] | None,
    missing_label: str,
) -> list[Row]:
    groups: dict[str | None, list[CourseResult]] = {}
    for result in results:
        for key in dict.fromkeys(keys_of(result)) or [None]:
            groups.setdefault(key, []).append(result)
    known: list[str] = [k for k in groups if k is not None]
    order: list[str | None] = []
    if labels is not None:
        order += [k for k in labels if k in groups]
        order += sorted(k for k in known if k not in labels)
    else:
        by_name: list[str] = sorted(known, key=str.casefold)
        order += by_name
    if None in groups:
        order.append(None)
    return [
        row_of(missing_label if k is None else (labels or {}).get(k, k), groups[k]) for k in order
    ]


def summarise(
    courses: Sequence[Course],
    *,
    today: date,
    thresholds: Mapping[str, change_rules.Thresholds],
) -> Summary:
    """Every figure of the analytics page: all courses, then by status (completed, stopped
    early, under way), technique (a course counts under each technique of its plan), therapist,
    cause, episode duration and STarT Back risk, each row suppressed as `suppress_complements`
    says."""
    results = [judge(c, today=today, thresholds=thresholds) for c in courses]
    by_status = [
        row_of(label, [r for r in results if r.status == status])
        for status, label in STATUS_LABELS.items()
    ]
    breakdowns = [
        ("status", "By course completion", by_status),
        (
            "technique",
            "By technique (a course counts under each technique in its plan)",
            _ordered_groups(results, lambda r: r.course.techniques, None, "No technique planned"),
        ),
        (
            "therapist",
            "By therapist (who gave most of the course's sessions)",
            _ordered_groups(results, lambda r: [r.course.therapist], None, "No session attended"),
        ),
        (
            "cause",
            "By cause (as the patient gave it at intake)",
            _ordered_groups(results, lambda r: [r.course.cause], CAUSE_LABELS, NOT_RECORDED),
        ),
        (
            "phase",
            "By episode duration at the start of the course",
            _ordered_groups(results, lambda r: [r.course.phase], PHASE_LABELS, NOT_RECORDED),
        ),
        (
            "start_back",
            "By STarT Back risk at baseline",
            _ordered_groups(results, lambda r: [r.start_back], RISK_LABELS, NOT_RECORDED),
        ),
    ]
    return Summary(
        overall=suppress(row_of("All courses", results)),
        breakdowns=tuple(
            # Technique groups overlap (a course has several), so none is a complement.
            Breakdown(key, title, tuple(suppress_complements(rows, partition=key != "technique")))
            for key, title, rows in breakdowns
        ),
    )


# --- Words for the page --------------------------------------------------------------------------

HIDDEN = "fewer than 5"


def _share(share: Share | None, unit: str = "") -> str:
    if share is None:
        return "no such threshold"
    return f"{share.count} of {share.n}{unit} ({share.percent} %)"


def _days(mean: Mean) -> str:
    if mean.value is None:
        return "none counted"
    shown = str(half_up(abs(mean.value), 1)).removesuffix(".0")
    unit = "day" if shown == "1" else "days"
    if mean.value == 0:
        return f"no change (n = {mean.n})"
    word = "fewer" if mean.value > 0 else "more"
    return f"{shown} {word} {unit} a week (n = {mean.n})"


def _counted(figures: MeasureFigures) -> str:
    return f"{figures.n} ({figures.without_baseline} without a baseline)"


def cells(row: Row) -> tuple[str, ...]:
    """The row's figures in words, in the order of the page's columns (after the group's
    label): courses, completed, stopped early, under way, pain counted, pain reaching the points
    and the percent threshold, the same for disability, sessions with an adverse event, and the
    change in days with pain medicine. A hidden figure reads "fewer than 5"."""

    def shown(column: str, text: str) -> str:
        return HIDDEN if column in row.hidden else text

    return (
        shown("courses", str(row.courses)),
        shown("completion", _share(row.completed)),
        shown("completion", _share(row.stopped_early)),
        shown("courses", str(row.under_way)),
        shown("pain", _counted(row.pain)),
        shown("pain", _share(row.pain.reaching_points)),
        shown("pain", _share(row.pain.reaching_percent)),
        shown("disability", _counted(row.disability)),
        shown("disability", _share(row.disability.reaching_points)),
        shown("disability", _share(row.disability.reaching_percent)),
        shown("adverse", _share(row.adverse, " sessions")),
        shown("analgesic", _days(row.analgesic)),
    )
