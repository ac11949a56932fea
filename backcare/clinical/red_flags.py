"""Red-flag triage before massage for back pain: RULES.md §0 and §1.2.

Each rule has an ID, an action level and its sources; `triage()` evaluates every rule and returns
the most severe action. Three-valued logic keeps the safety promise of RULES.md §0.2: an
unanswered item (None) is never taken as "no". A rule whose outcome depends on an unanswered item
is "undetermined"; if answering it could raise the action above what the answered items already
give, the result is `incomplete` (RULES.md §0.2; vectors RF-24, RF-25). With every item answered,
the result is monotone: answering any item "yes" instead of "no" never lowers the action.

Thresholds marked ⚙ in RULES.md (ages 50 and 70, NG65 onset age 45 and duration 3 months, the
"young" age 20) are defaults of `TriageSettings` and may be changed per clinic.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from backcare.clinical.errors import ClinicalInputError

RULES_VERSION = "backcare-red-flags-1 (RULES.md §1.2)"

Tri = bool | None  # True, False, or None for "unanswered / cannot tell"


class Action(StrEnum):
    """Action levels of RULES.md §0.1, least to most severe, plus `incomplete`."""

    PROCEED = "proceed"
    PROCEED_WITH_PRECAUTIONS = "proceed_with_precautions"
    REFER_BEFORE_MASSAGE = "refer_before_massage"
    URGENT_MEDICAL = "urgent_medical"
    EMERGENCY = "emergency"
    INCOMPLETE = "incomplete"

    @property
    def severity(self) -> int:
        """0 for proceed up to 4 for emergency; incomplete is 5 (it outranks every result)."""
        return _SEVERITY[self]


_SEVERITY = {
    Action.PROCEED: 0,
    Action.PROCEED_WITH_PRECAUTIONS: 1,
    Action.REFER_BEFORE_MASSAGE: 2,
    Action.URGENT_MEDICAL: 3,
    Action.EMERGENCY: 4,
    Action.INCOMPLETE: 5,
}
_ORDERED = sorted((a for a in Action if a != Action.INCOMPLETE), key=lambda a: a.severity)

CES_ITEMS = (
    "urinary_retention_or_altered_urine_sensation",
    "new_urinary_incontinence",
    "bowel_incontinence",
    "saddle_numbness",
    "new_sexual_dysfunction",
)
NEURO_ITEMS = (
    "new_limb_weakness_or_sensory_loss",
    "progressive_leg_weakness_or_foot_drop",
    "difficulty_walking",
    "bilateral_leg_radicular_symptoms",
    "radicular_pain",
    *CES_ITEMS,
)
MSCC_PAIN_ITEMS = (
    "thoracic_spine_pain",
    "progressive_pain",
    "severe_unremitting_pain",
    "pain_on_straining",
    "localised_spinal_tenderness",
    "night_pain_preventing_sleep",
)
NG65_CRITERIA = frozenset(
    {
        "onset_before_35",
        "wakes_second_half_of_night",
        "buttock_pain",
        "improves_with_movement",
        "improves_with_nsaids_48h",
        "first_degree_relative_spa",
        "current_or_past_arthritis",
        "enthesitis",
        "psoriasis",
    }
)
# Other spellings of the NG65 criteria (RULES.md names four of them only in prose).
NG65_ALIASES = {
    "onset_under_35": "onset_before_35",
    "age_of_onset_under_35": "onset_before_35",
    "waking_second_half_of_night": "wakes_second_half_of_night",
    "night_waking_second_half": "wakes_second_half_of_night",
    "alternating_buttock_pain": "buttock_pain",
    "improves_with_exercise": "improves_with_movement",
    "improves_with_nsaids": "improves_with_nsaids_48h",
    "nsaid_response_48h": "improves_with_nsaids_48h",
    "first_degree_relative_with_spa": "first_degree_relative_spa",
    "family_history_spa": "first_degree_relative_spa",
    "family_history_of_spa": "first_degree_relative_spa",
    "first_degree_relative_spondyloarthritis": "first_degree_relative_spa",
    "past_or_current_arthritis": "current_or_past_arthritis",
    "arthritis": "current_or_past_arthritis",
    "current_or_past_enthesitis": "enthesitis",
    "current_or_past_psoriasis": "psoriasis",
}


def canonical_ng65(criteria: Iterable[object]) -> frozenset[str]:
    """The NG65 criteria under their canonical names; raises `ClinicalInputError` for a value
    that is not a known criterion or alias."""
    names = set()
    for value in criteria:
        name = NG65_ALIASES.get(str(value), str(value))
        if not isinstance(value, str) or name not in NG65_CRITERIA:
            raise ClinicalInputError(
                "unknown_item",
                f"ng65_criteria: {value!r} is not an NG65 criterion; use "
                f"{', '.join(sorted(NG65_CRITERIA))}.",
                item="ng65_criteria",
            )
        names.add(name)
    return frozenset(names)


@dataclass(frozen=True)
class TriageAnswers:
    """The screening data items of RULES.md §1.2. None means "not answered", never "no".

    Ages and durations are whole numbers (years, months). `ng65_criteria` lists the NG65
    criteria that apply; None means the NG65 questions were not asked.
    """

    age: int | None = None
    urinary_retention_or_altered_urine_sensation: bool | None = None
    new_urinary_incontinence: bool | None = None
    bowel_incontinence: bool | None = None
    saddle_numbness: bool | None = None
    new_sexual_dysfunction: bool | None = None
    progressive_leg_weakness_or_foot_drop: bool | None = None
    bilateral_leg_radicular_symptoms: bool | None = None
    new_limb_weakness_or_sensory_loss: bool | None = None
    difficulty_walking: bool | None = None
    radicular_pain: bool | None = None
    history_of_cancer: bool | None = None
    thoracic_spine_pain: bool | None = None
    progressive_pain: bool | None = None
    severe_unremitting_pain: bool | None = None
    pain_on_straining: bool | None = None
    localised_spinal_tenderness: bool | None = None
    night_pain_preventing_sleep: bool | None = None
    unexplained_weight_loss: bool | None = None
    no_improvement_after_4_weeks: bool | None = None
    constant_night_pain_not_eased_by_position: bool | None = None
    major_trauma: bool | None = None
    minor_trauma_or_lift: bool | None = None
    sudden_onset_without_trauma: bool | None = None
    osteoporosis: bool | None = None
    prolonged_corticosteroids: bool | None = None
    fever_or_systemically_unwell: bool | None = None
    iv_drug_use: bool | None = None
    immunosuppression: bool | None = None
    recent_spinal_procedure: bool | None = None
    recent_bacterial_infection: bool | None = None
    sudden_severe_pain_unchanged_by_movement: bool | None = None
    pulsatile_abdominal_mass: bool | None = None
    collapse_or_faintness: bool | None = None
    known_aaa: bool | None = None
    new_or_changed_pain: bool | None = None
    structural_deformity: bool | None = None
    widespread_or_non_dermatomal_neurology: bool | None = None
    lbp_onset_age: int | None = None
    lbp_duration_months: int | None = None
    ng65_criteria: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in BOOLEAN_ITEMS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ClinicalInputError(
                    "not_a_boolean",
                    f"{name}: answer yes (True) or no (False), not {value!r}.",
                    item=name,
                )
        for name, high in (("age", 120), ("lbp_onset_age", 120), ("lbp_duration_months", 1200)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ClinicalInputError(
                    "non_integer", f"{name}: expected whole years or months.", item=name
                )
            if value is not None and not 0 <= value <= high:
                raise ClinicalInputError(
                    "value_out_of_range", f"{name}: {value} is outside 0 to {high}.", item=name
                )
        if self.ng65_criteria is not None:
            if not isinstance(self.ng65_criteria, frozenset):
                raise ClinicalInputError(
                    "not_a_list",
                    "ng65_criteria: give the criteria as a list.",
                    item="ng65_criteria",
                )
            object.__setattr__(self, "ng65_criteria", canonical_ng65(self.ng65_criteria))

    @classmethod
    def from_mapping(
        cls, answers: Mapping[str, object], *, unknown: Iterable[str] = ()
    ) -> "TriageAnswers":
        """Build from the RULES.md §8 vector form: a key left out means "answered no" (False),
        a key listed in `unknown` means "not answered" (None). Unknown keys are an error."""
        if not isinstance(answers, Mapping):
            raise ClinicalInputError("not_a_mapping", "Give the answers as item: value pairs.")
        if isinstance(unknown, str) or not all(isinstance(u, str) for u in unknown):
            raise ClinicalInputError(
                "not_a_list", "unknown: give a list of item names.", item="unknown"
            )
        known = {f.name for f in fields(cls)}
        unanswered = set(unknown)
        stray = sorted((set(answers) | unanswered) - known)
        if stray:
            raise ClinicalInputError(
                "unknown_item", f"Unknown triage items: {', '.join(stray)}.", item=stray[0]
            )
        values: dict[str, object] = dict.fromkeys(BOOLEAN_ITEMS, False)
        values["ng65_criteria"] = frozenset()
        values.update(answers)
        criteria = values["ng65_criteria"]
        if isinstance(criteria, list | tuple | set):
            values["ng65_criteria"] = frozenset(
                str(c) if isinstance(c, str) else repr(c) for c in criteria
            )
        elif criteria is not None and not isinstance(criteria, frozenset):
            raise ClinicalInputError(
                "not_a_list", "ng65_criteria: give the criteria as a list.", item="ng65_criteria"
            )
        for name in unanswered:
            values[name] = None
        return cls(**values)  # type: ignore[arg-type]

    def unanswered(self) -> tuple[str, ...]:
        """Names of the items left unanswered (None)."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is None)


