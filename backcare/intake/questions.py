"""The intake's questions in plain patient wording, and how the answers reach the rules.

Every data item of the red-flag rules (RULES.md §1.2) and of the contraindication table (§2.2)
is either asked by a question here (`Question.feeds`) or derived from answers (`DERIVED`); a
test checks both lists against the clinical core. "Not sure" on a safety question is kept as
unanswered (None), never as "no" (RULES.md §0.2). The wording is ours; no proprietary
questionnaire text is used.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from backcare.clinical.body import CLINICAL_REGIONS
from backcare.clinical.numbers import months_between
from backcare.clinical.red_flags import NG65_CRITERIA

YES, NO, NOT_SURE = "yes", "no", "not_sure"

# What a rule item receives from an answer: "triage" (red flags) or "ci" (contraindications).
Feed = tuple[str, str]


@dataclass(frozen=True)
class Question:
    """One intake question: its field name, step, kind, wording and the rule items it feeds.

    Kinds: "tri" (yes / no / not sure), "yesno", "region" (one clinical region), "regions"
    (several), "weeks" (whole weeks 0-520), "number" (`low`-`high`), "choices" (several of
    `options`), "text".
    """

    code: str
    step: str
    kind: str
    text: str
    feeds: tuple[Feed, ...] = ()
    help: str = ""
    group: str = ""
    options: tuple[tuple[str, str], ...] = ()
    low: int = 0
    high: int = 0
    required: bool = True


def _tri(code: str, text: str, group: str, *feeds: Feed, help: str = "") -> Question:
    return Question(code, "safety", "tri", text, feeds or (("triage", code),), help, group)


def _history(code: str, text: str, *feeds: Feed, help: str = "") -> Question:
    return Question(code, "history", "tri", text, feeds or (("triage", code),), help, "history")


def _ci(code: str, text: str, group: str, kind: str = "yesno", help: str = "") -> Question:
    return Question(
        code, "conditions", kind, text, (("ci", code),), help, group, required=kind == "yesno"
    )


URGENT = "Sudden changes: if any of these is happening now, tell us"
NERVES = "Legs and nerves"
PAIN = "About the pain"
ABDOMEN = "Belly and circulation"

SAFETY_QUESTIONS: tuple[Question, ...] = (
    _tri(
        "urinary_retention_or_altered_urine_sensation",
        "Have you recently had trouble starting to pass urine, or does it feel different when "
        "you pass urine?",
        URGENT,
    ),
    _tri(
        "new_urinary_incontinence",
        "Have you recently started leaking urine without control?",
        URGENT,
    ),
    _tri(
        "bowel_incontinence",
        "Have you recently lost control of your bowels, or soiled yourself without noticing?",
        URGENT,
    ),
    _tri(
        "saddle_numbness",
        "Is there numbness or tingling around your genitals, back passage or inner thighs "
        "(the area you would sit on in a saddle)?",
        URGENT,
    ),
    _tri(
        "new_sexual_dysfunction",
        "Have you noticed new changes in sexual function or feeling that began with your back "
        "pain?",
        URGENT,
    ),
    _tri(
        "progressive_leg_weakness_or_foot_drop",
        "Is weakness in one or both legs getting worse, or does a foot slap or drag when you walk?",
        NERVES,
    ),
    _tri(
        "bilateral_leg_radicular_symptoms",
        "Do you have pain, pins and needles or numbness going down BOTH legs?",
        NERVES,
    ),
    _tri(
        "new_limb_weakness_or_sensory_loss",
        "Have you noticed new weakness or loss of feeling in an arm or a leg?",
        NERVES,
    ),
    _tri(
        "difficulty_walking",
        "Has walking become difficult because your legs feel weak, numb or unsteady?",
        NERVES,
    ),
    _tri(
        "radicular_pain",
        "Does pain spread from your back down one leg, below the knee?",
        NERVES,
        ("triage", "radicular_pain"),
    ),
    _tri(
        "widespread_or_non_dermatomal_neurology",
        "Do you have numbness or weakness in several different places in your body?",
        NERVES,
    ),
    _tri(
        "fever_or_systemically_unwell",
        "Do you have a fever (38 °C / 100.4 °F or more), chills or night sweats, or do you "
        "feel generally unwell?",
        PAIN,
        ("triage", "fever_or_systemically_unwell"),
        ("ci", "fever"),
    ),
    _tri(
        "unexplained_weight_loss",
        "Have you lost weight recently without trying?",
        PAIN,
    ),
    _tri(
        "thoracic_spine_pain",
        "Is the pain in your upper or middle back (between or below the shoulder blades)?",
        PAIN,
    ),
    _tri("progressive_pain", "Is the pain steadily getting worse week by week?", PAIN),
    _tri(
        "severe_unremitting_pain",
        "Is the pain severe and constant, without any let-up?",
        PAIN,
    ),
    _tri(
        "pain_on_straining",
        "Does the pain get much worse when you cough, sneeze or strain on the toilet?",
        PAIN,
    ),
    _tri(
        "localised_spinal_tenderness",
        "Is there one spot on your spine that is very tender when pressed?",
        PAIN,
    ),
    _tri(
        "night_pain_preventing_sleep",
        "Does the pain stop you from sleeping at night?",
        PAIN,
    ),
    _tri(
        "constant_night_pain_not_eased_by_position",
        "At night, is the pain constant even when you change position?",
        PAIN,
    ),
    _tri(
        "no_improvement_after_4_weeks",
        "Has the pain stayed the same or got worse over 4 weeks or more of having it?",
        PAIN,
    ),
    _tri(
        "structural_deformity",
        "Has the shape of your back changed recently (for example a new curve or hump)?",
        PAIN,
    ),
    _tri(
        "sudden_severe_pain_unchanged_by_movement",
        "Did very severe back or belly pain start suddenly, and does it stay the same whatever "
        "you do?",
        ABDOMEN,
    ),
    _tri(
        "collapse_or_faintness",
        "Have you fainted, collapsed or felt faint with this pain?",
        ABDOMEN,
        ("triage", "collapse_or_faintness"),
        ("ci", "collapse_or_faintness"),
    ),
    _tri(
        "pulsatile_abdominal_mass",
        "Have you or a doctor noticed a pulsing lump in your belly?",
        ABDOMEN,
        ("triage", "pulsatile_abdominal_mass"),
        ("ci", "pulsatile_abdominal_mass"),
    ),
)

HISTORY_QUESTIONS: tuple[Question, ...] = (
    _history(
        "history_of_cancer", "Have you ever had cancer, even if it was treated or is in remission?"
    ),
    _history(
        "osteoporosis",
        "Have you been told you have osteoporosis (thin or fragile bones)?",
        ("triage", "osteoporosis"),
        ("ci", "osteoporosis"),
    ),
    _history(
        "prolonged_corticosteroids",
        "Have you taken steroid tablets or injections (such as prednisolone) for 3 months or more?",
    ),
    _history("iv_drug_use", "Have you ever injected drugs that were not prescribed to you?"),
    _history(
        "immunosuppression",
        "Does an illness or a medicine weaken your immune system (for example chemotherapy, "
        "transplant medicines, HIV)?",
    ),
    _history(
        "recent_spinal_procedure",
        "Have you had an operation or an injection in your spine in the last 3 months?",
    ),
    _history(
        "recent_bacterial_infection",
        "Have you had a bacterial infection (such as a urine or skin infection) in the last few "
        "weeks?",
    ),
    _history(
        "known_aaa",
        "Have you been told you have an aortic aneurysm (a widened main blood vessel in the "
        "belly)?",
        ("triage", "known_aaa"),
        ("ci", "known_aaa"),
    ),
    _history(
        "new_or_changed_pain",
        "Is your back or belly pain new, or different from your usual pain?",
        ("triage", "new_or_changed_pain"),
        ("ci", "new_or_changed_pain"),
    ),
)

NG65_LABELS: dict[str, str] = {
    "wakes_second_half_of_night": "The pain wakes me in the second half of the night",
    "buttock_pain": "I have pain in the buttocks, sometimes on one side, sometimes the other",
    "improves_with_movement": "The pain gets better when I move and worse when I rest",
    "improves_with_nsaids_48h": "Anti-inflammatory painkillers (such as ibuprofen) help "
    "within 2 days",
    "first_degree_relative_spa": "A parent, brother, sister or child has spondyloarthritis "
    "(such as ankylosing spondylitis)",
    "current_or_past_arthritis": "I have or have had arthritis in other joints",
    "enthesitis": "I have or have had painful swelling where tendons attach to bone (such as "
    "the heel)",
    "psoriasis": "I have or have had psoriasis",
}
assert set(NG65_LABELS) | {"onset_before_35"} == NG65_CRITERIA

ONSET_CHOICES = (
    ("gradual", "It came on gradually"),
    ("minor", "After lifting, bending or a minor fall"),
    ("major", "After a serious fall, a road accident or another major injury"),
    ("sudden", "Suddenly, without any injury"),
    ("unknown", "I don't know"),
)

BACK_QUESTIONS: tuple[Question, ...] = (
    Question(
        "onset_how",
        "back",
        "onset",
        "How did this back pain start?",
        (
            ("triage", "major_trauma"),
            ("triage", "minor_trauma_or_lift"),
            ("triage", "sudden_onset_without_trauma"),
        ),
        options=ONSET_CHOICES,
    ),
    Question(
        "first_back_pain_age",
        "back",
        "number",
        "How old were you when you first had back pain?",
        (("triage", "lbp_onset_age"),),
        "Your best guess is fine.",
        low=0,
        high=120,
        required=False,
    ),
    Question(
        "pain_started_on",
        "back",
        "date",
        "When did this episode of back pain start?",
        (("triage", "lbp_duration_months"),),
        "An approximate date is fine.",
    ),
    Question(
        "ng65_criteria",
        "back",
        "choices",
        "Do any of these apply to you? Tick all that do.",
        (("triage", "ng65_criteria"),),
        "Leave all unticked if none apply.",
        options=tuple(NG65_LABELS.items()),
        required=False,
    ),
)

REGION_OPTIONS = tuple((r.code, r.label) for r in CLINICAL_REGIONS)
LIMB_OPTIONS = tuple(
    (r.code, r.label) for r in CLINICAL_REGIONS if r.code.startswith(("arm_", "leg_"))
)
BLOOD = "Blood clots and circulation"
CANCER = "Cancer"
INJURY = "Recent injuries, operations and skin"
PREGNANCY = "Pregnancy, and warning signs that need a doctor soon"
OTHER = "Other conditions"

CONDITION_QUESTIONS: tuple[Question, ...] = (
    _ci(
        "suspected_dvt", "Do you have a swollen, painful, warm or red calf or leg right now?", BLOOD
    ),
    _ci(
        "dvt_chest_pain_or_breathless",
        "Do you have chest pain or sudden breathlessness right now?",
        BLOOD,
    ),
    _ci("diagnosed_dvt_on_treatment", "Are you being treated for a blood clot (DVT)?", BLOOD),
    _ci("dvt_limb", "If so, which limb has the clot?", BLOOD, "region"),
    _ci(
        "anticoagulant_or_bleeding_disorder",
        "Do you take blood thinners (such as warfarin, apixaban or rivaroxaban), or do you bruise "
        "or bleed easily?",
        BLOOD,
    ),
    _ci(
        "varicose_vein_regions", "Where do you have varicose veins, if anywhere?", BLOOD, "regions"
    ),
    _ci("uncontrolled_hypertension", "Is your blood pressure high and not under control?", BLOOD),
    _ci(
        "unstable_cardiac_disease",
        "Do you have a heart condition that is not stable (new or worsening chest pain, "
        "breathlessness or palpitations)?",
        BLOOD,
    ),
    _ci("active_cancer", "Do you have cancer now, or are you being treated for it?", CANCER),
    _ci("tumour_region", "If so, where is the tumour?", CANCER, "region"),
    _ci(
        "unknown_primary",
        "Have your doctors said they do not yet know where the cancer started?",
        CANCER,
    ),
    _ci("bone_metastasis", "Has cancer spread to your bones?", CANCER),
    _ci(
        "oncologist_approved_deep_pressure",
        "Has your cancer doctor said that deep massage pressure is safe for you?",
        CANCER,
    ),
    _ci("irradiated_regions", "Where have you had radiotherapy, if anywhere?", CANCER, "regions"),
    _ci(
        "lymphoedema_limb",
        "Which limb has lymphoedema (swelling after cancer treatment), if any?",
        CANCER,
        "region",
    ),
    _ci(
        "severe_osteoporosis",
        "Have you been told your osteoporosis is severe, or have you broken a bone from a "
        "minor fall?",
        OTHER,
    ),
    _ci(
        "recent_fracture_region",
        "Where have you broken a bone recently, if anywhere?",
        INJURY,
        "region",
    ),
    _ci("weeks_since_fracture", "How many weeks ago was the fracture?", INJURY, "weeks"),
    _ci(
        "recent_surgery_region",
        "Where have you had an operation recently, if anywhere?",
        INJURY,
        "region",
    ),
    _ci("weeks_since_surgery", "How many weeks ago was the operation?", INJURY, "weeks"),
    _ci(
        "skin_lesion_regions",
        "Where do you have a rash, wound, burn, infection or other skin problem, if anywhere?",
        INJURY,
        "regions",
    ),
    _ci("pregnant", "Are you pregnant?", PREGNANCY),
    _ci(
        "gestation_weeks",
        "If so, how many weeks pregnant are you?",
        PREGNANCY,
        "weeks",
        help="Whole weeks, 0 to 45.",
    ),
    _ci("vaginal_bleeding", "Do you have any vaginal bleeding?", PREGNANCY),
    _ci("fluid_leak", "Are you leaking fluid from the vagina?", PREGNANCY),
    _ci(
        "severe_headache_or_visual_change",
        "Do you have a severe headache or changes in your vision?",
        PREGNANCY,
    ),
    _ci("sudden_oedema", "Have your face, hands or feet swollen suddenly?", PREGNANCY),
    _ci("calf_pain_or_swelling", "Do you have pain or swelling in a calf?", PREGNANCY),
    _ci("reduced_fetal_movement", "Is your baby moving less than usual?", PREGNANCY),
    _ci(
        "disc_herniation_with_radiculopathy",
        "Has a doctor told you that a slipped (herniated) disc is pressing on a nerve?",
        OTHER,
    ),
    _ci(
        "neuropathy_regions",
        "Where do you have reduced feeling from nerve damage (neuropathy, e.g. from diabetes), "
        "if anywhere?",
        OTHER,
        "regions",
    ),
)

QUESTIONS: tuple[Question, ...] = (
    *BACK_QUESTIONS,
    *SAFETY_QUESTIONS,
    *HISTORY_QUESTIONS,
    *CONDITION_QUESTIONS,
)
BY_CODE: Mapping[str, Question] = {q.code: q for q in QUESTIONS}

# Rule items computed rather than asked: age from the date of birth on the record, NG65's
# "onset before 35" from the age back pain first started.
DERIVED: Mapping[Feed, str] = {
    ("triage", "age"): "the patient's date of birth",
    ("triage", "ng65_criteria"): "first_back_pain_age (onset before 35) and ng65_criteria",
}


def fed_items() -> set[Feed]:
    """Every rule item some question or derivation provides."""
    return {feed for q in QUESTIONS for feed in q.feeds} | set(DERIVED)


def tri_value(answer: object) -> bool | None:
    """A yes / no / not sure answer as the rules take it: not sure or blank is None."""
    return {YES: True, NO: False}.get(str(answer)) if answer is not None else None


def episode_phase(start: date, today: date) -> str:
    """Acute (under 6 weeks), subacute (6-12 weeks) or chronic (over 12 weeks)."""
    weeks = (today - start).days // 7
    if weeks < 6:
        return "acute"
    return "subacute" if weeks <= 12 else "chronic"


def rule_inputs(
    answers: Mapping[str, Any], *, today: date
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The red-flag items and the contraindication conditions from cleaned intake answers.

    Red-flag items left blank or answered "not sure" are left out, so the triage service
    treats them as unanswered. Age is added by the triage service from the record.
    """
    triage: dict[str, Any] = {}
    conditions: dict[str, Any] = {}
    for question in QUESTIONS:
        if question.code not in answers or question.kind in {"onset", "date", "number", "choices"}:
            continue
        value = answers[question.code]
        for target, item in question.feeds:
            if question.kind in {"tri", "yesno"}:
                chosen = tri_value(value)
                if target == "triage" and chosen is not None:
                    triage[item] = chosen
                elif target == "ci" and (chosen or (chosen is None and question.kind == "tri")):
                    conditions[item] = chosen
            elif target == "ci" and value not in (None, "", [], False):
                conditions[item] = sorted(value) if question.kind == "regions" else value
    triage.update(_onset(answers.get("onset_how")))
    triage.update(_history_of_pain(answers, today))
    _derive_history(triage, conditions)
    return triage, conditions


