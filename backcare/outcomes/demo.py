"""Demo outcome measurements: a baseline six weeks ago and follow-ups for several patients
(Maria's pain at each session comes from her signed visit notes, visits.demo); and the answers
of the past courses that give the clinic analytics something to show (`ANALYTICS_COURSES`,
whose plans, sessions and notes the plans, scheduling and visits demos write)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.core.demo import State
from backcare.outcomes.models import OutcomeMeasurement
from backcare.outcomes.services import record_measurement

# (patient index, weeks ago, instrument, answers)
MEASUREMENTS: list[tuple[int, int, str, dict[str, Any]]] = [
    (0, 6, "pain_nrs", {"now": 7, "average": 6, "worst": 8}),
    (0, 6, "rmdq", {"ticked_items": [1, 2, 3, 5, 8, 11, 13, 15, 18, 21, 22]}),
    (0, 6, "stress_nrs", {"stress": 6}),
    (0, 6, "sleep_nrs", {"sleep": 7}),
    (0, 6, "analgesic_days", {"days": 5}),
    (0, 1, "rmdq", {"ticked_items": [2, 5, 11, 18, 21]}),
    (2, 6, "pain_nrs", {"now": 6, "average": 6, "worst": 7}),
    (2, 6, "psfs", {"ratings": [3, 4, 2]}),
    (2, 1, "pain_nrs", {"now": 5, "average": 5, "worst": 6}),
    (2, 1, "psfs", {"ratings": [5, 6, 4]}),
    (7, 6, "schober", {"flexed_span_cm": "18.5"}),
    (7, 1, "schober", {"flexed_span_cm": "20.5"}),
    (7, 6, "fingertip_floor", {"distance_cm": 24}),
    (7, 1, "fingertip_floor", {"distance_cm": 12}),
]


def build(state: State) -> None:
    therapist = state["users"]["therapist"]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for index, weeks, instrument, answers in MEASUREMENTS:
        patient = state["patients"][index]
        measured_at = now - timedelta(weeks=weeks)
        if OutcomeMeasurement.objects.filter(
            patient=patient, instrument=instrument, measured_at__date=measured_at.date()
        ).exists():
            continue
        record_measurement(
            actor=therapist,
            patient_id=patient.pk,
            instrument=instrument,
            answers=answers,
            measured_at=measured_at,
            method="therapist" if instrument in {"schober", "fingertip_floor"} else "paper",
        )
    _analytics_answers(state)


@dataclass(frozen=True)
class DemoCourse:
    """A past course of one demo patient: started `weeks_ago` (at 08:00), `attended` weekly
    sessions of `planned` (from 09:00, 90 minutes apart per therapist, so none overlap), ended
    or not, its technique and therapist (demo login), and (baseline, follow-up) scores, the
    follow-up taken at the last session (None: never answered again)."""

    patient: int
    weeks_ago: int
    planned: int
    attended: int
    ended: bool
    technique: str
    therapist: str
    pain: tuple[int, int | None] | None
    rmdq: tuple[int, int | None] | None
    analgesic_days: tuple[int, int | None] | None
    risk: str | None
    adverse_at_session: int | None = None

    def starts_at(self, clinic: Clinic) -> datetime:
        day = clinic.local_date() - timedelta(weeks=self.weeks_ago)
        return datetime.combine(day, time(8)).replace(tzinfo=clinic.zone)

    def session_at(self, clinic: Clinic, number: int) -> datetime:
        day = clinic.local_date() - timedelta(weeks=self.weeks_ago - number)
        # 90 minutes apart per therapist (a session and its buffer take 75), from 09:00.
        same = [c.patient for c in ANALYTICS_COURSES if c.therapist == self.therapist]
        at = datetime.combine(day, time(9)) + timedelta(minutes=90 * same.index(self.patient))
        return at.replace(tzinfo=clinic.zone)


# Twelve courses: completed, stopped early (with and without a later answer), one with a first
# answer only, one under way; three techniques, three therapists, every STarT Back band.
ANALYTICS_COURSES = (
    DemoCourse(10, 30, 6, 6, True, "swedish", "therapist", (7, 3), (12, 6), (5, 2), "low", 0),
    DemoCourse(11, 29, 6, 6, True, "swedish", "therapist", (6, 5), (10, 8), (3, 3), "low"),
    DemoCourse(12, 28, 6, 6, True, "deep_tissue", "therapist2", (8, 4), (15, 9), (6, 3), "medium"),
    DemoCourse(13, 27, 6, 2, True, "swedish", "therapist2", (7, None), (14, None), None, "high"),
    DemoCourse(
        14, 26, 6, 6, True, "myofascial_release", "therapist", (5, 2), (8, 3), (2, 0), "low"
    ),
    DemoCourse(15, 25, 6, 6, True, "swedish", "therapist3", (6, 3), (11, 7), (4, 1), "medium"),
    DemoCourse(
        16, 24, 6, 3, True, "deep_tissue", "therapist", (7, 6), (13, 12), (5, 4), "medium", 1
    ),
    DemoCourse(17, 22, 6, 6, True, "swedish", "therapist2", (4, 2), (6, 2), (1, 0), "low"),
    DemoCourse(18, 20, 6, 6, True, "swedish", "therapist", (9, 5), (18, 12), (7, 4), "high"),
    DemoCourse(
        19, 18, 6, 6, True, "myofascial_release", "therapist3", (6, 4), (9, 6), (3, 2), "low"
    ),
    DemoCourse(20, 16, 6, 1, True, "swedish", "therapist2", (8, None), None, None, None),
    DemoCourse(21, 3, 6, 2, False, "swedish", "therapist", (7, 5), (12, None), (4, None), "medium"),
)
START_BACK_ANSWERS = {
    "low": {**{f"q{n}": 0 for n in range(1, 9)}, "q9": "not_at_all"},
    "medium": {**{f"q{n}": int(n <= 4) for n in range(1, 9)}, "q9": "slightly"},
    "high": {**{f"q{n}": int(n == 1 or n >= 5) for n in range(1, 9)}, "q9": "very_much"},
}


def _analytics_answers(state: State) -> None:
    clinic: Clinic = state["clinic"]
    therapist = state["users"]["therapist"]
    for course in ANALYTICS_COURSES:
        patient = state["patients"][course.patient]
        start = course.starts_at(clinic)
        end = course.session_at(clinic, course.attended - 1) + timedelta(hours=2)
        answers: list[tuple[datetime, str, dict[str, Any]]] = []
        if course.risk:
            answers.append((start, "start_back", START_BACK_ANSWERS[course.risk]))
        for instrument, scores in (
            ("pain_nrs", course.pain),
            ("rmdq", course.rmdq),
            ("analgesic_days", course.analgesic_days),
        ):
            for when, value in zip((start, end), scores or (), strict=False):
                if value is None:
                    continue
                answers.append((when, instrument, _answer(instrument, value)))
        for when, instrument, given in answers:
            if OutcomeMeasurement.objects.filter(
                patient=patient, instrument=instrument, measured_at=when
            ).exists():
                continue
            record_measurement(
                actor=therapist,
                patient_id=patient.pk,
                instrument=instrument,
                answers=given,
                measured_at=when,
                method="paper",
            )


def _answer(instrument: str, value: int) -> dict[str, Any]:
    if instrument == "pain_nrs":
        return {"now": value}
    if instrument == "rmdq":
        return {"ticked_items": list(range(1, value + 1))}
    return {"days": value}