BOOLEAN_ITEMS = tuple(
    f.name
    for f in fields(TriageAnswers)
    if f.name not in {"age", "lbp_onset_age", "lbp_duration_months", "ng65_criteria"}
)


@dataclass(frozen=True)
class TriageSettings:
    """The ⚙ thresholds of RULES.md §1.2-1.3; these defaults apply unless a clinic changes them."""

    soft_flag_age: int = 50  # RF-SOFT-1: AHCPR > 50; older UK lists 55 (RULES.md §1.3)
    fracture_age: int = 70  # RF-FX-2: "elderly" (ACR), 70 in several lists
    aaa_age: int = 50  # RF-AAA-1 with sudden severe pain unchanged by movement
    ng65_onset_before_age: int = 45  # RF-INFL: NG65 (back pain started before 45)
    ng65_min_duration_months: int = 3  # RF-INFL: NG65 (lasted more than 3 months)
    young_age: int = 20  # RF-OTHER-3: AHCPR, pain in a patient under 20


DEFAULT_SETTINGS = TriageSettings()


@dataclass(frozen=True)
class Rule:
    """One red-flag rule: its ID, action, explanations for patient and therapist, sources, and
    its three-valued test on the answers."""

    id: str
    action: Action
    title: str
    patient_text: str
    therapist_text: str
    sources: str
    evaluate: Callable[[TriageAnswers, TriageSettings], Tri]
    referral: str | None = None
    # When this holds as well, the rule's action becomes `emergency` (RF-FX-1 with neurology).
    escalates: Callable[[TriageAnswers, TriageSettings], Tri] | None = None

    def action_for(self, answers: TriageAnswers, settings: TriageSettings) -> tuple[Action, Tri]:
        """The action when the rule fires, and whether its escalation holds (None: unknown)."""
        if self.escalates is None:
            return self.action, False
        escalation = self.escalates(answers, settings)
        return (Action.EMERGENCY if escalation is True else self.action), escalation


