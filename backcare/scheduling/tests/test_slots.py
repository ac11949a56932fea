"""Working hours, free time and slots (backcare.scheduling.slots): plain pytest, no database."""

import ast
import dataclasses
import itertools
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backcare.scheduling import slots
from backcare.scheduling.slots import (
    SLOTS_VERSION,
    Interval,
    WeeklyHours,
    free_slots,
    subtract,
    weekly_series,
    working_intervals,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)  # a summer week in London: BST, UTC+1
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def make_weekdays(starts: time = time(9), ends: time = time(17)) -> list[WeeklyHours]:
    return [WeeklyHours(weekday, starts, ends) for weekday in range(5)]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def make_interval(start: datetime, minutes: int) -> Interval:
    return Interval(start, start + timedelta(minutes=minutes))


def seconds(intervals: list[Interval]) -> float:
    return sum((i.end - i.start).total_seconds() for i in intervals)


# --- the module itself --------------------------------------------------------------------


def test_slots_version_is_the_published_rule_set():
    assert SLOTS_VERSION == "backcare-slots-1"


def test_slots_module_imports_only_the_standard_library():
    tree = ast.parse(Path(slots.__file__).read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    allowed = {"bisect", "collections", "dataclasses", "datetime", "itertools", "math", "types"}
    assert imported <= allowed | {"zoneinfo"}


def test_public_functions_and_classes_have_docstrings():
    tree = ast.parse(Path(slots.__file__).read_text())
    missing = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
        and ast.get_docstring(node) is None
    ]
    assert missing == []


def test_values_are_frozen():
    block = WeeklyHours(0, time(9), time(17))
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.ends = time(18)  # type: ignore[misc]


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "starts", "ends"),
    [
        (0, time(17), time(9)),
        (0, time(9), time(9)),
        (7, time(9), time(17)),
        (-1, time(9), time(17)),
        (0, time(9, tzinfo=UTC), time(17, tzinfo=UTC)),
    ],
)
def test_weekly_hours_rejects_invalid_blocks(weekday, starts, ends):
    with pytest.raises(ValueError, match=r"weekday|end after|naive"):
        WeeklyHours(weekday, starts, ends)


def test_interval_rejects_naive_datetimes_with_a_clear_message():
    with pytest.raises(ValueError, match=r"Interval\.start must be timezone-aware"):
        Interval(datetime(2026, 6, 1, 9), utc(2026, 6, 1, 10))  # noqa: DTZ001


def test_interval_rejects_an_end_not_after_its_start():
    with pytest.raises(ValueError, match="must be after start"):
        Interval(utc(2026, 6, 1, 10), utc(2026, 6, 1, 10))


def test_intervals_that_only_touch_do_not_overlap():
    morning = make_interval(utc(2026, 6, 1, 9), 60)
    assert not morning.overlaps(make_interval(utc(2026, 6, 1, 10), 60))
    assert morning.overlaps(make_interval(utc(2026, 6, 1, 9, 59), 60))
    assert morning.overlaps(make_interval(utc(2026, 6, 1, 9, 15), 15))


def test_interval_overlap_compares_instants_across_zones():
    in_london = Interval(
        datetime(2026, 6, 1, 10, tzinfo=LONDON), datetime(2026, 6, 1, 11, tzinfo=LONDON)
    )
    assert in_london.overlaps(make_interval(utc(2026, 6, 1, 9, 30), 60))
    assert not in_london.overlaps(make_interval(utc(2026, 6, 1, 10), 60))


def test_working_intervals_rejects_a_reversed_range():
    with pytest.raises(ValueError, match="must not be before first_day"):
        working_intervals(
            make_weekdays(), zone=LONDON, first_day=MONDAY, last_day=date(2026, 5, 31)
        )


def test_working_intervals_rejects_a_reversed_exception_block():
    with pytest.raises(ValueError, match="end after it starts"):
        working_intervals(
            make_weekdays(),
            zone=LONDON,
            first_day=MONDAY,
            last_day=MONDAY,
            exceptions={MONDAY: [(time(14), time(10))]},
        )


@pytest.mark.parametrize(
    ("length", "step"),
    [(timedelta(0), 15 * MINUTE), (-HOUR, 15 * MINUTE), (HOUR, timedelta(0)), (HOUR, -MINUTE)],
)
def test_free_slots_rejects_non_positive_length_or_step(length, step):
    with pytest.raises(ValueError, match="must be positive"):
        free_slots([make_interval(utc(2026, 6, 1, 9), 480)], [], length=length, step=step)


