"""Demo intakes: a paper intake sent by the front desk (no flags) and one half entered. The
portal patient's own intake is left for whoever tries the demo. The patients of the past courses
(`outcomes.demo.ANALYTICS_COURSES`) have a paper intake sent the day before their course, with
the cause and the start of their back pain, for the clinic analytics."""

from datetime import timedelta
from typing import Any

from backcare.accounts.models import User
from backcare.core.demo import State
from backcare.intake.forms import STEP_CODES, step_form
from backcare.intake.models import Intake
from backcare.intake.questions import NO, QUESTIONS
from backcare.intake.services import save_answers, start_intake, submit_intake
from backcare.outcomes.demo import ANALYTICS_COURSES
from backcare.patients.models import Patient
from backcare.patients.queries import current_consent_texts


def _answers(today: str) -> dict[str, Any]:
    answers: dict[str, Any] = {q.code: NO for q in QUESTIONS if q.kind in {"tri", "yesno"}}
    answers.update(
        {
            "visit_reason": "Stiff, aching lower back after long days at a desk",
            "cause": "muscle_strain",
            "onset_how": "gradual",
            "first_back_pain_age": "41",
            "pain_started_on": today,
            "pain_regions": ["erector_spinae:left", "erector_spinae:right", "gluteus_medius:left"],
            "pain_now": "4",
            "pain_average": "5",
            "stress": "6",
            "sleep": "4",
            "analgesic_days": "3",
            "psfs_activity_1": "Sitting through a working day",
            "psfs_rating_1": "4",
            "goals": "Work a full day without back ache",
            "pressure": "3",
            "answers_true": True,
        }
    )
    return answers


# Past-course patient: (cause, weeks the back pain had lasted when the course started).
ANALYTICS_INTAKES = {
    10: ("muscle_strain", 104),
    11: ("muscle_strain", 2),
    12: ("unknown", 60),
    13: ("disc_herniation", 30),
    14: ("muscle_strain", 3),
    15: ("unknown", 150),
    16: ("disc_herniation", 20),
    17: ("muscle_strain", 1),
    18: ("unknown", 80),
    19: ("muscle_strain", 8),
    20: ("unknown", 40),
    21: ("muscle_strain", 4),
}


def build(state: State) -> None:
    patients: list[Patient] = state["patients"]
    sent, half = patients[5], patients[3]
    frontdesk = state["users"]["frontdesk"]
    if not Intake.objects.filter(patient=sent).exists():
        _send_paper(frontdesk, sent)
    _analytics_intakes(state)
    if not Intake.objects.filter(patient=half).exists():
        intake = start_intake(actor=frontdesk, patient_id=half.pk)
        save_answers(
            actor=frontdesk,
            intake_id=intake.pk,
            answers={"visit_reason": "Sciatica down the right leg", "cause": "sciatica"},
        )


def _analytics_intakes(state: State) -> None:
    frontdesk = state["users"]["frontdesk"]
    for course in ANALYTICS_COURSES:
        patient: Patient = state["patients"][course.patient]
        if Intake.objects.filter(patient=patient).exists():
            continue
        cause, weeks = ANALYTICS_INTAKES[course.patient]
        start = course.starts_at(patient.clinic)
        pain_started = (start - timedelta(weeks=weeks)).date().isoformat()
        _send_paper(frontdesk, patient, pain_started_on=pain_started, cause=cause)
        # Sent the day before the course started (the answers themselves are dated today).
        sent_at = start - timedelta(days=1)
        Intake.objects.filter(patient=patient).update(saved_at=sent_at, submitted_at=sent_at)


def _send_paper(user: User, patient: Patient, **changes: str) -> None:
    today = patient.clinic.local_date()
    answers = _answers(today.replace(day=1).isoformat()) | changes
    texts = current_consent_texts(patient.clinic)
    answers.update({f"consent_{t.pk}": True for t in texts})
    intake = start_intake(actor=user, patient_id=patient.pk)
    save_answers(actor=user, intake_id=intake.pk, answers=answers)
    cleaned: dict[str, Any] = {}
    for step in STEP_CODES:
        form = step_form(step, data=answers, today=today, consent_texts=texts)
        if not form.is_valid():
            raise ValueError(f"Demo intake step {step}: {form.errors.as_text()}")
        cleaned.update(form.cleaned_data)
    submit_intake(actor=user, intake_id=intake.pk, cleaned=cleaned)
