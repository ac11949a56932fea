"""Working hours, free time and bookable slots: pure rules, standard library only.

Clinic hours are wall times in the clinic's zone; everything computed here is an aware UTC
instant (ARCHITECTURE.md §5: stored in UTC, shown in the clinic's zone). Intervals are half-open,
[start, end), so an appointment may start at the very instant the previous one (with its buffer)
ends.

Daylight-saving rule, used everywhere a wall time becomes an instant: a wall time that does not
exist (spring-forward gap) moves forward to the first instant after the gap (01:30 on the London
spring day becomes 02:00 BST); an ambiguous one (autumn) takes its first occurrence (fold=0).
"""

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import islice
from types import MappingProxyType
from zoneinfo import ZoneInfo

SLOTS_VERSION = "backcare-slots-1"

_NO_EXCEPTIONS: Mapping[date, Sequence[tuple[time, time]]] = MappingProxyType({})


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")


def _require_positive(value: timedelta | int, name: str) -> None:
    too_small = value <= timedelta(0) if isinstance(value, timedelta) else value <= 0
    if too_small:
        raise ValueError(f"{name} must be positive (got {value})")


@dataclass(frozen=True)
class WeeklyHours:
    """One working block in a therapist's weekly pattern, in clinic-local wall time.

    `weekday` is 0 (Monday) to 6 (Sunday); `starts` and `ends` are naive times with
    `ends` > `starts` (no overnight blocks). Raises ValueError otherwise.
    """

    weekday: int
    starts: time
    ends: time

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or self.weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday!r}")
        if self.starts.tzinfo is not None or self.ends.tzinfo is not None:
            raise ValueError("working hours are naive local wall times; drop the tzinfo")
        if self.ends <= self.starts:
            raise ValueError(
                f"a working block must end after it starts (got {self.starts}-{self.ends}); "
                "split an overnight block at midnight"
            )