def _derive_history(triage: dict[str, Any], conditions: dict[str, Any]) -> None:
    """Answers that imply another: cancer now means a history of cancer; severe osteoporosis
    means osteoporosis (so an inconsistent "no" cannot hide RF-MAL or RF-FX rules)."""
    if conditions.get("active_cancer") or conditions.get("bone_metastasis"):
        triage["history_of_cancer"] = True
    if conditions.get("severe_osteoporosis"):
        triage["osteoporosis"] = True
        conditions["osteoporosis"] = True


def _onset(onset: object) -> dict[str, bool]:
    if onset not in {code for code, _ in ONSET_CHOICES} or onset == "unknown":
        return {}
    return {
        "major_trauma": onset == "major",
        "minor_trauma_or_lift": onset == "minor",
        "sudden_onset_without_trauma": onset == "sudden",
    }


def _history_of_pain(answers: Mapping[str, Any], today: date) -> dict[str, Any]:
    items: dict[str, Any] = {}
    started = answers.get("pain_started_on")
    if isinstance(started, date):
        items["lbp_duration_months"] = months_between(started, today)
    onset_age = answers.get("first_back_pain_age")
    criteria = set(answers.get("ng65_criteria") or [])
    if isinstance(onset_age, int):
        items["lbp_onset_age"] = onset_age
        if onset_age < 35:
            criteria.add("onset_before_35")
    items["ng65_criteria"] = sorted(criteria)
    return items
