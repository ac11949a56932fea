"""Demo outcome measurements: a baseline six weeks ago and follow-ups for several patients
(Maria's pain at each session comes from her signed visit notes, visits.demo)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

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