def _all(*values: Tri) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _any(*values: Tri) -> Tri:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _not(value: Tri) -> Tri:
    return None if value is None else not value


def _at_least(value: int | None, threshold: int) -> Tri:
    return None if value is None else value >= threshold


def _below(value: int | None, threshold: int) -> Tri:
    return None if value is None else value < threshold


def _items(answers: TriageAnswers, names: Iterable[str]) -> list[Tri]:
    return [getattr(answers, name) for name in names]


def _ng65(answers: TriageAnswers, settings: TriageSettings, *, exactly: int | None) -> Tri:
    criteria = answers.ng65_criteria
    count: Tri = None
    if criteria is not None:
        count = len(criteria) == exactly if exactly is not None else len(criteria) >= 4
    return _all(
        _below(answers.lbp_onset_age, settings.ng65_onset_before_age),
        None
        if answers.lbp_duration_months is None
        else answers.lbp_duration_months > settings.ng65_min_duration_months,
        count,
    )


def _aaa_acute(a: TriageAnswers, s: TriageSettings) -> Tri:
    """RF-AAA-1: signs of an acute aortic problem. RF-AAA-2 ("known, stable") is its absence."""
    return _any(
        _all(a.sudden_severe_pain_unchanged_by_movement, _at_least(a.age, s.aaa_age)),
        a.pulsatile_abdominal_mass,
        a.collapse_or_faintness,
        _all(a.known_aaa, a.new_or_changed_pain),
    )


SOFT_FLAGS: tuple[tuple[str, Callable[[TriageAnswers, TriageSettings], Tri]], ...] = (
    ("RF-SOFT-1", lambda a, s: _at_least(a.age, s.soft_flag_age)),
    ("RF-SOFT-2", lambda a, s: a.no_improvement_after_4_weeks),
    ("RF-SOFT-3", lambda a, s: a.constant_night_pain_not_eased_by_position),
)

