"""Demo safety screenings: patients whose answers show each kind of triage result."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from backcare.core.demo import State
from backcare.patients.models import Patient
from backcare.triage.models import TriageAssessment
from backcare.triage.services import record_triage

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