@dataclass(frozen=True)
class Interval:
    """A half-open span of time [start, end) between two aware datetimes (any zone).

    Raises ValueError when either end is naive or when `end` is not after `start`.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "Interval.start")
        _require_aware(self.end, "Interval.end")
        if self.end <= self.start:
            raise ValueError(f"Interval.end ({self.end}) must be after start ({self.start})")

    def overlaps(self, other: "Interval") -> bool:
        """True when the two intervals share an instant; touching ends do not overlap."""
        return self.start < other.end and other.start < self.end


def _in_utc(start: datetime, end: datetime) -> Interval:
    return Interval(start.astimezone(UTC), end.astimezone(UTC))


def _merged(intervals: Sequence[Interval]) -> list[Interval]:
    """Sorted UTC intervals with overlapping and adjacent ones joined."""
    result: list[Interval] = []
    for item in sorted(intervals, key=lambda i: i.start):
        if result and item.start <= result[-1].end:
            last = result.pop()
            result.append(_in_utc(last.start, max(last.end, item.end)))
        else:
            result.append(_in_utc(item.start, item.end))
    return result


def _first_instant_after_gap(before: datetime, after: datetime, zone: tzinfo) -> datetime:
    """The transition instant between `before` and `after` (UTC), found to the second.

    Zone transitions fall on whole seconds; zoneinfo offers no public list of them.
    """
    offset_after = after.astimezone(zone).utcoffset()
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz=zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, tz=UTC)


def _local_to_utc(day: date, wall: time, zone: tzinfo) -> datetime:
    local = datetime.combine(day, wall.replace(fold=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # A wall time in a gap: fold=0 lands after the gap, fold=1 before it.
    return _first_instant_after_gap(local.replace(fold=1).astimezone(UTC), instant, zone)


def _blocks_for(
    day: date,
    hours: Sequence[WeeklyHours],
    exceptions: Mapping[date, Sequence[tuple[time, time]]],
) -> list[WeeklyHours]:
    if day in exceptions:
        return [WeeklyHours(day.weekday(), starts, ends) for starts, ends in exceptions[day]]
    return [block for block in hours if block.weekday == day.weekday()]


def working_intervals(
    hours: Sequence[WeeklyHours],
    *,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    exceptions: Mapping[date, Sequence[tuple[time, time]]] = _NO_EXCEPTIONS,
) -> list[Interval]:
    """Concrete working intervals in UTC for each local day from first_day to last_day inclusive.

    Each day follows the weekly pattern `hours`, except that a date present in `exceptions` uses
    its own (start, end) blocks instead (an empty list is a day off). Wall times become instants
    in `zone` by the module's daylight-saving rule (gap: forward to the end of the gap;
    ambiguous: first occurrence), so a 09:00-17:00 day is 8 hours on change days too.

    Result: sorted, aware UTC intervals, with adjacent and overlapping blocks merged.
    Raises ValueError when last_day is before first_day or an exception block does not end
    after it starts.
    """
    if last_day < first_day:
        raise ValueError(f"last_day ({last_day}) must not be before first_day ({first_day})")
    found: list[Interval] = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        for block in _blocks_for(day, hours, exceptions):
            start = _local_to_utc(day, block.starts, zone)
            end = _local_to_utc(day, block.ends, zone)
            if end > start:  # a block lying wholly in a spring-forward gap has no time
                found.append(Interval(start, end))
    return _merged(found)


def subtract(intervals: Sequence[Interval], busy: Sequence[Interval]) -> list[Interval]:
    """`intervals` minus every busy interval (time off, appointments with their buffers, rooms).

    Inputs may be in any zone, unsorted and overlapping. Result: sorted, aware UTC intervals
    that are non-empty, disjoint and not adjacent (touching pieces are joined).
    """
    blocks = _merged(busy)
    block_ends = [block.end for block in blocks]
    return [
        free
        for interval in _merged(intervals)
        for free in _free_parts(interval, blocks, block_ends)
    ]


def _free_parts(
    interval: Interval, blocks: Sequence[Interval], block_ends: Sequence[datetime]
) -> list[Interval]:
    """`interval` minus `blocks` (merged: sorted, disjoint, UTC), whose ends are `block_ends`."""
    free: list[Interval] = []
    cursor = interval.start
    for block in islice(blocks, bisect_right(block_ends, cursor), None):
        if block.start >= interval.end:
            break
        if block.start > cursor:
            free.append(Interval(cursor, block.start))
        cursor = block.end
    if cursor < interval.end:
        free.append(Interval(cursor, interval.end))
    return free


def _aligned_starts(
    origin: datetime,
    free: Interval,
    *,
    length: timedelta,
    step: timedelta,
    not_before: datetime | None,
) -> list[datetime]:
    first = free.start if not_before is None else max(free.start, not_before)
    start = origin - ((origin - first) // step) * step  # ceiling, in exact integer steps
    starts: list[datetime] = []
    while start + length <= free.end:
        starts.append(start)
        start += step
    return starts


def free_slots(
    working: Sequence[Interval],
    busy: Sequence[Interval],
    *,
    length: timedelta,
    step: timedelta,
    not_before: datetime | None = None,
) -> list[datetime]:
    """Start instants of every bookable slot, sorted, as aware UTC datetimes.

    A slot is `length` long (the service's duration plus its turnover buffer) and lies wholly in
    a free part of `working` minus `busy`; it may end exactly when a busy interval starts.
    Starts are aligned to `step` from the start of the working interval the free part came from
    (overlapping or adjacent working intervals are merged first), so with hours on the hour and a
    15-minute step slots fall on :00, :15, :30, :45. Starts before `not_before` are left out.

    Raises ValueError when `length` or `step` is not positive or `not_before` is naive.
    """
    _require_positive(length, "length")
    _require_positive(step, "step")
    if not_before is not None:
        _require_aware(not_before, "not_before")
    # Busy time merged once for all working intervals (not once per interval, as `subtract`
    # would): the cost stays linear in the weeks asked for (issue 10).
    blocks = _merged(busy)
    block_ends = [block.end for block in blocks]
    starts: list[datetime] = []
    for interval in _merged(working):
        for free in _free_parts(interval, blocks, block_ends):
            starts += _aligned_starts(
                interval.start, free, length=length, step=step, not_before=not_before
            )
    return starts


def weekly_series(
    first_start: datetime, *, count: int, every_weeks: int = 1, zone: ZoneInfo
) -> list[datetime]:
    """`count` start instants (aware UTC) of a course of sessions, the first being `first_start`.

    Each later session is at the same LOCAL wall time in `zone`, every `every_weeks` weeks, so
    10:00 in Europe/London stays 10:00 local across daylight-saving changes while its UTC hour
    changes. A wall time that does not exist on a later date moves forward to the end of the gap;
    an ambiguous one takes its first occurrence.

    Raises ValueError when `first_start` is naive or `count` or `every_weeks` is not positive.
    """
    _require_aware(first_start, "first_start")
    _require_positive(count, "count")
    _require_positive(every_weeks, "every_weeks")
    local = first_start.astimezone(zone)
    later = [
        _local_to_utc(local.date() + timedelta(weeks=n * every_weeks), local.time(), zone)
        for n in range(1, count)
    ]
    return [first_start.astimezone(UTC), *later]