RULES: tuple[Rule, ...] = (
    Rule(
        "RF-CES-1",
        Action.EMERGENCY,
        "Possible cauda equina syndrome",
        "You told us about new changes in bladder, bowel or genital feeling or control. "
        "Go to an emergency department now. Do not wait for your massage appointment.",
        "Any cauda equina item: urinary retention or altered sensation, new urinary or bowel "
        "incontinence, saddle numbness or new sexual dysfunction. Emergency referral.",
        "NICE CKS sciatica; AHCPR 1994 Table 1; Finucane 2020 (IFOMPT); NHS Lothian",
        lambda a, s: _any(*_items(a, CES_ITEMS)),
    ),
    Rule(
        "RF-NEURO-1",
        Action.EMERGENCY,
        "Progressive leg weakness or foot drop",
        "Leg weakness that is getting worse needs a doctor today. Go to an emergency department "
        "now.",
        "Progressive motor deficit or foot drop. Emergency referral.",
        "ACR Appropriateness Criteria 2016; NHS Lothian (acute foot drop)",
        lambda a, s: a.progressive_leg_weakness_or_foot_drop,
    ),
    Rule(
        "RF-NEURO-2",
        Action.URGENT_MEDICAL,
        "Symptoms down both legs",
        "Pain, pins and needles or numbness in both legs needs a doctor today. If you notice any "
        "change in bladder, bowel or genital feeling or control, go to an emergency department.",
        "Bilateral radicular symptoms: same-day medical assessment; give cauda equina "
        "safety-netting advice.",
        "NHS Lothian (bilateral sciatica as a CES flag); level is a project decision",
        lambda a, s: a.bilateral_leg_radicular_symptoms,
    ),
    Rule(
        "RF-NEURO-3",
        Action.REFER_BEFORE_MASSAGE,
        "New weakness or loss of feeling",
        "New weakness or loss of feeling in an arm or leg should be checked by a doctor before "
        "massage.",
        "New, non-progressive limb weakness or sensory loss: medical review before massage.",
        "Project decision (RULES.md §1.2)",
        lambda a, s: a.new_limb_weakness_or_sensory_loss,
    ),
    Rule(
        "RF-MAL-1",
        Action.URGENT_MEDICAL,
        "Cancer history with spinal pain suggesting metastases",
        "Because you have had cancer, this kind of back pain should be checked by a doctor within "
        "24 hours.",
        "History of cancer with thoracic, progressive, severe unremitting, straining or night "
        "pain, or localised spinal tenderness: contact MSCC pathway within 24 hours.",
        "NICE CG75 (superseded by NG234; re-check wording)",
        lambda a, s: _all(a.history_of_cancer, _any(*_items(a, MSCC_PAIN_ITEMS))),
    ),
    Rule(
        "RF-MAL-2",
        Action.EMERGENCY,
        "Cancer history with neurological symptoms",
        "Because you have had cancer, weakness, numbness or changes in bladder or bowel need "
        "emergency care now.",
        "History of cancer with any neurological item: suspected metastatic spinal cord "
        "compression, an oncological emergency.",
        "NICE CG75 (superseded by NG234; re-check wording)",
        lambda a, s: _all(a.history_of_cancer, _any(*_items(a, NEURO_ITEMS))),
    ),
    Rule(
        "RF-MAL-3",
        Action.REFER_BEFORE_MASSAGE,
        "History of cancer",
        "Because you have had cancer (even in remission), your doctor should review your back "
        "pain before massage.",
        "Any history of cancer: medical review before massage.",
        "Verhagen 2016; AHCPR 1994; level is a project decision",
        lambda a, s: a.history_of_cancer,
    ),
    Rule(
        "RF-MAL-4",
        Action.REFER_BEFORE_MASSAGE,
        "Unexplained weight loss",
        "Weight loss you cannot explain should be checked by your doctor before massage.",
        "Unexplained weight loss: medical review before massage.",
        "Verhagen 2016; AHCPR 1994",
        lambda a, s: a.unexplained_weight_loss,
    ),
    Rule(
        "RF-FX-1",
        Action.URGENT_MEDICAL,
        "Major trauma",
        "After a serious fall or accident, back pain should be checked by a doctor today; with "
        "weakness, numbness or bladder or bowel changes, go to an emergency department now.",
        "Major trauma: same-day assessment; emergency when any neurological item is present.",
        "AHCPR 1994; ACR 2016",
        lambda a, s: a.major_trauma,
        escalates=lambda a, s: _any(*_items(a, NEURO_ITEMS)),
    ),
    Rule(
        "RF-FX-2",
        Action.REFER_BEFORE_MASSAGE,
        "Possible fragility fracture",
        "A minor fall, lift or sudden pain can cause a fracture when bones are fragile. Your "
        "doctor should check before massage.",
        "Minor trauma, lifting or sudden onset with osteoporosis, prolonged corticosteroids or "
        "older age: possible fragility fracture.",
        "ACR 2016 variant 6; AHCPR 1994; Verhagen 2016; age cut-off is a project decision",
        lambda a, s: _all(
            _any(a.minor_trauma_or_lift, a.sudden_onset_without_trauma),
            _any(a.osteoporosis, a.prolonged_corticosteroids, _at_least(a.age, s.fracture_age)),
        ),
    ),
    Rule(
        "RF-INF-1",
        Action.URGENT_MEDICAL,
        "Fever or feeling systemically unwell",
        "A fever with back pain should be checked by a doctor today. Massage waits until you are "
        "well.",
        "Fever of 38 °C or more, chills, night sweats or systemic illness: same-day assessment.",
        "AHCPR 1994; ACR 2016 variant 7",
        lambda a, s: a.fever_or_systemically_unwell,
    ),
    Rule(
        "RF-INF-2",
        Action.REFER_BEFORE_MASSAGE,
        "Risk factors for spinal infection",
        "Your doctor should check your back pain before massage because of a higher chance of "
        "infection.",
        "IV drug use, immunosuppression, spinal procedure within 3 months or recent bacterial "
        "infection: medical review before massage.",
        "AHCPR 1994; ACR 2016 variant 7; 3-month window is a project decision",
        lambda a, s: _any(
            a.iv_drug_use,
            a.immunosuppression,
            a.recent_spinal_procedure,
            a.recent_bacterial_infection,
        ),
    ),
    Rule(
        "RF-AAA-1",
        Action.EMERGENCY,
        "Possible abdominal aortic aneurysm",
        "This could be a problem with the main blood vessel in your abdomen. Call emergency "
        "services or go to an emergency department now.",
        "Sudden severe pain unchanged by movement at 50 or over, a pulsatile abdominal mass, "
        "collapse or faintness, or known AAA with new pain: emergency.",
        "BMJ Best Practice AAA; thresholds are project decisions",
        lambda a, s: _aaa_acute(a, s),
    ),
    Rule(
        "RF-AAA-2",
        Action.PROCEED_WITH_PRECAUTIONS,
        "Known, stable abdominal aortic aneurysm",
        "Your therapist will avoid deep work on your abdomen and the front of your hips.",
        "Known AAA without new pain: no deep abdominal or iliopsoas work.",
        "Project decision (mechanical caution)",
        lambda a, s: _all(a.known_aaa, _not(_aaa_acute(a, s))),
    ),
    Rule(
        "RF-INFL-1",
        Action.PROCEED_WITH_PRECAUTIONS,
        "Possible inflammatory back pain (4 or more NG65 criteria)",
        "Your answers suggest inflammatory back pain. Massage can continue; please ask your GP "
        "for a routine referral to a rheumatologist.",
        "NG65: onset before 45, more than 3 months, 4 or more criteria: routine rheumatology "
        "referral.",
        "NICE NG65",
        lambda a, s: _ng65(a, s, exactly=None),
        referral="routine_gp_rheumatology",
    ),
    Rule(
        "RF-INFL-2",
        Action.PROCEED_WITH_PRECAUTIONS,
        "Possible inflammatory back pain (3 NG65 criteria)",
        "Your answers may suggest inflammatory back pain. Massage can continue; please ask your "
        "GP whether an HLA-B27 blood test is needed.",
        "NG65: onset before 45, more than 3 months, exactly 3 criteria: GP to consider HLA-B27.",
        "NICE NG65",
        lambda a, s: _ng65(a, s, exactly=3),
        referral="gp_consider_hla_b27",
    ),
    Rule(
        "RF-OTHER-1",
        Action.REFER_BEFORE_MASSAGE,
        "New structural deformity",
        "A change in the shape of your spine should be checked by a doctor before massage.",
        "New structural deformity: medical review before massage.",
        "AHCPR 1994 (RULES.md §1.2, other findings)",
        lambda a, s: a.structural_deformity,
    ),
    Rule(
        "RF-OTHER-2",
        Action.REFER_BEFORE_MASSAGE,
        "Widespread or non-dermatomal neurology",
        "Numbness or weakness in several places should be checked by a doctor before massage.",
        "Widespread or non-dermatomal neurological signs: medical review before massage.",
        "AHCPR 1994 (RULES.md §1.2, other findings)",
        lambda a, s: a.widespread_or_non_dermatomal_neurology,
    ),
    Rule(
        "RF-OTHER-3",
        Action.REFER_BEFORE_MASSAGE,
        "Back pain at a young age",
        "Back pain in young people should be checked by a doctor before massage.",
        "Pain in a patient under 20: medical review before massage.",
        "AHCPR 1994 (RULES.md §1.2, other findings)",
        lambda a, s: _below(a.age, s.young_age),
    ),
)

