"""Follow-ups after a course and how long relief lasts (issue 7, recurrence). Relief is judged by
`clinical.change` on pain NRS: primary responder = >= 30 % improvement (RULES.md §3.4, Ostelo
2008 / Farrar 2001); monthly follow-ups for 6 months (RULES.md §5, Cherkin 2011: benefit lasting
at least 6 months)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backcare.clinical.change import thresholds_with
from backcare.clinical.recurrence import (
    FollowUpPoint,
    follow_up_dates,
    relief_after_course,
)

END = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        (date(2026, 3, 1), ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01",
                            "2026-08-01", "2026-09-01"]),
        # The 31st: shorter months take their last day; the year turns.
        (date(2026, 8, 31), ["2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31",
                             "2027-01-31", "2027-02-28"]),
        # Leap year: 29 February exists in 2028.
        (date(2027, 9, 29), ["2027-10-29", "2027-11-29", "2027-12-29", "2028-01-29",
                             "2028-02-29", "2028-03-29"]),
    ],
)  # fmt: skip
def test_follow_ups_are_monthly_for_six_months(ended, expected):
    assert [d.isoformat() for d in follow_up_dates(ended)] == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
def test_follow_ups_are_six_increasing_dates_within_about_a_month_of_each_other(ended):
    found = follow_up_dates(ended)
    assert len(found) == 6
    gaps = [(b - a).days for a, b in zip((ended, *found), found, strict=False)]
    assert all(28 <= gap <= 31 for gap in gaps)


def _pt(month: int, pain: int | None = None, flare: bool | None = None) -> FollowUpPoint:
    return FollowUpPoint(on=date(2026, month, 1), pain=pain, flare_up=flare)


@pytest.mark.parametrize(
    ("baseline", "end", "after", "days", "holding", "why"),
    [
        # 7 -> 4 is 43 %: relief; pain stays at 4 then 3: still holding at the last follow-up.
        (7, 4, [_pt(4, 4), _pt(5, 3)], 61, True, ""),
        # Pain 5 at the second follow-up is 29 % below 7: no longer important. Lost then.
        (7, 4, [_pt(4, 4), _pt(5, 5)], 61, False, "pain back near where it started"),
        # A flare-up reported ends relief even with a low rating that day.
        (7, 4, [_pt(4, 3, flare=False), _pt(6, 2, flare=True)], 92, False, "a flare-up"),
        # A follow-up saying only "no flare-up" extends the known relief.
        (7, 4, [_pt(4, flare=False)], 31, True, ""),
        # The same day: the flare-up is the reason given, not the pain rating.
        (7, 4, [_pt(4, 6), _pt(4, flare=True)], 31, False, "a flare-up"),
        # Order of the points does not matter.
        (7, 4, [_pt(5, 5), _pt(4, 4)], 61, False, "pain back near where it started"),
        # Nothing heard yet: holding, 0 days known.
        (7, 4, [], 0, True, ""),
        # Points on or before the end are not "after".
        (7, 4, [FollowUpPoint(END, pain=9)], 0, True, ""),
    ],
)
def test_relief_lasts_until_a_flare_up_or_pain_returns(baseline, end, after, days, holding, why):
    relief = relief_after_course(
        course_ended=END, baseline_pain=baseline, end_pain=end, after=after
    )
    assert relief is not None
    assert (relief.days, relief.holding, relief.why) == (days, holding, why)
    assert relief.lost_on == (None if holding else END + timedelta(days=days))


@pytest.mark.parametrize(
    ("baseline", "end"),
    [
        (7, 5),  # 29 %: not an important improvement (RULES.md §3.4: >= 30 %)
        (0, 0),  # baseline 0: percent undefined, so no responder
        (4, 6),  # worse
    ],
)
def test_no_relief_to_last_when_the_course_did_not_bring_an_important_improvement(baseline, end):
    assert (
        relief_after_course(course_ended=END, baseline_pain=baseline, end_pain=end, after=[])
        is None
    )


def test_relief_uses_the_clinics_thresholds():
    # With a 20 % threshold, 7 -> 5 (29 %) is relief.
    lenient = thresholds_with("pain_nrs", pct=20)
    relief = relief_after_course(
        course_ended=END, baseline_pain=7, end_pain=5, after=[_pt(4, 5)], thresholds=lenient
    )
    assert relief is not None
    assert relief.holding
    assert relief.days == 31
    assert relief.weeks == 4
