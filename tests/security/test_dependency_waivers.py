"""Waivers of `make dependency-audit` (pip-audit) name a vulnerability, the date it was waived
and why: an undated or unexplained waiver fails the build."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

WAIVERS = Path(__file__).resolve().parents[2] / "dependency-audit-waivers.txt"


def waiver_problems(text: str, *, today: date) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 3:
            problems.append(f"line {number}: needs an id, a date (YYYY-MM-DD) and a reason")
            continue
        vulnerability, waived_on = parts[0], parts[1]
        try:
            waived = date.fromisoformat(waived_on)
        except ValueError:
            problems.append(f"line {number}: {waived_on!r} is not a date (YYYY-MM-DD)")
            continue
        if waived > today:
            problems.append(f"line {number}: {vulnerability} is waived on a future date")
    return problems


def test_every_waiver_has_a_date_and_a_reason():
    assert waiver_problems(WAIVERS.read_text(), today=datetime.now(UTC).date()) == []


@pytest.mark.parametrize(
    "line",
    ["PYSEC-2026-1", "PYSEC-2026-1 soon not-used", "PYSEC-2026-1 2026-01-05", "X 2999-01-01 why"],
)
def test_an_undated_or_unexplained_waiver_is_refused(line):
    assert waiver_problems(line, today=date(2026, 11, 24)) != []