SOFT_RULE_TEXT = {
    "RF-SOFT-1": "Age at or above the soft-flag age",
    "RF-SOFT-2": "No improvement after 4 weeks",
    "RF-SOFT-3": "Constant night pain not eased by changing position",
}
SOFT_SOURCES = (
    "AHCPR 1994 (age > 50); Chou 2007 (no improvement after 1 month); "
    "the combination rule is a project decision"
)


@dataclass(frozen=True)
class Finding:
    """One rule that fired, with what to tell the patient and the therapist."""

    rule_id: str
    title: str
    patient_text: str
    therapist_text: str
    sources: str


@dataclass(frozen=True)
class TriageResult:
    """The most severe action, the rules that fired (sorted IDs), the referral kind where an
    NG65 rule gives one, explanations, the items left unanswered that block the result, and the
    rule-set version and settings that produced it."""

    action: Action
    triggered: tuple[str, ...]
    findings: tuple[Finding, ...]
    referral: str | None
    unanswered: tuple[str, ...]
    rules_version: str
    settings: TriageSettings = field(default=DEFAULT_SETTINGS)

    @property
    def patient_explanation(self) -> str:
        """What to do, in plain words, then why (one sentence per finding)."""
        return _patient_explanation(self)

    @property
    def therapist_explanation(self) -> tuple[str, ...]:
        """One line per rule that fired: ID, title, clinical reasoning and sources."""
        return tuple(
            f"{f.rule_id} {f.title}: {f.therapist_text} ({f.sources})" for f in self.findings
        )