def test_free_slots_rejects_a_naive_not_before():
    with pytest.raises(ValueError, match="not_before must be timezone-aware"):
        free_slots(
            [make_interval(utc(2026, 6, 1, 9), 480)],
            [],
            length=HOUR,
            step=15 * MINUTE,
            not_before=datetime(2026, 6, 1, 10),  # noqa: DTZ001
        )


def test_weekly_series_rejects_a_naive_first_start():
    with pytest.raises(ValueError, match="first_start must be timezone-aware"):
        weekly_series(datetime(2026, 3, 5, 10), count=3, zone=LONDON)  # noqa: DTZ001


@pytest.mark.parametrize(("count", "every_weeks"), [(0, 1), (-2, 1), (3, 0), (3, -1)])
def test_weekly_series_rejects_non_positive_count_or_interval(count, every_weeks):
    with pytest.raises(ValueError, match="must be positive"):
        weekly_series(
            datetime(2026, 3, 5, 10, tzinfo=LONDON),
            count=count,
            every_weeks=every_weeks,
            zone=LONDON,
        )


# --- working intervals ------------------------------------------------------------------------


def test_a_normal_week_gives_one_interval_per_working_day_in_utc():
    week = working_intervals(
        make_weekdays(), zone=LONDON, first_day=MONDAY, last_day=MONDAY + timedelta(days=6)
    )
    assert week == [Interval(utc(2026, 6, d, 8), utc(2026, 6, d, 16)) for d in range(1, 6)]
    assert all(i.start.tzinfo is UTC and i.end.tzinfo is UTC for i in week)


def test_adjacent_and_overlapping_blocks_are_merged_and_sorted():
    hours = [
        WeeklyHours(0, time(13), time(17)),
        WeeklyHours(0, time(9), time(12)),
        WeeklyHours(0, time(12), time(13)),
        WeeklyHours(0, time(16), time(18)),
        WeeklyHours(0, time(19), time(20)),
    ]
    day = working_intervals(hours, zone=LONDON, first_day=MONDAY, last_day=MONDAY)
    assert day == [
        Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 17)),
        Interval(utc(2026, 6, 1, 18), utc(2026, 6, 1, 19)),
    ]


def test_an_exception_with_no_blocks_is_a_day_off():
    tuesday = MONDAY + timedelta(days=1)
    week = working_intervals(
        make_weekdays(),
        zone=LONDON,
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=4),
        exceptions={tuesday: []},
    )
    assert [i.start.date() for i in week] == [date(2026, 6, d) for d in (1, 3, 4, 5)]


def test_an_exception_replaces_the_pattern_with_its_own_hours():
    tuesday, saturday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=5)
    week = working_intervals(
        make_weekdays(),
        zone=LONDON,
        first_day=tuesday,
        last_day=saturday,
        exceptions={
            tuesday: [(time(10), time(12)), (time(14), time(15, 30))],
            saturday: [(time(10), time(14))],
        },
    )
    assert week[:2] == [
        Interval(utc(2026, 6, 2, 9), utc(2026, 6, 2, 11)),
        Interval(utc(2026, 6, 2, 13), utc(2026, 6, 2, 14, 30)),
    ]
    assert week[-1] == Interval(utc(2026, 6, 6, 9), utc(2026, 6, 6, 13))
    assert len(week) == 6


def test_exceptions_outside_the_range_are_ignored():
    week = working_intervals(
        make_weekdays(),
        zone=LONDON,
        first_day=MONDAY,
        last_day=MONDAY,
        exceptions={MONDAY - timedelta(days=7): []},
    )
    assert week == [Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 16))]


@pytest.mark.parametrize(
    ("zone", "day", "expected_start"),
    [
        (LONDON, date(2026, 3, 28), utc(2026, 3, 28, 9)),  # Saturday before: GMT
        (LONDON, date(2026, 3, 29), utc(2026, 3, 29, 8)),  # spring forward 01:00 -> 02:00
        (LONDON, date(2026, 10, 25), utc(2026, 10, 25, 9)),  # autumn back 02:00 -> 01:00
        (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 13)),  # spring forward 02:00 -> 03:00
        (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 14)),  # autumn back 02:00 -> 01:00
    ],
)
def test_a_nine_to_five_day_is_eight_hours_on_daylight_saving_change_days(
    zone, day, expected_start
):
    hours = [WeeklyHours(day.weekday(), time(9), time(17))]
    (interval,) = working_intervals(hours, zone=zone, first_day=day, last_day=day)
    assert interval.start == expected_start
    assert interval.end - interval.start == 8 * HOUR
    assert interval.start.astimezone(zone).time() == time(9)


