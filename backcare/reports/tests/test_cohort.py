"""Clinic analytics, pure: course status, baseline and follow-up (LOCF), the clinical core's
judgement per course, figures with their n, and small-cell suppression, against hand-computed
values."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from backcare.clinical.change import DEFAULT_THRESHOLDS
from backcare.reports.cohort import (
    Course,
    Mean,
    MeasureFigures,
    Reading,
    Row,
    Session,
    Share,
    Status,
    baseline_of,
    cells,
    followup_of,
    judge,
    row_of,
    status_of,
    summarise,
    suppress,
    suppress_complements,
)

TODAY = date(2026, 6, 30)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


def readings(*pairs: tuple[date, int]) -> tuple[Reading, ...]:
    return tuple(Reading(day, Fraction(value)) for day, value in pairs)


def sessions(*days: date, adverse: int = 0) -> tuple[Session, ...]:
    return tuple(Session(day, adverse_event=i < adverse) for i, day in enumerate(days))


@pytest.mark.parametrize(
    ("planned", "ended_on", "attended", "started_on", "expected"),
    [
        (3, None, [d(5, 1), d(5, 8), d(5, 15)], d(5, 1), Status.COMPLETED),
        (3, d(5, 20), [d(5, 1), d(5, 8), d(5, 15)], d(5, 1), Status.COMPLETED),
        (10, d(5, 20), [d(5, 1), d(5, 8)], d(5, 1), Status.STOPPED_EARLY),
        # 29 days without a session: stopped early; 28 days: still under way.
        (10, None, [d(5, 1), d(6, 1)], d(5, 1), Status.STOPPED_EARLY),
        (10, None, [d(5, 1), d(6, 2)], d(5, 1), Status.UNDER_WAY),
        (10, None, [], d(6, 20), Status.UNDER_WAY),
        (10, None, [], d(5, 20), Status.STOPPED_EARLY),
    ],
)
def test_a_course_is_completed_stopped_early_or_under_way(
    planned, ended_on, attended, started_on, expected
):
    course = Course(
        "c", started_on, planned, ended_on=ended_on, sessions=tuple(map(Session, attended))
    )
    assert status_of(course, TODAY) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # The latest reading up to 6 weeks before the start, not an older one, nor a later one.
        ([(d(3, 10), 9), (d(4, 20), 7), (d(4, 28), 6), (d(5, 3), 5)], (d(4, 28), 6)),
        ([(d(5, 1), 7)], (d(5, 1), 7)),
        # None before: the first in the first week.
        ([(d(3, 10), 9), (d(5, 3), 5), (d(5, 6), 4)], (d(5, 3), 5)),
        ([(d(3, 10), 9), (d(5, 9), 5)], None),
        ([], None),
    ],
)
def test_the_baseline_is_the_nearest_reading_before_the_start_or_in_the_first_week(pairs, expected):
    found = baseline_of(readings(*pairs), d(5, 1))
    assert (found and (found.day, found.value)) == expected


def test_the_follow_up_is_the_last_reading_up_to_the_end_or_the_baseline_carried_forward():
    series = readings((d(5, 1), 8), (d(5, 20), 6), (d(6, 10), 4))
    baseline = series[0]
    assert followup_of(series, baseline, d(6, 30)).value == 4
    assert followup_of(series, baseline, d(6, 1)).value == 6
    assert followup_of(series, baseline, d(5, 10)) == baseline


def test_each_change_is_judged_by_the_clinical_core_and_rmdq_is_preferred_to_odi():
    course = Course(
        "a",
        d(3, 1),
        3,
        readings={
            "pain_nrs": readings((d(3, 1), 8), (d(4, 1), 4)),
            "rmdq": readings((d(3, 1), 10), (d(4, 1), 6)),
            "odi": readings((d(3, 1), 40), (d(4, 1), 10)),
            "start_back": (Reading(d(2, 27), Fraction(6), band="high"),),
        },
    )
    found = judge(course, today=TODAY, thresholds=DEFAULT_THRESHOLDS)
    assert found.pain is not None
    assert (found.pain.improvement, found.pain.meets_abs, found.pain.meets_pct) == (4, True, True)
    assert found.disability is not None
    # RMDQ 10 -> 6: 4 points (< 5) but 40 % (>= 30 %); the ODI is not used.
    assert found.disability.instrument == "rmdq"
    assert (found.disability.meets_abs, found.disability.meets_pct) == (False, True)
    assert found.start_back == "high"
    assert found.analgesic is None


def test_a_baseline_only_course_counts_as_not_reaching_an_important_change():
    course = Course("c", d(3, 1), 10, readings={"pain_nrs": readings((d(2, 28), 7))})
    found = judge(course, today=TODAY, thresholds=DEFAULT_THRESHOLDS)
    assert found.status == Status.STOPPED_EARLY
    assert found.pain is not None
    assert (found.pain.improvement, found.pain.meets_abs, found.pain.meets_pct) == (0, False, False)


def five_courses() -> list[Course]:
    """A completed course, one stopped early (a reading after its end is ignored), one with a
    baseline only, one without a baseline and one under way."""
    return [
        Course(
            "A",
            d(3, 1),
            3,
            sessions=sessions(d(3, 1), d(3, 8), d(3, 15), adverse=1),
            techniques=("Swedish",),
            therapist="Ann",
            cause="muscle_strain",
            phase="acute",
            readings={
                "pain_nrs": readings((d(3, 1), 8), (d(4, 1), 4)),
                "rmdq": readings((d(3, 1), 10), (d(4, 1), 6)),
                "analgesic_days": readings((d(3, 1), 5), (d(4, 1), 2)),
            },
        ),
        Course(
            "B",
            d(3, 1),
            10,
            ended_on=d(3, 20),
            sessions=sessions(d(3, 2), d(3, 9)),
            techniques=("Swedish", "Deep tissue"),
            therapist="Ann",
            cause="disc_herniation",
            phase="chronic",
            readings={
                "pain_nrs": readings((d(2, 25), 6), (d(3, 10), 5), (d(4, 10), 3)),
                "odi": readings((d(2, 25), 40), (d(3, 18), 26)),
            },
        ),
        Course(
            "C",
            d(3, 1),
            10,
            sessions=sessions(d(4, 1)),
            therapist="Ben",
            cause="unknown",
            phase="chronic",
            readings={
                "pain_nrs": readings((d(3, 1), 7)),
                "rmdq": readings((d(3, 1), 12)),
                "analgesic_days": readings((d(3, 1), 4)),
            },
        ),
        Course(
            "D",
            d(4, 1),
            1,
            sessions=sessions(d(4, 2)),
            techniques=("Deep tissue",),
            therapist="Ben",
            readings={"pain_nrs": readings((d(4, 21), 5))},
        ),
        Course(
            "E",
            d(6, 20),
            10,
            sessions=sessions(d(6, 25)),
            techniques=("Swedish",),
            therapist="Ann",
            cause="muscle_strain",
            phase="acute",
            readings={"pain_nrs": readings((d(6, 20), 9), (d(6, 27), 2))},
        ),
    ]


def test_the_figures_of_a_group_match_the_hand_computed_ones():
    results = [judge(c, today=TODAY, thresholds=DEFAULT_THRESHOLDS) for c in five_courses()]
    row = row_of("All", results)
    assert row == Row(
        label="All",
        courses=5,
        completed=Share(2, 4),  # A and D; E is under way
        stopped_early=Share(2, 4),  # B (ended) and C (no session since 1 April)
        under_way=1,
        # Pain: A 8->4 (both), B 6->5 (neither; the reading after its end is ignored),
        # C 7 carried forward (neither); D has no baseline.
        pain=MeasureFigures(3, 1, Share(1, 3), Share(1, 3)),
        # Disability: A RMDQ 10->6 (percent only), B ODI 40->26 (both), C RMDQ carried forward.
        disability=MeasureFigures(3, 1, Share(1, 3), Share(2, 3)),
        adverse=Share(1, 8),  # sessions: A 3, B 2, C 1, D 1, E 1
        analgesic=Mean(Fraction(3, 2), 2),  # A 3 fewer days, C carried forward (0)
    )
    assert row.completed.percent == Decimal(50)
    assert Share(1, 3).percent == Decimal(33)
    assert Share(2, 3).percent == Decimal(67)  # half-up display only


def test_figures_over_fewer_than_five_are_hidden():
    results = [judge(c, today=TODAY, thresholds=DEFAULT_THRESHOLDS) for c in five_courses()]
    shown = suppress(row_of("All", results))
    assert shown.hidden == {"completion", "pain", "disability", "analgesic"}
    small = suppress(row_of("Few", results[:4]))
    assert small.hidden == {"courses", "completion", "pain", "disability", "adverse", "analgesic"}


def _row(label: str, courses: int) -> Row:
    empty = MeasureFigures(courses, 0, Share(0, courses), Share(0, courses))
    return Row(
        label=label,
        courses=courses,
        completed=Share(courses, courses),
        stopped_early=Share(0, courses),
        under_way=0,
        pain=empty,
        disability=empty,
        adverse=Share(0, courses),
        analgesic=Mean(None, courses),
    )


@pytest.mark.parametrize(
    ("sizes", "hidden_rows"),
    [
        ([10, 3, 6], {1, 2}),  # the smallest shown group is hidden too
        ([10, 3, 2, 6], {1, 2}),  # two hidden already: neither can be worked out
        ([10, 6], set()),
        ([4], {0}),
    ],
)
def test_a_single_hidden_group_hides_the_next_smallest_so_it_cannot_be_derived(sizes, hidden_rows):
    rows = suppress_complements([_row(str(i), n) for i, n in enumerate(sizes)])
    assert {i for i, r in enumerate(rows) if "courses" in r.hidden} == hidden_rows


def test_the_summary_groups_courses_by_each_breakdown_with_not_recorded_last():
    summary = summarise(five_courses(), today=TODAY, thresholds=DEFAULT_THRESHOLDS)
    assert summary.overall.courses == 5
    groups = {b.key: [(r.label, r.courses) for r in b.rows] for b in summary.breakdowns}
    assert groups["status"] == [
        ("Completed (all planned sessions)", 2),
        ("Stopped early (last observation carried forward)", 2),
        ("Under way (not yet in outcome figures)", 1),
    ]
    assert groups["technique"] == [("Deep tissue", 2), ("Swedish", 3), ("No technique planned", 1)]
    assert groups["therapist"] == [("Ann", 3), ("Ben", 2)]
    assert groups["cause"] == [
        ("Muscle strain", 2),
        ("Disc herniation", 1),
        ("Cause not known (non-specific)", 1),
        ("Not recorded", 1),
    ]
    assert groups["phase"] == [
        ("Acute (under 6 weeks)", 2),
        ("Chronic (over 12 weeks)", 2),
        ("Not recorded", 1),
    ]
    assert groups["start_back"] == [("Not recorded", 5)]
    # Every group but the five without a STarT Back is under five, so hidden.
    shown = [r.label for b in summary.breakdowns for r in b.rows if "courses" not in r.hidden]
    assert shown == ["Not recorded"]


def test_each_figure_is_shown_with_its_n_and_hidden_ones_read_fewer_than_five():
    results = [judge(c, today=TODAY, thresholds=DEFAULT_THRESHOLDS) for c in five_courses()]
    row = row_of("All", results)
    assert cells(row) == (
        "5",
        "2 of 4 (50 %)",
        "2 of 4 (50 %)",
        "1",
        "3 (1 without a baseline)",
        "1 of 3 (33 %)",
        "1 of 3 (33 %)",
        "3 (1 without a baseline)",
        "1 of 3 (33 %)",
        "2 of 3 (67 %)",
        "1 of 8 sessions (13 %)",
        "1.5 fewer days a week (n = 2)",
    )
    assert cells(suppress(row)) == (
        "5",
        "fewer than 5",
        "fewer than 5",
        "1",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
        "1 of 8 sessions (13 %)",
        "fewer than 5",
    )