def triage(answers: TriageAnswers, settings: TriageSettings = DEFAULT_SETTINGS) -> TriageResult:
    """Evaluate every red-flag rule of RULES.md §1.2 on `answers` and return the most severe
    action (§0.1), the sorted IDs of the rules that fired and why.

    Unanswered items (None) are never taken as "no": when an undetermined rule could raise the
    action above what answered items give, the action is `incomplete` and `unanswered` names the
    items to ask. Soft flags (RF-SOFT-1/2/3) each fire on their own; one gives
    `proceed_with_precautions`, two or more `refer_before_massage`.
    """
    fired: list[Rule] = []
    actions: list[Action] = []
    undetermined: list[Action] = []
    for rule in RULES:
        outcome = rule.evaluate(answers, settings)
        action, escalation = rule.action_for(answers, settings)
        if outcome is True:
            fired.append(rule)
            actions.append(action)
        if outcome is not False and (outcome is None or escalation is None):
            undetermined.append(Action.EMERGENCY if rule.escalates else rule.action)
    soft_fired, soft_unknown = _soft_flags(answers, settings)
    soft_action = _soft_action(len(soft_fired))
    best = max([*actions, soft_action], key=lambda a: a.severity)
    worst_soft = _soft_action(len(soft_fired) + soft_unknown)
    worst = max([best, worst_soft, *undetermined], key=lambda a: a.severity)
    findings = [Finding(r.id, r.title, r.patient_text, r.therapist_text, r.sources) for r in fired]
    findings += [
        Finding(
            rule_id,
            SOFT_RULE_TEXT[rule_id],
            _soft_patient_text(len(soft_fired)),
            SOFT_RULE_TEXT[rule_id],
            SOFT_SOURCES,
        )
        for rule_id in soft_fired
    ]
    referral = next((r.referral for r in fired if r.referral), None)
    incomplete = worst.severity > best.severity
    return TriageResult(
        action=Action.INCOMPLETE if incomplete else best,
        triggered=tuple(sorted(f.rule_id for f in findings)),
        findings=tuple(sorted(findings, key=lambda f: f.rule_id)),
        referral=referral,
        unanswered=_blocking_items(answers, settings, best) if incomplete else (),
        rules_version=RULES_VERSION,
        settings=settings,
    )


# Values an unanswered item is tried with to see whether it could raise the action.
_WORST_VALUES: dict[str, tuple[object, ...]] = {
    "age": (0, 19, 50, 70, 120),
    "lbp_onset_age": (0,),
    "lbp_duration_months": (1200,),
    "ng65_criteria": (NG65_CRITERIA,),
}