@pytest.mark.parametrize(
    ("zone", "day", "starts", "expected"),
    [
        (LONDON, date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1)),  # 02:00 BST
        (LONDON, date(2026, 3, 29), time(1), utc(2026, 3, 29, 1)),  # 01:00 itself is skipped
        (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7)),  # 03:00 EDT
    ],
)
def test_a_block_starting_in_the_spring_gap_moves_to_the_end_of_the_gap(
    zone, day, starts, expected
):
    hours = [WeeklyHours(day.weekday(), starts, time(4))]
    (interval,) = working_intervals(hours, zone=zone, first_day=day, last_day=day)
    assert interval.start == expected
    assert interval.end == datetime(day.year, day.month, day.day, 4, tzinfo=zone)


def test_a_block_lying_wholly_in_the_spring_gap_gives_no_working_time():
    day = date(2026, 3, 29)
    hours = [WeeklyHours(day.weekday(), time(1, 15), time(1, 45))]
    assert working_intervals(hours, zone=LONDON, first_day=day, last_day=day) == []


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        (LONDON, date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),  # 01:30 BST, not GMT
        (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT, not EST
    ],
)
def test_an_ambiguous_autumn_time_takes_its_first_occurrence(zone, day, expected):
    hours = [WeeklyHours(day.weekday(), time(1, 30), time(3))]
    (interval,) = working_intervals(hours, zone=zone, first_day=day, last_day=day)
    assert interval.start == expected


# --- subtract -----------------------------------------------------------------------------


def test_time_off_and_appointments_are_subtracted():
    day = Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 16))
    time_off = Interval(utc(2026, 6, 1, 12), utc(2026, 6, 1, 13))
    appointment = make_interval(utc(2026, 6, 1, 9), 60)
    assert subtract([day], [time_off, appointment]) == [
        Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 9)),
        Interval(utc(2026, 6, 1, 10), utc(2026, 6, 1, 12)),
        Interval(utc(2026, 6, 1, 13), utc(2026, 6, 1, 16)),
    ]


def test_subtract_accepts_any_zone_and_returns_utc():
    day = Interval(datetime(2026, 6, 1, 9, tzinfo=LONDON), datetime(2026, 6, 1, 17, tzinfo=LONDON))
    kolkata = timezone(timedelta(hours=5, minutes=30))
    booked = Interval(
        datetime(2026, 6, 1, 14, 30, tzinfo=kolkata), datetime(2026, 6, 1, 15, 30, tzinfo=kolkata)
    )
    free = subtract([day], [booked])
    assert free == [
        Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 9)),
        Interval(utc(2026, 6, 1, 10), utc(2026, 6, 1, 16)),
    ]
    assert all(i.start.tzinfo is UTC and i.end.tzinfo is UTC for i in free)


def test_busy_time_covering_the_whole_day_leaves_nothing_free():
    day = Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 16))
    assert subtract([day], [Interval(utc(2026, 6, 1, 7), utc(2026, 6, 1, 17))]) == []


def test_busy_time_outside_working_hours_changes_nothing():
    day = Interval(utc(2026, 6, 1, 8), utc(2026, 6, 1, 16))
    assert subtract([day], [make_interval(utc(2026, 6, 1, 16), 60)]) == [day]


# --- free slots ----------------------------------------------------------------------------


def test_a_slot_may_end_exactly_when_the_next_appointment_starts():
    day = Interval(utc(2026, 6, 1, 9), utc(2026, 6, 1, 13))
    booked = make_interval(utc(2026, 6, 1, 11), 60)  # its own buffer included
    starts = free_slots([day], [booked], length=HOUR, step=15 * MINUTE)  # 50 min + 10 buffer
    assert utc(2026, 6, 1, 10) in starts
    assert utc(2026, 6, 1, 10, 15) not in starts
    assert starts == [utc(2026, 6, 1, 9, m) for m in (0, 15, 30, 45)] + [
        utc(2026, 6, 1, 10),
        utc(2026, 6, 1, 12),
    ]


def test_the_buffer_in_length_keeps_a_slot_from_running_into_the_next_appointment():
    day = Interval(utc(2026, 6, 1, 9), utc(2026, 6, 1, 11))
    booked = make_interval(utc(2026, 6, 1, 10, 30), 30)
    without_buffer = free_slots([day], [booked], length=50 * MINUTE, step=10 * MINUTE)
    with_buffer = free_slots([day], [booked], length=60 * MINUTE, step=10 * MINUTE)
    assert without_buffer[-1] == utc(2026, 6, 1, 9, 40)
    assert with_buffer[-1] == utc(2026, 6, 1, 9, 30)


