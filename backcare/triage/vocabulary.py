"""Words for the safety pages: action levels, screening items, techniques, pressure levels and
the re-screen questions, in plain language. The wording is ours; no published questionnaire's
text is used."""

from backcare.clinical.body import CLINICAL_REGIONS

LEVEL_LABELS = {
    "emergency": "Emergency care now",
    "urgent_medical": "See a doctor today",
    "refer_before_massage": "Doctor's review before massage",
    "proceed_with_precautions": "Massage with precautions",
    "proceed": "Massage can go ahead",
    "incomplete": "Safety questions unanswered",
}

# The technique vocabulary of RULES.md §2.1, for clearances that exclude techniques.
TECHNIQUES: tuple[tuple[str, str], ...] = (
    ("swedish", "Swedish or relaxation massage (effleurage, petrissage, tapotement)"),
    ("deep_tissue", "Deep tissue (structural) massage"),
    ("myofascial_release", "Myofascial release"),
    ("trigger_point", "Trigger-point (ischaemic) compression"),
    ("neuromuscular", "Neuromuscular technique"),
    ("instrument_assisted", "Instrument-assisted massage"),
    ("cupping", "Cupping"),
    ("passive_stretching", "Passive stretching"),
)
TECHNIQUE_CODES = frozenset(code for code, _ in TECHNIQUES)
# Elements the contraindication rules exclude that are parts of a technique (RULES.md §2.2).
_ELEMENTS = {
    "tapotement": "Tapotement (percussion)",
    "spinal_mobilisation": "Spinal mobilisation",
    "deep_abdominal_work": "Deep abdominal work",
}
TECHNIQUE_LABELS = dict(TECHNIQUES) | _ELEMENTS

# The Walton pressure scale of RULES.md §2.1 (levels 2 to 4 are graded in between).
PRESSURE_LEVELS: tuple[tuple[int, str], ...] = (
    (0, "0: stationary, weightless hold"),
    (1, "1: light lotioning"),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, "5: deep pressure"),
)

REGION_LABELS = {region.code: region.label for region in CLINICAL_REGIONS}

MASSAGE_LABELS = {
    "proceed": "Massage can go ahead",
    "proceed_with_precautions": "Massage with precautions",
    "postpone": "Postpone: no massage this session",
}
MEDICAL_LABELS = {
    "none": "None",
    "none_unless_red_flag": "None, unless a red flag applies",
    "gp_review": "GP review",
    "urgent_medical": "Same-day medical assessment",
    "emergency": "Emergency care now",
}
POSITION_LABELS = {"side_lying": "Side-lying", "seated": "Seated"}

_WORDS = {
    "aaa": "AAA",
    "dvt": "DVT",
    "iv": "IV",
    "lbp": "back pain",
    "ng65": "NG65",
    "gp": "GP",
}
_ITEMS = {
    "age": "Age",
    "lbp_onset_age": "Age when the back pain started",
    "lbp_duration_months": "How long the back pain has lasted (months)",
    "ng65_criteria": "NG65 inflammatory back pain criteria",
    "no_improvement_after_4_weeks": "No improvement after 4 weeks",
}