def _fired_action(answers: TriageAnswers, settings: TriageSettings) -> Action:
    actions = [
        rule.action_for(answers, settings)[0]
        for rule in RULES
        if rule.evaluate(answers, settings) is True
    ]
    soft = _soft_action(len(_soft_flags(answers, settings)[0]))
    return max([*actions, soft], key=lambda a: a.severity)


def _blocking_items(
    answers: TriageAnswers, settings: TriageSettings, best: Action
) -> tuple[str, ...]:
    """The unanswered items that, answered "yes" (or at their worst), could raise the action:
    the ones to ask. When only a combination of them could, all unanswered items are named."""
    unknown = answers.unanswered()
    neutral: dict[str, Any] = {name: False for name in unknown if name in BOOLEAN_ITEMS}

    def _could_raise(name: str) -> bool:
        probes = (
            replace(answers, **{**neutral, name: v}) for v in _WORST_VALUES.get(name, (True,))
        )
        return any(_fired_action(probe, settings).severity > best.severity for probe in probes)

    return tuple(name for name in unknown if _could_raise(name)) or unknown


def _soft_flags(answers: TriageAnswers, settings: TriageSettings) -> tuple[list[str], int]:
    fired, unknown = [], 0
    for rule_id, evaluate in SOFT_FLAGS:
        outcome = evaluate(answers, settings)
        if outcome is True:
            fired.append(rule_id)
        elif outcome is None:
            unknown += 1
    return fired, unknown


def action_of_findings(rule_ids: Collection[str]) -> Action:
    """The overall action of a screening known only by the rules it triggered (an imported
    record, whose answers did not come with it): the most severe of each rule's action and of
    the soft flags counted as `triage` counts them (§0.1). An escalation cannot be worked out
    without the answers, so none is applied. `KeyError` for an ID that names no rule."""
    by_id = {rule.id: rule for rule in RULES}
    soft = [r for r in rule_ids if r in SOFT_RULE_TEXT]
    hard = [by_id[r].action for r in rule_ids if r not in SOFT_RULE_TEXT]
    return max([Action.PROCEED, _soft_action(len(soft)), *hard], key=lambda a: a.severity)


def _soft_action(count: int) -> Action:
    if count >= 2:
        return Action.REFER_BEFORE_MASSAGE
    return Action.PROCEED_WITH_PRECAUTIONS if count == 1 else Action.PROCEED


def _soft_patient_text(count: int) -> str:
    if count >= 2:
        return (
            "Together, these answers mean your doctor should review your back pain before massage."
        )
    return "Your therapist will take extra care and may suggest you see your doctor."


_ACTION_TEXT = {
    Action.EMERGENCY: "Seek emergency care now: go to an emergency department or call emergency "
    "services. "
    "Do not book a massage.",
    Action.URGENT_MEDICAL: "Please see a doctor today (your GP or urgent care). Booking waits "
    "until a "
    "clinician has cleared you.",
    Action.REFER_BEFORE_MASSAGE: "Please see your doctor before your first massage. Take this "
    "summary with you. Booking opens once the clinic has their clearance.",
    Action.PROCEED_WITH_PRECAUTIONS: "You can book. Your therapist will adapt the massage to the "
    "points below.",
    Action.PROCEED: "You can book your massage.",
    Action.INCOMPLETE: "Some safety questions are unanswered. Please answer them so that we can "
    "tell whether massage is safe for you.",
}


def _patient_explanation(result: TriageResult) -> str:
    details = [f.patient_text for f in result.findings if f.rule_id in result.triggered]
    unique = list(dict.fromkeys(details))
    return " ".join([_ACTION_TEXT[result.action], *unique])