def test_slots_are_aligned_to_the_step_from_the_start_of_working_hours():
    day = Interval(utc(2026, 6, 1, 9), utc(2026, 6, 1, 12))
    booked = Interval(utc(2026, 6, 1, 9), utc(2026, 6, 1, 9, 20))
    starts = free_slots([day], [booked], length=HOUR, step=15 * MINUTE)
    assert starts[0] == utc(2026, 6, 1, 9, 30)
    assert all(s.minute % 15 == 0 and s.second == 0 for s in starts)


def test_alignment_follows_each_working_interval_not_the_clock():
    day = Interval(utc(2026, 6, 1, 9, 10), utc(2026, 6, 1, 11, 10))
    starts = free_slots([day], [], length=HOUR, step=30 * MINUTE)
    assert starts == [utc(2026, 6, 1, 9, 10), utc(2026, 6, 1, 9, 40), utc(2026, 6, 1, 10, 10)]


def test_no_slot_starts_before_not_before():
    day = Interval(utc(2026, 6, 1, 9), utc(2026, 6, 1, 12))
    not_before = datetime(2026, 6, 1, 11, 5, tzinfo=LONDON)  # 10:05 UTC
    starts = free_slots([day], [], length=HOUR, step=15 * MINUTE, not_before=not_before)
    assert starts == [
        utc(2026, 6, 1, 10, 15),
        utc(2026, 6, 1, 10, 30),
        utc(2026, 6, 1, 10, 45),
        utc(2026, 6, 1, 11),
    ]


def test_a_free_gap_shorter_than_the_slot_offers_nothing():
    day = Interval(utc(2026, 6, 1, 9), utc(2026, 6, 1, 12))
    busy = [make_interval(utc(2026, 6, 1, 9), 60), make_interval(utc(2026, 6, 1, 10, 50), 70)]
    assert free_slots([day], busy, length=HOUR, step=15 * MINUTE) == []


def test_slots_for_a_week_come_back_sorted_in_utc():
    week = working_intervals(
        make_weekdays(), zone=LONDON, first_day=MONDAY, last_day=MONDAY + timedelta(days=6)
    )
    starts = free_slots(week, [], length=HOUR, step=30 * MINUTE)
    assert starts == sorted(starts)
    assert len(starts) == 5 * 15
    assert all(s.tzinfo is UTC for s in starts)


# --- weekly series ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "first_start", "utc_hours"),
    [
        (LONDON, datetime(2026, 3, 12, 10, tzinfo=LONDON), [10] * 3 + [9] * 7),
        (LONDON, datetime(2026, 10, 1, 10, tzinfo=LONDON), [9] * 4 + [10] * 6),
        (NEW_YORK, datetime(2026, 2, 19, 10, tzinfo=NEW_YORK), [15] * 3 + [14] * 7),
        (NEW_YORK, datetime(2026, 10, 15, 10, tzinfo=NEW_YORK), [14] * 3 + [15] * 7),
    ],
)
def test_a_weekly_course_keeps_local_ten_oclock_across_daylight_saving(
    zone, first_start, utc_hours
):
    series = weekly_series(first_start, count=10, zone=zone)
    local = [s.astimezone(zone) for s in series]
    assert [t.time() for t in local] == [time(10)] * 10
    assert [(t.date() - first_start.date()).days for t in local] == [7 * n for n in range(10)]
    assert [s.hour for s in series] == utc_hours
    assert all(s.tzinfo is UTC for s in series)


def test_a_course_every_second_week_skips_a_week():
    first = datetime(2026, 3, 19, 10, tzinfo=LONDON)
    series = weekly_series(first, count=3, every_weeks=2, zone=LONDON)
    assert series == [utc(2026, 3, 19, 10), utc(2026, 4, 2, 9), utc(2026, 4, 16, 9)]


def test_the_first_session_is_the_given_instant_even_from_another_zone():
    first = utc(2026, 3, 22, 10)  # 10:00 GMT in London
    series = weekly_series(first, count=2, zone=LONDON)
    assert series == [first, utc(2026, 3, 29, 9)]


