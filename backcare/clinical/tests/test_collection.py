"""The collection schedule (issue 7: every 4 weeks and at the end of the course; PSFS at the
plan's re-assessment points, RULES.md §5 after Cherkin 2011)."""

from datetime import date, timedelta

import pytest

from backcare.clinical.collection import CareSoFar, due_questionnaires

TODAY = date(2026, 11, 24)


def _days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


ALL_RECENT = {i: _days_ago(3) for i in ("rmdq", "stress_nrs", "sleep_nrs", "analgesic_days")}


@pytest.mark.parametrize(
    ("care", "expected"),
    [
        # Nothing answered: the baseline of every scheduled measure.
        (
            CareSoFar(TODAY, {}),
            ["rmdq", "stress_nrs", "sleep_nrs", "analgesic_days"],
        ),
        # All answered 3 days ago: nothing due.
        (CareSoFar(TODAY, ALL_RECENT), []),
        # 27 days: not yet; 28 days: due (every 4 weeks).
        (CareSoFar(TODAY, ALL_RECENT | {"stress_nrs": _days_ago(27)}), []),
        (CareSoFar(TODAY, ALL_RECENT | {"stress_nrs": _days_ago(28)}), ["stress_nrs"]),
        # The clinic uses the ODI: it replaces the RMDQ.
        (CareSoFar(TODAY, ALL_RECENT, disability="odi"), ["odi"]),
        # End of course: everything answered before the last session is due again.
        (
            CareSoFar(
                TODAY,
                {i: _days_ago(10) for i in ALL_RECENT},
                session_dates=(_days_ago(20), _days_ago(2)),
                course_ended=True,
            ),
            ["rmdq", "stress_nrs", "sleep_nrs", "analgesic_days"],
        ),
        # PSFS at a re-assessment point once that session has taken place, not before.
        (
            CareSoFar(
                TODAY, ALL_RECENT, session_dates=(_days_ago(30),) * 4, reassess_at_sessions=(5, 10)
            ),
            [],
        ),
        (
            CareSoFar(
                TODAY,
                ALL_RECENT | {"psfs": _days_ago(40)},
                session_dates=tuple(_days_ago(n) for n in (40, 30, 20, 10, 2)),
                reassess_at_sessions=(5, 10),
            ),
            ["psfs"],
        ),
        # ... and answered after that session: done.
        (
            CareSoFar(
                TODAY,
                ALL_RECENT | {"psfs": _days_ago(1)},
                session_dates=tuple(_days_ago(n) for n in (40, 30, 20, 10, 2)),
                reassess_at_sessions=(5, 10),
            ),
            [],
        ),
    ],
)
def test_what_is_due(care, expected):
    assert [due.instrument for due in due_questionnaires(care)] == expected


def test_each_due_says_why_in_plain_words():
    care = CareSoFar(TODAY, ALL_RECENT | {"sleep_nrs": _days_ago(30)})
    [due] = due_questionnaires(care)
    assert due.reason == "Four weeks since you last answered."


def test_an_unknown_disability_instrument_is_refused():
    with pytest.raises(ValueError, match="rmdq or odi"):
        due_questionnaires(CareSoFar(TODAY, {}, disability="pain"))