def settings_with(**changes: int) -> TriageSettings:
    """Default settings with some thresholds changed (a clinic's overrides). Raises
    `ClinicalInputError` for an unknown name or a value that is not a whole number 0-120."""
    known = {f.name for f in fields(TriageSettings)}
    for name, value in changes.items():
        if name not in known:
            raise ClinicalInputError("unknown_item", f"Unknown triage setting {name}.", item=name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
            raise ClinicalInputError(
                "value_out_of_range", f"{name}: expected a whole number from 0 to 120.", item=name
            )
    return replace(DEFAULT_SETTINGS, **changes)


def ordered_actions() -> list[Action]:
    """The action levels from least to most severe (without `incomplete`)."""
    return list(_ORDERED)


SETTING_SOURCES = {
    "soft_flag_age": "AHCPR 1994 (age > 50); older UK lists use 55 (RULES.md §1.3)",
    "fracture_age": "ACR 2016 variant 6 (elderly); 70 in several lists",
    "aaa_age": "BMJ Best Practice AAA (risk rises after 60-65); 50 is a project default",
    "ng65_onset_before_age": "NICE NG65 (back pain started before 45)",
    "ng65_min_duration_months": "NICE NG65 (lasted more than 3 months)",
    "young_age": "AHCPR 1994 (pain in a patient under 20)",
}


def describe(settings: TriageSettings = DEFAULT_SETTINGS) -> list[tuple[str, int, int, str]]:
    """(name, value in use, default, source) for every threshold, so pages show the defaults."""
    return [
        (
            f.name,
            getattr(settings, f.name),
            getattr(DEFAULT_SETTINGS, f.name),
            SETTING_SOURCES[f.name],
        )
        for f in fields(TriageSettings)
    ]


def rule_text(rule_id: str) -> tuple[str, str, str]:
    """(title, therapist text, sources) of a rule or soft flag, for pages that show stored
    results. Raises `ClinicalInputError` for an unknown ID."""
    for rule in RULES:
        if rule.id == rule_id:
            return rule.title, rule.therapist_text, rule.sources
    if rule_id in SOFT_RULE_TEXT:
        return SOFT_RULE_TEXT[rule_id], SOFT_RULE_TEXT[rule_id], SOFT_SOURCES
    raise ClinicalInputError("unknown_item", f"Unknown rule {rule_id}.", item="rule_id")


def _rule_test(rule_id: str) -> Callable[[TriageAnswers, TriageSettings], Tri]:
    tests = {rule.id: rule.evaluate for rule in RULES} | dict(SOFT_FLAGS)
    if rule_id not in tests:
        raise ClinicalInputError("unknown_item", f"Unknown rule {rule_id}.", item="rule_id")
    return tests[rule_id]


def _given(value: object) -> bool:
    return (
        value is True
        or (isinstance(value, int) and not isinstance(value, bool))
        or bool(isinstance(value, frozenset) and value)
    )


def _taken_back(answers: TriageAnswers, names: Iterable[str]) -> TriageAnswers:
    """The answers with `names` taken back: "yes" becomes "no", numbers and lists unknown."""
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(answers, name)
        changes[name] = False if value is True else frozenset() if name == "ng65_criteria" else None
    return replace(answers, **changes)


def contributing_items(
    answers: TriageAnswers, rule_id: str, settings: TriageSettings = DEFAULT_SETTINGS
) -> tuple[str, ...]:
    """The answers that made rule `rule_id` fire, so staff see why (sorted item names).

    An item counts when the rule stops firing without it (it was needed), or, when the needed
    items alone do not fire it, when that item with them does (one of several sufficient
    answers). Empty
    when the rule did not fire. Raises `ClinicalInputError` for an unknown rule ID.
    """
    test = _rule_test(rule_id)
    if test(answers, settings) is not True:
        return ()
    given = [f.name for f in fields(answers) if _given(getattr(answers, f.name))]
    needed = [n for n in given if test(_taken_back(answers, [n]), settings) is not True]
    others = [n for n in given if n not in needed]
    if test(_taken_back(answers, others), settings) is True:
        return tuple(sorted(needed))
    enough = [
        n
        for n in others
        if test(_taken_back(answers, [o for o in others if o != n]), settings) is True
    ]
    if not enough:  # several answers fire it only together, each pair of them more than once
        enough = _minimal_sets(answers, test, settings, needed, others)
    return tuple(sorted({*needed, *enough}))


def _minimal_sets(
    answers: TriageAnswers,
    test: Callable[[TriageAnswers, TriageSettings], Tri],
    settings: TriageSettings,
    needed: list[str],
    others: list[str],
) -> list[str]:
    """The union of minimal sets of `others` that fire the rule with the needed answers: one
    set found by taking answers back in order, then another in reverse order."""
    found: set[str] = set()
    for order in (others, others[::-1]):
        kept = list(order)
        for name in order:
            trial = [k for k in kept if k != name]
            removed = [o for o in others if o not in trial]
            if test(_taken_back(answers, removed), settings) is True:
                kept = trial
        found |= set(kept)
    return sorted(found)


def patient_text(rule_id: str, soft_count: int = 1) -> str:
    """What a rule tells the patient, in plain words (`soft_count`: how many soft flags fired,
    which changes their advice). Raises `ClinicalInputError` for an unknown ID."""
    for rule in RULES:
        if rule.id == rule_id:
            return rule.patient_text
    if rule_id in SOFT_RULE_TEXT:
        return _soft_patient_text(soft_count)
    raise ClinicalInputError("unknown_item", f"Unknown rule {rule_id}.", item="rule_id")