def readable(name: str) -> str:
    """An item, condition or code in words ("known_aaa" -> "Known AAA")."""
    if name in _ITEMS:
        return _ITEMS[name]
    if name in TECHNIQUE_LABELS:
        return TECHNIQUE_LABELS[name]
    if name in REGION_LABELS:
        return REGION_LABELS[name]
    words = [_WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# The short re-screen before each visit: (field, question in the patient's words, where the
# answer goes). "triage" feeds a red-flag item, "ci" a contraindication condition.
RESCREEN_QUESTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "urinary_retention_or_altered_urine_sensation",
        "Have you had trouble starting to pass urine, or does it feel different when you pass "
        "urine?",
        (("triage", "urinary_retention_or_altered_urine_sensation"),),
    ),
    (
        "new_urinary_incontinence",
        "Have you started leaking urine without control?",
        (("triage", "new_urinary_incontinence"),),
    ),
    (
        "bowel_incontinence",
        "Have you lost control of your bowels, or soiled yourself without noticing?",
        (("triage", "bowel_incontinence"),),
    ),
    (
        "saddle_numbness",
        "Is there numbness or tingling around your genitals, back passage or inner thighs (the "
        "area you would sit on in a saddle)?",
        (("triage", "saddle_numbness"),),
    ),
    (
        "new_sexual_dysfunction",
        "Have you noticed new changes in sexual function or feeling?",
        (("triage", "new_sexual_dysfunction"),),
    ),
    (
        "progressive_leg_weakness_or_foot_drop",
        "Is weakness in one or both legs getting worse, or does a foot slap or drag when you walk?",
        (("triage", "progressive_leg_weakness_or_foot_drop"),),
    ),
    (
        "bilateral_leg_radicular_symptoms",
        "Do you have pain, pins and needles or numbness going down both legs?",
        (("triage", "bilateral_leg_radicular_symptoms"),),
    ),
    (
        "new_limb_weakness_or_sensory_loss",
        "Have you noticed new weakness or loss of feeling in an arm or a leg?",
        (("triage", "new_limb_weakness_or_sensory_loss"),),
    ),
    (
        "difficulty_walking",
        "Has walking become difficult because your legs feel weak, numb or unsteady?",
        (("triage", "difficulty_walking"),),
    ),
    (
        "fever_or_systemically_unwell",
        "Do you have a fever (38 °C / 100.4 °F or more), chills or night sweats, or do you feel "
        "generally unwell?",
        (("triage", "fever_or_systemically_unwell"), ("ci", "fever")),
    ),
    (
        "unexplained_weight_loss",
        "Have you lost weight without trying?",
        (("triage", "unexplained_weight_loss"),),
    ),
    (
        "major_trauma",
        "Have you had a serious fall or accident, such as a car crash or a fall from a height?",
        (("triage", "major_trauma"),),
    ),
    (
        "minor_trauma_or_lift",
        "Did your back pain start or get worse after a minor fall, a knock or lifting something?",
        (("triage", "minor_trauma_or_lift"),),
    ),
    (
        "night_pain_preventing_sleep",
        "Does pain keep you from sleeping at night?",
        (("triage", "night_pain_preventing_sleep"),),
    ),
    (
        "constant_night_pain_not_eased_by_position",
        "At night, is the pain constant, whatever position you lie in?",
        (("triage", "constant_night_pain_not_eased_by_position"),),
    ),
    (
        "sudden_severe_pain_unchanged_by_movement",
        "Did very severe back or belly pain start suddenly, and does it stay the same whatever "
        "you do?",
        (("triage", "sudden_severe_pain_unchanged_by_movement"),),
    ),
    (
        "collapse_or_faintness",
        "Have you fainted, collapsed or felt faint with this pain?",
        (("triage", "collapse_or_faintness"), ("ci", "collapse_or_faintness")),
    ),
    (
        "pulsatile_abdominal_mass",
        "Have you or a doctor noticed a pulsing lump in your belly?",
        (("triage", "pulsatile_abdominal_mass"), ("ci", "pulsatile_abdominal_mass")),
    ),
    (
        "suspected_dvt",
        "Do you have a swollen, painful, warm or red calf or leg right now?",
        (("ci", "suspected_dvt"),),
    ),
    (
        "dvt_chest_pain_or_breathless",
        "Do you have chest pain or sudden breathlessness right now?",
        (("ci", "dvt_chest_pain_or_breathless"),),
    ),
)


def question_for(item: str) -> str:
    """The re-screen question that asks a red-flag item or condition, or the item in words."""
    for _, text, feeds in RESCREEN_QUESTIONS:
        if any(name == item for _, name in feeds):
            return text
    return readable(item)
