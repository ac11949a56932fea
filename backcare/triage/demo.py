"""Demo safety screenings: patients whose answers show each kind of triage result, and one
patient on hold with a referral letter to the demo referring clinician, who can clear them."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backcare.core.demo import State
from backcare.patients.models import Patient
from backcare.triage.models import ReferralLetter, TriageAssessment
from backcare.triage.services import record_triage, write_referral_letter

NO = {
    "urinary_retention_or_altered_urine_sensation": False,
    "new_urinary_incontinence": False,
    "bowel_incontinence": False,
    "saddle_numbness": False,
    "new_sexual_dysfunction": False,
    "progressive_leg_weakness_or_foot_drop": False,
    "bilateral_leg_radicular_symptoms": False,
    "new_limb_weakness_or_sensory_loss": False,
    "difficulty_walking": False,
    "radicular_pain": False,
    "history_of_cancer": False,
    "thoracic_spine_pain": False,
    "progressive_pain": False,
    "severe_unremitting_pain": False,
    "pain_on_straining": False,
    "localised_spinal_tenderness": False,
    "night_pain_preventing_sleep": False,
    "unexplained_weight_loss": False,
    "no_improvement_after_4_weeks": False,
    "constant_night_pain_not_eased_by_position": False,
    "major_trauma": False,
    "minor_trauma_or_lift": False,
    "sudden_onset_without_trauma": False,
    "osteoporosis": False,
    "prolonged_corticosteroids": False,
    "fever_or_systemically_unwell": False,
    "iv_drug_use": False,
    "immunosuppression": False,
    "recent_spinal_procedure": False,
    "recent_bacterial_infection": False,
    "sudden_severe_pain_unchanged_by_movement": False,
    "pulsatile_abdominal_mass": False,
    "collapse_or_faintness": False,
    "known_aaa": False,
    "new_or_changed_pain": False,
    "structural_deformity": False,
    "widespread_or_non_dermatomal_neurology": False,
    "ng65_criteria": [],
}

# The patient on hold (history of cancer: RF-MAL-3, refer before massage) whom the demo
# referring clinician referred (patients.demo: every fourth patient from the second).
ON_HOLD = 1

# (patient index in patients.demo.PEOPLE, answers that differ from "no", contraindications)
SCREENINGS: list[tuple[int, dict[str, Any], dict[str, Any]]] = [
    (0, {}, {"disc_herniation_with_radiculopathy": True}),
    (1, {"history_of_cancer": True}, {}),
    (2, {"no_improvement_after_4_weeks": True}, {"anticoagulant_or_bleeding_disorder": True}),
    (4, {"osteoporosis": True, "minor_trauma_or_lift": True}, {"osteoporosis": True}),
    (7, {"no_improvement_after_4_weeks": True}, {}),
    (9, {}, {"recent_surgery_region": "lumbar", "weeks_since_surgery": 3}),
    (14, {}, {"pregnant": True, "gestation_weeks": 24}),
]


def build(state: State) -> None:
    therapist = state["users"]["therapist"]
    for index, yes, conditions in SCREENINGS:
        patient: Patient = state["patients"][index]
        if TriageAssessment.objects.filter(patient=patient).exists():
            continue
        record_triage(
            actor=therapist,
            patient_id=patient.pk,
            answers={**NO, "lbp_onset_age": None, "lbp_duration_months": None, **yes},
            contraindication_answers=conditions,
            assessed_at=timezone.now() - timedelta(days=42),
        )
    _letter_to_the_referrer(state)


def _letter_to_the_referrer(state: State) -> None:
    """A referral letter about the on-hold patient, sent to their referring clinician (a
    BackCare user), with no clearance yet: signed in as the clinician, the demo can clear it."""
    patient: Patient = state["patients"][ON_HOLD]
    if ReferralLetter.objects.filter(patient=patient).exists():
        return
    write_referral_letter(
        actor=state["users"]["therapist"],
        patient_id=patient.pk,
        recipient_name="",
        recipient_address="Bay Street Family Practice\n200 Bay Street\nToronto ON M5J 2J2",
        note="David reports a history of cancer (in remission). Could you review his back pain "
        "before we start massage, and tell us about any restrictions?",
        send_to_referrer=True,
    )
