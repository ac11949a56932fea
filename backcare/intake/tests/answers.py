"""A complete intake of a patient with no red flags, step by step as the form posts it."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backcare.intake.questions import NO, QUESTIONS


def clean_intake(**changes: Any) -> dict[str, dict[str, Any]]:
    """Every step's POST data: no flags, no conditions; `changes` override single fields."""
    steps: dict[str, dict[str, Any]] = {
        "back": {
            "visit_reason": "Lower back pain after gardening",
            "cause": "muscle_strain",
            "onset_how": "minor",
            "first_back_pain_age": "38",
            "pain_started_on": (timezone.localdate() - timedelta(days=35)).isoformat(),
            "pain_regions": ["erector_spinae:left", "quadratus_lumborum:left"],
        },
        "safety": {},
        "history": {"medications": "Paracetamol when needed"},
        "conditions": {},
        "questionnaires": {
            "pain_now": "5",
            "pain_average": "6",
            "stress": "4",
            "sleep": "3",
            "analgesic_days": "2",
            "psfs_activity_1": "Gardening",
            "psfs_rating_1": "3",
        },
        "goals": {"goals": "Garden without pain", "pressure": "3"},
        "consent": {"answers_true": "on"},
    }
    for question in QUESTIONS:
        if question.kind in {"tri", "yesno"}:
            steps[question.step][question.code] = NO
    for name, value in changes.items():
        step = next((s for s, data in steps.items() if name in data), None)
        if step is None:
            step = next(q.step for q in QUESTIONS if q.code == name)
        steps[step][name] = value
    return steps
