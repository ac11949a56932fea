"""Which questionnaires are due for a patient, and why: the collection schedule of issue 7 and
the analytics anchors of RULES.md §5.

- Baseline at intake: any scheduled measure never taken is due.
- Disability (RMDQ, or ODI when the clinic uses it), stress, sleep and pain-medicine use every
  4 weeks while care goes on, and at the end of the course.
- PSFS at each re-assessment point of the plan (e.g. session 5 and the end: Cherkin 2011's
  time-points, RULES.md §5), once the session that reaches it has taken place.
- Pain NRS is asked at every visit (the visit note) and in the check-in after it, not here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

SCHEDULE_VERSION = "backcare-collection-1 (issue 7; RULES.md §5)"
EVERY_DAYS = 28
PERIODIC = ("stress_nrs", "sleep_nrs", "analgesic_days")


@dataclass(frozen=True)
class Due:
    """A questionnaire due now and the reason, in words for the patient."""

    instrument: str
    reason: str


@dataclass(frozen=True)
class CareSoFar:
    """What the schedule needs to know. `session_dates`: attended sessions, oldest first;
    `course_ended`: the plan's last session has taken place (or the plan ended)."""

    today: date
    last_taken: Mapping[str, date]
    session_dates: Sequence[date] = ()
    reassess_at_sessions: Sequence[int] = ()
    course_ended: bool = False
    disability: str = "rmdq"


def due_questionnaires(care: CareSoFar) -> tuple[Due, ...]:
    """The questionnaires due on `care.today`, in a fixed order (disability, stress, sleep,
    medicine use, PSFS), each with its reason. Raises ValueError for an unknown disability
    instrument."""
    if care.disability not in ("rmdq", "odi"):
        raise ValueError("disability must be rmdq or odi")
    found = [
        due
        for instrument in (care.disability, *PERIODIC)
        if (due := _periodic(instrument, care)) is not None
    ]
    psfs = _psfs(care)
    return (*found, *((psfs,) if psfs else ()))


def _periodic(instrument: str, care: CareSoFar) -> Due | None:
    last = care.last_taken.get(instrument)
    if last is None:
        return Due(instrument, "Not answered yet: your starting point.")
    final = care.session_dates[-1] if care.session_dates else None
    if care.course_ended and final is not None and last < final:
        return Due(instrument, "Your course has ended: how are things now?")
    if (care.today - last).days >= EVERY_DAYS and not care.course_ended:
        return Due(instrument, "Four weeks since you last answered.")
    return None


def _psfs(care: CareSoFar) -> Due | None:
    attended = len(care.session_dates)
    reached = [n for n in care.reassess_at_sessions if 1 <= n <= attended]
    if not reached:
        return None
    point = max(reached)
    since = care.session_dates[point - 1]
    last = care.last_taken.get("psfs")
    if last is not None and last >= since:
        return None
    return Due("psfs", f"Re-assessment after session {point}: your chosen activities.")