@pytest.mark.parametrize(
    ("zone", "first_start", "moved_to"),
    [
        (LONDON, datetime(2026, 3, 22, 1, 30, tzinfo=LONDON), utc(2026, 3, 29, 1)),
        (NEW_YORK, datetime(2026, 3, 1, 2, 30, tzinfo=NEW_YORK), utc(2026, 3, 8, 7)),
    ],
)
def test_a_course_session_in_the_spring_gap_moves_to_the_end_of_the_gap(
    zone, first_start, moved_to
):
    series = weekly_series(first_start, count=3, zone=zone)
    assert series[1] == moved_to
    assert series[2].astimezone(zone).time() == first_start.time()


def test_a_course_session_at_an_ambiguous_time_takes_the_first_occurrence():
    series = weekly_series(datetime(2026, 10, 18, 1, 30, tzinfo=LONDON), count=2, zone=LONDON)
    assert series[1] == utc(2026, 10, 25, 0, 30)


# --- properties -----------------------------------------------------------------------------

BASE = utc(2026, 6, 1)
GRID = 5  # minutes: inputs lie on a five-minute grid so a set of minutes is an exact oracle
ZONES = st.sampled_from([UTC, LONDON, NEW_YORK, timezone(timedelta(hours=5, minutes=30))])


@st.composite
def intervals(draw, max_size=8):
    found = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(st.integers(0, 24 * 60 // GRID - 1))
        minutes = draw(st.integers(1, 6 * 60 // GRID)) * GRID
        zone = draw(ZONES)
        begins = BASE + timedelta(minutes=start * GRID)
        found.append(
            Interval(
                begins.astimezone(zone), (begins + timedelta(minutes=minutes)).astimezone(zone)
            )
        )
    return found


@st.composite
def disjoint_working(draw):
    """Separated working intervals: distinct sorted cut points paired off never touch."""
    cuts = sorted(draw(st.sets(st.integers(0, 36 * 60 // GRID), max_size=8)))
    return [
        Interval(BASE + timedelta(minutes=a * GRID), BASE + timedelta(minutes=b * GRID))
        for a, b in zip(cuts[::2], cuts[1::2], strict=False)
    ]


def minutes_of(items):
    covered: set[int] = set()
    for item in items:
        first = int((item.start - BASE) / MINUTE)
        covered.update(range(first, first + int((item.end - item.start) / MINUTE)))
    return covered


@given(working=intervals(), busy=intervals())
def test_subtract_never_returns_overlapping_touching_or_empty_intervals(working, busy):
    free = subtract(working, busy)
    assert all(i.end > i.start for i in free)
    assert all(a.end < b.start for a, b in itertools.pairwise(free))
    assert all(i.start.tzinfo is UTC and i.end.tzinfo is UTC for i in free)


@given(working=intervals(), busy=intervals())
def test_free_time_plus_busy_working_time_is_all_working_time(working, busy):
    free = subtract(working, busy)
    working_minutes, busy_minutes = minutes_of(working), minutes_of(busy)
    busy_at_work = len(working_minutes & busy_minutes) * 60
    assert seconds(free) + busy_at_work == len(working_minutes) * 60
    assert minutes_of(free) == working_minutes - busy_minutes


@given(
    working=intervals(),
    busy=intervals(),
    length=st.integers(1, 24).map(lambda n: n * GRID * MINUTE),
    step=st.integers(1, 12).map(lambda n: n * GRID * MINUTE),
)
def test_every_free_slot_lies_in_working_time_and_overlaps_no_busy_time(
    working, busy, length, step
):
    for start in free_slots(working, busy, length=length, step=step):
        slot = Interval(start, start + length)
        assert any(w.start <= slot.start and slot.end <= w.end for w in subtract(working, []))
        assert not any(slot.overlaps(b) for b in busy)


@given(
    working=disjoint_working(),
    busy=intervals(),
    length=st.integers(1, 24).map(lambda n: n * GRID * MINUTE),
    step=st.integers(1, 12).map(lambda n: n * GRID * MINUTE),
    not_before=st.none() | st.integers(0, 36 * 60).map(lambda m: BASE + m * MINUTE),
)
def test_free_slots_offers_every_aligned_free_start_and_nothing_else(
    working, busy, length, step, not_before
):
    busy_minutes = minutes_of(busy)
    expected = []
    for w in working:
        start = w.start
        while start + length <= w.end:
            fits = not minutes_of([Interval(start, start + length)]) & busy_minutes
            if fits and (not_before is None or start >= not_before):
                expected.append(start)
            start += step
    assert free_slots(working, busy, length=length, step=step, not_before=not_before) == expected
