"""After a course ends: when to ask how the back is (follow-up check-ins) and how long relief
has lasted (issue 7, recurrence).

- Follow-ups: monthly for 6 months after the course's end, on the same day of the month (the
  month's last day when it is shorter). Cherkin 2011 found benefits lasting at least 6 months
  (RULES.md §5), so this is the window in which a return of pain tells the clinic something.
- Relief at the end of the course: pain NRS at the end is an important improvement over the
  baseline, as the clinical core's `change` judges it with the clinic's thresholds (no second
  rule here).
- Relief is lost at the first of: a flare-up (reported by the patient at a follow-up, or
  recorded by staff), or a follow-up pain rating that is no longer an important improvement
  over the baseline. Until then it lasts; when nothing has ended it, it has lasted at least up
  to the latest follow-up. On one day, a flare-up is taken before a pain rating.
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from backcare.clinical.change import Thresholds, change

RECURRENCE_VERSION = "backcare-recurrence-1 (issue 7; RULES.md §3.4, §5)"
FOLLOW_UP_MONTHS = 6


def follow_up_dates(course_ended: date, months: int = FOLLOW_UP_MONTHS) -> tuple[date, ...]:
    """The dates of the follow-up check-ins after a course that ended on `course_ended`: the
    same day of each of the next `months` months, or that month's last day."""
    found = []
    for step in range(1, months + 1):
        year, month = divmod(course_ended.month - 1 + step, 12)
        year, month = course_ended.year + year, month + 1
        day = min(course_ended.day, calendar.monthrange(year, month)[1])
        found.append(date(year, month, day))
    return tuple(found)


@dataclass(frozen=True)
class FollowUpPoint:
    """What is known on one day after the course: a pain rating (0-10) or None, and whether a
    flare-up was reported (True), denied (False) or not asked (None)."""

    on: date
    pain: int | None = None
    flare_up: bool | None = None


@dataclass(frozen=True)
class Relief:
    """How long relief has lasted since `course_ended`. `holding`: nothing has ended it yet
    (then `days` runs to the latest follow-up, a lower bound). `lost_on` and `why` say when
    and why it ended."""

    course_ended: date
    days: int
    holding: bool
    lost_on: date | None = None
    why: str = ""

    @property
    def weeks(self) -> int:
        """Whole weeks of `days`."""
        return self.days // 7


def relief_after_course(
    *,
    course_ended: date,
    baseline_pain: int,
    end_pain: int,
    after: Sequence[FollowUpPoint],
    thresholds: Thresholds | None = None,
) -> Relief | None:
    """How long relief has lasted after a course, or None when the course ended without an
    important improvement in pain (nothing to last). `after`: what was learnt after
    `course_ended`, in any order; points on or before that day are ignored."""
    if not change("pain_nrs", baseline_pain, end_pain, thresholds).responder:
        return None
    last_seen = course_ended
    # Same day: a reported flare-up is the more telling reason, so it comes first.
    ordered = sorted(
        (p for p in after if p.on > course_ended), key=lambda p: (p.on, not p.flare_up)
    )
    for point in ordered:
        if point.flare_up:
            return _lost(course_ended, point.on, "a flare-up")
        if point.pain is not None:
            if not change("pain_nrs", baseline_pain, point.pain, thresholds).responder:
                return _lost(course_ended, point.on, "pain back near where it started")
            last_seen = point.on
        elif point.flare_up is False:
            last_seen = point.on
    return Relief(course_ended, (last_seen - course_ended).days, holding=True)


def _lost(course_ended: date, on: date, why: str) -> Relief:
    return Relief(course_ended, (on - course_ended).days, holding=False, lost_on=on, why=why)
