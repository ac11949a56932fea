"""Reads of safety assessments, holds, referral letters and clearances, and of a clinic's rule
settings.

The hold (RULES.md §0.1, §2.1): a patient whose latest screening is `emergency`,
`urgent_medical` or `refer_before_massage`, or whose contraindications need a clinician's
clearance, cannot be booked until a clearance answers what that screening found, or staff
override it with a written reason. Urgent and emergency findings describe the patient's state
now, so only a clearance (or override) of that very screening answers them; a referral-level
finding (say, a history of cancer) stays answered by a clearance in force, so that a re-screen
with the same history does not hold the patient again. A clearance past its `valid_until` date
answers nothing. A patient with no screening, or whose latest screening is `incomplete` (a
red-flag item or a contraindication condition unanswered that could change the result), cannot
be booked either.
"""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from django.db.models import OuterRef, Subquery

from backcare.accounts.models import Clinic, Role
from backcare.accounts.queries import (
    ADMIN_ROLES,
    CLINIC_STAFF_ROLES,
    Viewer,
    clinics_where,
    deny,
    require_roles,
)
from backcare.clinical import contraindications, red_flags
from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.red_flags import Action
from backcare.core.audit import record_event
from backcare.core.export import ExportTable, table_of
from backcare.core.paging import page_after
from backcare.patients.models import Patient
from backcare.patients.queries import SEE_ALL_ROLES, find_patient, visible_patients
from backcare.triage.models import (
    Clearance,
    ClinicRuleSettings,
    HoldOverride,
    ReferralLetter,
    ScreeningReview,
    TriageAssessment,
)
from backcare.triage.vocabulary import question_for

HOLD_ACTIONS = frozenset({Action.REFER_BEFORE_MASSAGE, Action.URGENT_MEDICAL, Action.EMERGENCY})
CLEARANCE_ROLES = SEE_ALL_ROLES | {Role.REFERRING_CLINICIAN}


class HoldState(StrEnum):
    NOT_SCREENED = "not_screened"
    INCOMPLETE = "incomplete"
    ON_HOLD = "on_hold"
    CLEAR = "clear"


@dataclass(frozen=True)
class Need:
    """One finding of a screening that a clearance must answer."""

    code: str  # a rule ID, or a contraindication condition ID (with its region where it has one)
    label: str
    acute: bool  # urgent or emergency: the patient's state now
    stable: bool = False  # history that stays true: a clearance in force keeps answering it


@dataclass(frozen=True)
class HoldStatus:
    """Whether the patient may be booked, and why not."""

    state: HoldState
    assessment: TriageAssessment | None
    level: str  # the screening's overall level (triage and contraindications), or ""
    waiting_for: tuple[Need, ...] = ()
    clearances: tuple[Clearance, ...] = ()
    override: HoldOverride | None = None

    @property
    def may_book(self) -> bool:
        return self.state == HoldState.CLEAR

    @property
    def reason(self) -> str:
        """Why booking waits, in words for staff and patients; empty when it does not."""
        match self.state:
            case HoldState.NOT_SCREENED:
                return "The safety questions of the intake have not been answered yet."
            case HoldState.INCOMPLETE:
                return "Some safety questions are unanswered; booking waits for the answers."
            case HoldState.ON_HOLD:
                found = "; ".join(need.label for need in self.waiting_for)
                return f"Booking waits for a clinician's clearance ({found})."
        return ""


_MEDICAL_LEVEL = {
    contraindications.Medical.EMERGENCY.value: Action.EMERGENCY,
    contraindications.Medical.URGENT_MEDICAL.value: Action.URGENT_MEDICAL,
}


def overall_level(assessment: TriageAssessment) -> str:
    """The screening's level for the patient: the triage action, raised by what the
    contraindications ask (emergency or urgent medical care; a clearance or a GP's review
    needs a referral). `incomplete` when a safety question that could change the result is
    unanswered, unless what is known already calls for urgent or emergency care."""
    action = Action(assessment.action)
    result = assessment.contraindication_result
    medical = _MEDICAL_LEVEL.get(result.get("medical", ""), Action.PROCEED)
    if action == Action.INCOMPLETE:
        return medical.value if medical != Action.PROCEED else action.value
    levels = [action, medical]
    if result.get("clearance_required") or result.get("medical") == "gp_review":
        levels.append(Action.REFER_BEFORE_MASSAGE)
    level = max(levels, key=lambda a: a.severity)
    if result.get("unanswered") and level != Action.EMERGENCY:
        return Action.INCOMPLETE.value
    return level.value


# History that stays true between screenings: once cleared, a re-screen that carries it
# forward does not hold the patient again while the clearance is in force.
STABLE_RULES = frozenset({"RF-MAL-3", "RF-INF-2", "RF-OTHER-3", "RF-SOFT-1"})
# The answer that tells one instance of a condition from another (a new operation elsewhere).
_CONDITION_DETAIL = {
    "CI-SURGERY": "recent_surgery_region",
    "CI-FRACTURE": "recent_fracture_region",
    "CI-DVT-TREATED": "dvt_limb",
    "CI-CANCER": "tumour_region",
}
# Contraindications a re-screen asks again; others found in a re-screen come from carried
# answers and stay answered (or not) where they were first found.
_RESCREENED_CONDITIONS = frozenset({"CI-DVT-SUSPECTED", "CI-FEVER", "CI-AAA-EMERGENCY"})


def needs_of(assessment: TriageAssessment) -> tuple[Need, ...]:
    """What a clearance must answer for this screening: the red-flag rules at referral level or
    above, and the contraindications that ask for urgent or emergency care, a clinician's
    clearance or a GP's review. In a re-screen, a finding that rests only on answers carried
    forward from an earlier screening is that screening's need, not a new one."""
    carried = set(assessment.carried_items) if assessment.kind == "rescreen" else set()
    return (*_rule_needs(assessment, carried), *_condition_needs(assessment))


def _rule_needs(assessment: TriageAssessment, carried: set[str]) -> list[Need]:
    needs: list[Need] = []
    soft = [r for r in assessment.triggered if r.startswith("RF-SOFT-")]
    answers = _stored_answers(assessment) if carried else None
    for rule_id in assessment.triggered:
        level = _rule_level(rule_id, len(soft), assessment)
        if level not in HOLD_ACTIONS:
            continue
        if answers is not None:
            fired = set(
                red_flags.contributing_items(answers, rule_id, _stored_settings(assessment))
            )
            if fired and fired <= carried | {"age"}:
                continue
        title = red_flags.rule_text(rule_id)[0]
        acute = level.severity > Action.REFER_BEFORE_MASSAGE.severity
        stable = rule_id in STABLE_RULES and not acute
        needs.append(Need(rule_id, f"{rule_id} {title}", acute, stable))
    return needs


def _condition_needs(assessment: TriageAssessment) -> list[Need]:
    given = {k: v for k, v in assessment.contraindication_answers.items() if v is not None}
    try:
        result = contraindications.assess(
            contraindications.ContraindicationAnswers.from_mapping(given),
            contraindications.settings_with(**assessment.contraindication_settings),
        )
    except ClinicalInputError:
        return []
    needs: list[Need] = []
    medical = contraindications.Medical
    for restriction in result.restrictions:
        condition = restriction.condition
        if restriction.medical in (medical.EMERGENCY, medical.URGENT_MEDICAL):
            if assessment.kind == "rescreen" and condition not in _RESCREENED_CONDITIONS:
                continue
            needs.append(Need(condition, f"{restriction.title} (medical care first)", True))
        elif restriction.clearance or restriction.medical == medical.GP_REVIEW:
            detail = given.get(_CONDITION_DETAIL.get(condition, ""), "")
            code = f"{condition}:{detail}" if detail else condition
            who = restriction.clearance or "GP"
            needs.append(Need(code, f"{restriction.title}: clearance by the {who}", False, True))
    return needs


def _rule_level(rule_id: str, soft_count: int, assessment: TriageAssessment) -> Action:
    if rule_id.startswith("RF-SOFT-"):
        return Action.REFER_BEFORE_MASSAGE if soft_count >= 2 else Action.PROCEED_WITH_PRECAUTIONS
    rule = next(r for r in red_flags.RULES if r.id == rule_id)
    if rule.escalates is not None and Action(assessment.action) == Action.EMERGENCY:
        return Action.EMERGENCY
    return rule.action


def _in_force(clearance: Clearance, today: datetime.date) -> bool:
    return clearance.valid_until is None or clearance.valid_until >= today


def hold_status(patient: Patient) -> HoldStatus:
    """Whether `patient` may be booked now (see the module docstring). Not audited: for
    services that already checked the actor (the scheduling code asks this before booking).
    Three queries."""
    screenings = list(
        TriageAssessment.objects.filter(clinic_id=patient.clinic_id, patient=patient).order_by(
            "assessed_at", "created_at"
        )
    )
    if not screenings:
        return HoldStatus(HoldState.NOT_SCREENED, None, "")
    clearances = list(Clearance.objects.filter(clinic_id=patient.clinic_id, patient=patient))
    overrides = list(
        HoldOverride.objects.filter(clinic_id=patient.clinic_id, patient=patient).select_related(
            "overridden_by"
        )
    )
    return hold_from(screenings, clearances, overrides, patient.clinic.local_date())


def limits_from(hold: HoldStatus) -> contraindications.TreatmentLimits:
    """The limits treatment must keep, from the hold's latest screening (its contraindication
    result) and its clearances in force (their restricted regions, excluded techniques and
    pressure caps, which add to the screening's). No query."""
    result = hold.assessment.contraindication_result if hold.assessment else {}
    caps = [result.get("max_pressure_level")]
    caps += [c.max_pressure_level for c in hold.clearances]
    known = [cap for cap in caps if cap is not None]
    regional: dict[str, int] = {}
    for region, level in result.get("regional_pressure_caps", []):
        regional[region] = min(level, regional.get(region, level))
    return contraindications.TreatmentLimits(
        max_pressure_level=min(known) if known else None,
        regional_pressure_caps=regional,
        excluded_techniques=frozenset(result.get("excluded_techniques", []))
        | {t for c in hold.clearances for t in c.excluded_techniques},
        avoid_regions=frozenset(result.get("region_restrictions", []))
        | {r for c in hold.clearances for r in c.restricted_regions},
    )


def hold_from(
    screenings: list[TriageAssessment],
    clearances: Iterable[Clearance],
    overrides: Iterable[HoldOverride],
    today: datetime.date,
) -> HoldStatus:
    """The hold given all the patient's screenings (oldest first), clearances and overrides,
    already loaded (pages listing many patients load them in bulk). A finding of any screening
    holds until a clearance recorded after it answers it (a stable finding: any clearance in
    force), or an override recorded after it; a later screening without it lifts nothing."""
    latest = screenings[-1]
    clearances = list(clearances)
    overrides = list(overrides)
    waiting: dict[str, Need] = {}
    held_levels = [overall_level(latest)]
    for screening in screenings:
        for need in needs_of(screening):
            if not _answered(need, screening, clearances, overrides, today):
                waiting.setdefault(need.code, need)
                held_levels.append(overall_level(screening))
    level = max(held_levels, key=_severity)
    override = next((o for o in overrides if o.overridden_at >= latest.assessed_at), None)
    in_force = tuple(c for c in clearances if _in_force(c, today))
    if overall_level(latest) == Action.INCOMPLETE and level == Action.INCOMPLETE:
        return HoldStatus(HoldState.INCOMPLETE, latest, level, tuple(waiting.values()), in_force)
    state = HoldState.ON_HOLD if waiting else HoldState.CLEAR
    return HoldStatus(state, latest, level, tuple(waiting.values()), in_force, override)


def _severity(level: str) -> int:
    return Action(level).severity if level != Action.INCOMPLETE else 2


def _answered(
    need: Need,
    screening: TriageAssessment,
    clearances: list[Clearance],
    overrides: list[HoldOverride],
    today: datetime.date,
) -> bool:
    if any(o.overridden_at >= screening.assessed_at for o in overrides):
        return True
    for clearance in clearances:
        if need.code not in clearance.covers:
            continue
        if need.stable and _in_force(clearance, today):
            return True
        if not need.stable and clearance.recorded_at >= screening.assessed_at:
            return True
    return False


def get_hold_status(viewer: Viewer, patient_id: uuid.UUID) -> HoldStatus:
    """The patient's hold status for someone who may see the patient; one `hold.view` event."""
    return get_hold_status_of(viewer, find_patient(viewer, patient_id, action="hold.view"))


def get_hold_status_of(viewer: Viewer, patient: Patient) -> HoldStatus:
    """`get_hold_status` for a patient the caller already found for `viewer` with
    `find_patient` (or `find_own_patient`), so the record is not read twice; one `hold.view`
    event."""
    status = hold_status(patient)
    record_event(
        actor=viewer,
        action="hold.view",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"state": status.state.value},
    )
    return status


@dataclass(frozen=True)
class SafetySummary:
    """What anyone planning or giving treatment must see: the hold, the latest screening, its
    contraindication result and the conditions of the clearances in force, with the history
    behind them (screenings, overrides and letters, newest first)."""

    patient: Patient
    hold: HoldStatus
    precautions: dict[str, Any] = field(default_factory=dict)
    findings: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    letters: tuple[ReferralLetter, ...] = ()
    history: tuple[TriageAssessment, ...] = ()
    overrides: tuple[HoldOverride, ...] = ()
    restrictions: tuple[contraindications.Restriction, ...] = ()

    @property
    def assessment(self) -> TriageAssessment | None:
        return self.hold.assessment


def get_safety_summary(viewer: Viewer, patient_id: uuid.UUID) -> SafetySummary:
    """The patient's safety summary (hold, findings with the answers that fired them, the
    contraindication result, clearances, overrides, referral letters and past screenings), for
    clinic staff and the patient's referring clinician; one `safety.view` event."""
    patient = find_patient(
        viewer, patient_id, roles=CLEARANCE_ROLES, allow_self=False, action="safety.view"
    )
    # One load of screenings, clearances and overrides serves both the hold and the page.
    screenings = list(
        TriageAssessment.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("entered_by", "review__reviewed_by")
        .order_by("assessed_at", "created_at")
    )
    overrides = list(
        HoldOverride.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("overridden_by")
        .order_by("-overridden_at")
    )
    hold = (
        hold_from(
            screenings,
            Clearance.objects.filter(clinic_id=patient.clinic_id, patient=patient),
            overrides,
            patient.clinic.local_date(),
        )
        if screenings
        else HoldStatus(HoldState.NOT_SCREENED, None, "")
    )
    letters = tuple(
        ReferralLetter.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related("recipient", "written_by")
        .order_by("-written_at")
    )
    history = tuple(reversed(screenings[-100:]))
    latest = hold.assessment
    summary = SafetySummary(
        patient,
        hold,
        dict(latest.contraindication_result) if latest else {},
        findings_of(latest) if latest else (),
        letters,
        history,
        tuple(overrides),
        restrictions_of(latest) if latest else (),
    )
    record_event(
        actor=viewer,
        action="safety.view",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"state": hold.state.value},
    )
    return summary


def findings_of(
    assessment: TriageAssessment,
) -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(rule ID, title, sources, answers that fired it) for each rule the screening triggered."""
    answers = _stored_answers(assessment)
    rows = []
    for rule_id in assessment.triggered:
        title, _, sources = red_flags.rule_text(rule_id)
        fired = red_flags.contributing_items(answers, rule_id, _stored_settings(assessment))
        rows.append((rule_id, title, sources, fired))
    return tuple(rows)


def _stored_answers(assessment: TriageAssessment) -> red_flags.TriageAnswers:
    items = dict(assessment.answers)
    if isinstance(items.get("ng65_criteria"), list):
        items["ng65_criteria"] = frozenset(items["ng65_criteria"])
    known = {f.name for f in fields(red_flags.TriageAnswers)}
    return red_flags.TriageAnswers(**{k: v for k, v in items.items() if k in known})


def _stored_settings(assessment: TriageAssessment) -> red_flags.TriageSettings:
    return red_flags.settings_with(**assessment.rule_settings)


@dataclass(frozen=True)
class FindingDetail:
    """A rule a screening triggered, with its words for staff and for the patient, its sources,
    the level it gives and the answers that fired it."""

    rule_id: str
    title: str
    therapist_text: str
    patient_text: str
    sources: str
    level: str
    items: tuple[str, ...]


def finding_details(assessment: TriageAssessment) -> tuple[FindingDetail, ...]:
    """Every rule the screening triggered, in rule-ID order (RULES.md: every rule that fires
    shows its ID and source)."""
    answers = _stored_answers(assessment)
    settings = _stored_settings(assessment)
    try:
        for_patient = {
            f.rule_id: f.patient_text for f in red_flags.triage(answers, settings).findings
        }
    except ClinicalInputError:  # answers stored under an older rule set
        for_patient = {}
    soft = sum(1 for r in assessment.triggered if r.startswith("RF-SOFT-"))
    rows = []
    for rule_id in assessment.triggered:
        title, therapist_text, sources = red_flags.rule_text(rule_id)
        rows.append(
            FindingDetail(
                rule_id=rule_id,
                title=title,
                therapist_text=therapist_text,
                patient_text=for_patient.get(rule_id, title),
                sources=sources,
                level=_rule_level(rule_id, soft, assessment).value,
                items=red_flags.contributing_items(answers, rule_id, settings),
            )
        )
    return tuple(rows)


def restrictions_of(assessment: TriageAssessment) -> tuple[contraindications.Restriction, ...]:
    """What each contraindication condition of the screening asks (title, decision, source,
    note), from its stored answers and settings; only the conditions the stored result names."""
    given = {k: v for k, v in assessment.contraindication_answers.items() if v is not None}
    try:
        answers = contraindications.ContraindicationAnswers.from_mapping(given)
        settings = contraindications.settings_with(**assessment.contraindication_settings)
    except (ClinicalInputError, TypeError):  # stored under an older rule set
        return ()
    stored = set(assessment.contraindication_result.get("conditions", []))
    found = contraindications.assess(answers, settings).restrictions
    return tuple(r for r in found if r.condition in stored)


def patient_reasons(assessment: TriageAssessment) -> tuple[str, ...]:
    """Why the screening asks what it asks, in the patient's words: each rule's plain text and
    each condition that postpones massage or needs a doctor, without repeats."""
    reasons = [f.patient_text for f in finding_details(assessment)]
    for restriction in restrictions_of(assessment):
        if restriction.massage == contraindications.Massage.POSTPONE:
            reasons.append(f"{restriction.title}: no massage until this has settled.")
        elif restriction.clearance:
            reasons.append(
                f"{restriction.title}: massage waits for your {restriction.clearance}'s clearance."
            )
    return tuple(dict.fromkeys(reasons))


def stops_massage(assessment: TriageAssessment, hold: HoldStatus) -> bool:
    """Whether a massage must not start now: the patient may not be booked, or a condition of
    the screening postpones this session (RULES.md §2.1, "systemic - postpone")."""
    postponed = assessment.contraindication_result.get("massage") == "postpone"
    return not hold.may_book or postponed


@dataclass(frozen=True)
class SafetyActions:
    """What the viewer may do about a patient's safety from the page they are on."""

    review: bool = False
    write_letter: bool = False
    record_clearance: bool = False
    override: bool = False
    rescreen: bool = False


OVERRIDE_ROLES = frozenset({Role.CLINIC_ADMIN, Role.THERAPIST})
# A letter has nothing to ask the doctor when nothing was found, or the answers are missing.
_NO_LETTER_LEVELS = frozenset({Action.PROCEED.value, Action.INCOMPLETE.value})


def safety_actions(
    viewer: Viewer, hold: HoldStatus, assessment: TriageAssessment | None = None
) -> SafetyActions:
    """The buttons that apply: to the patient's latest screening (or to `assessment`, for
    reviewing it), by the viewer's roles at the patient's clinic. Not audited: no data."""
    latest = hold.assessment
    if latest is None:
        return SafetyActions()
    clinic_id = latest.clinic_id
    staff = clinic_id in clinics_where(viewer, CLINIC_STAFF_ROLES)
    may_clear = clinic_id in clinics_where(viewer, CLEARANCE_ROLES)
    is_latest = assessment is None or assessment.pk == latest.pk
    on_hold = hold.state == HoldState.ON_HOLD
    shown = assessment or latest
    return SafetyActions(
        review=staff and not hasattr(shown, "review"),
        write_letter=staff and is_latest and hold.level not in _NO_LETTER_LEVELS,
        record_clearance=may_clear and is_latest and bool(hold.waiting_for),
        override=on_hold
        and is_latest
        and hold.level != Action.EMERGENCY
        and clinic_id in clinics_where(viewer, OVERRIDE_ROLES),
        rescreen=staff,
    )


@dataclass(frozen=True)
class AssessmentDetail:
    """One screening with everything staff need to read it, and what they may do next."""

    assessment: TriageAssessment
    level: str
    findings: tuple[FindingDetail, ...]
    restrictions: tuple[contraindications.Restriction, ...]
    hold: HoldStatus
    actions: SafetyActions

    @property
    def is_latest(self) -> bool:
        return self.hold.assessment is not None and self.hold.assessment.pk == self.assessment.pk


def get_assessment_detail(viewer: Viewer, assessment_id: uuid.UUID) -> AssessmentDetail:
    """A screening with its findings, contraindication detail and the patient's hold now, for
    clinic staff and the patient's referring clinician; one `triage.view` event."""
    assessment = get_assessment(viewer, assessment_id)
    hold = hold_status(assessment.patient)
    return AssessmentDetail(
        assessment=assessment,
        level=overall_level(assessment),
        findings=finding_details(assessment),
        restrictions=restrictions_of(assessment),
        hold=hold,
        actions=safety_actions(viewer, hold, assessment),
    )


@dataclass(frozen=True)
class ScreeningOutcome:
    """What to do now after a re-screen: stop (the reasons, what is unanswered) or go ahead
    (the precautions)."""

    assessment: TriageAssessment
    level: str
    hold: HoldStatus
    stop: bool
    findings: tuple[FindingDetail, ...]
    restrictions: tuple[contraindications.Restriction, ...]
    reasons: tuple[str, ...]
    unanswered: tuple[str, ...]

    @property
    def unanswered_questions(self) -> tuple[str, ...]:
        """The unanswered items as the questions that ask them, without repeats."""
        return tuple(dict.fromkeys(question_for(item) for item in self.unanswered))


def get_screening_outcome(viewer: Viewer, assessment_id: uuid.UUID) -> ScreeningOutcome:
    """The outcome of a screening, for clinic staff and the patient themself (the page after a
    re-screen); a `triage.view` and a `hold.view` event."""
    assessment = (
        TriageAssessment.objects.filter(pk=assessment_id).select_related("patient__clinic").first()
    )
    if assessment is None:
        raise deny(
            viewer,
            action="triage.view",
            object_type="triage.triageassessment",
            object_id=str(assessment_id),
        )
    find_patient(viewer, assessment.patient_id, roles=CLINIC_STAFF_ROLES, action="triage.view")
    record_event(
        actor=viewer,
        action="triage.view",
        clinic_id=assessment.clinic_id,
        patient_id=assessment.patient_id,
        obj=assessment,
    )
    hold = get_hold_status(viewer, assessment.patient_id)
    unanswered = [*assessment.unanswered, *assessment.contraindication_result.get("unanswered", [])]
    return ScreeningOutcome(
        assessment=assessment,
        level=overall_level(assessment),
        hold=hold,
        stop=stops_massage(assessment, hold),
        findings=finding_details(assessment),
        restrictions=restrictions_of(assessment),
        reasons=patient_reasons(assessment),
        unanswered=tuple(dict.fromkeys(unanswered)),
    )


@dataclass(frozen=True)
class LetterDetail:
    """A referral letter with the findings and contraindications of its screening."""

    letter: ReferralLetter
    findings: tuple[FindingDetail, ...]
    restrictions: tuple[contraindications.Restriction, ...]
    may_clear: bool

    @property
    def assessment(self) -> TriageAssessment:
        return self.letter.assessment


def get_letter_detail(viewer: Viewer, letter_id: uuid.UUID) -> LetterDetail:
    """A referral letter ready to show or print, for clinic staff and the patient's referring
    clinician; one `referral_letter.view` event."""
    letter = get_referral_letter(viewer, letter_id)
    hold = hold_status(letter.patient)
    return LetterDetail(
        letter=letter,
        findings=finding_details(letter.assessment),
        restrictions=restrictions_of(letter.assessment),
        may_clear=safety_actions(viewer, hold).record_clearance,
    )


def _find_row(viewer: Viewer, model: Any, row_id: uuid.UUID, action: str, roles: Any) -> Any:
    """A row of `model` about a patient the viewer may see with `roles`; else audited 404."""
    row = model.objects.filter(pk=row_id).select_related("patient__clinic", "clinic").first()
    if row is None:
        raise deny(
            viewer, action=action, object_type=model._meta.label_lower, object_id=str(row_id)
        )
    find_patient(viewer, row.patient_id, roles=roles, allow_self=False, action=action)
    return row


def get_assessment(viewer: Viewer, assessment_id: uuid.UUID) -> TriageAssessment:
    """One screening, for clinic staff and the patient's referring clinician; audited."""
    row: TriageAssessment = _find_row(
        viewer, TriageAssessment, assessment_id, "triage.view", CLEARANCE_ROLES
    )
    record_event(
        actor=viewer,
        action="triage.view",
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        obj=row,
    )
    return row


def get_referral_letter(viewer: Viewer, letter_id: uuid.UUID) -> ReferralLetter:
    """A referral letter, for clinic staff and the patient's referring clinician; audited."""
    row: ReferralLetter = _find_row(
        viewer, ReferralLetter, letter_id, "referral_letter.view", CLEARANCE_ROLES
    )
    record_event(
        actor=viewer,
        action="referral_letter.view",
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        obj=row,
    )
    return row


def get_clearance(viewer: Viewer, clearance_id: uuid.UUID) -> Clearance:
    """A clearance and its document, for clinic staff and the referring clinician; audited."""
    row: Clearance = _find_row(viewer, Clearance, clearance_id, "clearance.view", CLEARANCE_ROLES)
    record_event(
        actor=viewer,
        action="clearance.view",
        clinic_id=row.clinic_id,
        patient_id=row.patient_id,
        obj=row,
    )
    return row


@dataclass(frozen=True)
class QueueEntry:
    """One patient in the triage queue: their latest screening and what it waits for."""

    assessment: TriageAssessment
    hold: HoldStatus
    waiting_for: str
    letters: int


_QUEUE_ORDER = {
    Action.EMERGENCY.value: 0,
    Action.URGENT_MEDICAL.value: 1,
    Action.INCOMPLETE.value: 2,
    Action.REFER_BEFORE_MASSAGE.value: 3,
    Action.PROCEED_WITH_PRECAUTIONS.value: 4,
    Action.PROCEED.value: 5,
}


def list_triage_queue(viewer: Viewer, clinic: Clinic | None) -> list[QueueEntry]:
    """Patients of the clinic whose latest screening still waits for something (answers, a
    letter, a clearance, a staff review), most severe level first, then oldest first. Clinic
    staff only; one `triage.queue` event."""
    clinic = require_roles(viewer, clinic, CLINIC_STAFF_ROLES, action="triage.queue")
    latest = TriageAssessment.objects.filter(clinic=clinic, patient=OuterRef("patient")).order_by(
        "-assessed_at", "-created_at"
    )
    # Newest first, so that a new emergency is never cut off by a long history.
    rows = list(
        TriageAssessment.objects.filter(clinic=clinic, pk=Subquery(latest.values("pk")[:1]))
        .select_related("patient", "patient__clinic", "review")
        .order_by("-assessed_at")[:QUEUE_LIMIT]
    )
    patient_ids = {row.patient_id for row in rows}
    letters = _letter_counts(clinic, patient_ids)
    screenings = _by_patient(
        TriageAssessment.objects.filter(clinic=clinic, patient_id__in=patient_ids).order_by(
            "assessed_at", "created_at"
        )
    )
    clearances = _by_patient(Clearance.objects.filter(clinic=clinic, patient_id__in=patient_ids))
    overrides = _by_patient(
        HoldOverride.objects.filter(clinic=clinic, patient_id__in=patient_ids).select_related(
            "overridden_by"
        )
    )
    today = clinic.local_date()
    entries = []
    for row in rows:
        pid = row.patient_id
        hold = hold_from(screenings[pid], clearances.get(pid, []), overrides.get(pid, []), today)
        reviewed = hasattr(row, "review")
        waiting = _waiting_for(hold, letters.get(row.patient_id, 0), reviewed)
        if waiting:
            entries.append(QueueEntry(row, hold, waiting, letters.get(row.patient_id, 0)))
    entries.sort(key=lambda e: (_QUEUE_ORDER.get(e.hold.level, 9), e.assessment.assessed_at))
    record_event(
        actor=viewer, action="triage.queue", clinic_id=clinic.pk, detail={"count": len(entries)}
    )
    return entries


QUEUE_LIMIT = 2000


def _by_patient(rows: Iterable[Any]) -> dict[uuid.UUID, list[Any]]:
    grouped: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.patient_id, []).append(row)
    return grouped


def _letter_counts(clinic: Clinic, patient_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    counts: dict[uuid.UUID, int] = {}
    for pid in ReferralLetter.objects.filter(clinic=clinic, patient_id__in=patient_ids).values_list(
        "patient_id", flat=True
    ):
        counts[pid] = counts.get(pid, 0) + 1
    return counts


def _waiting_for(hold: HoldStatus, letters: int, reviewed: bool) -> str:
    if hold.state == HoldState.INCOMPLETE:
        return "Answers to the unanswered safety questions"
    if hold.state == HoldState.ON_HOLD:
        if hold.level == Action.EMERGENCY:
            return "Confirmation that the patient sought emergency care, then a clearance"
        return "A clinician's clearance" if letters else "A referral letter, then a clearance"
    return "" if reviewed else "A staff review of the screening"


def list_letters_for_clinician(viewer: Viewer) -> list[ReferralLetter]:
    """Referral letters about the patients a referring clinician referred, newest first; one
    `referral_letter.list` event per clinic shown."""
    patients = visible_patients(viewer).filter(referred_by=viewer.pk)
    rows = list(
        ReferralLetter.objects.filter(patient__in=patients)
        .select_related("patient", "clinic", "assessment")
        .order_by("-written_at")[:200]
    )
    for clinic_id in {row.clinic_id for row in rows}:
        record_event(
            actor=viewer,
            action="referral_letter.list",
            clinic_id=clinic_id,
            detail={"count": sum(1 for r in rows if r.clinic_id == clinic_id)},
        )
    return rows


def rule_settings(
    clinic_id: uuid.UUID,
) -> tuple[red_flags.TriageSettings, contraindications.ContraindicationSettings]:
    """The clinic's red-flag and contraindication settings: its overrides on the defaults.
    Not patient data; for services that already checked the actor."""
    stored = ClinicRuleSettings.objects.filter(clinic_id=clinic_id).first()
    if stored is None:
        return red_flags.DEFAULT_SETTINGS, contraindications.DEFAULT_SETTINGS
    return (
        red_flags.settings_with(**stored.triage),
        contraindications.settings_with(**stored.contraindications),
    )


def get_rule_settings(
    viewer: Viewer, clinic: Clinic | None
) -> tuple[red_flags.TriageSettings, contraindications.ContraindicationSettings]:
    """The clinic's rule settings for its admins (the clinical settings page)."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.rule_settings")
    return rule_settings(clinic.pk)


def list_assessments(viewer: Viewer, patient_id: uuid.UUID) -> list[TriageAssessment]:
    """The patient's safety screenings, newest first; one `triage.list` event."""
    patient = find_patient(viewer, patient_id, action="triage.list")
    rows = list(
        TriageAssessment.objects.filter(
            clinic_id=patient.clinic_id, patient=patient
        ).select_related("entered_by")
    )
    record_event(
        actor=viewer,
        action="triage.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(rows)},
    )
    return rows


def holds_of(clinic: Clinic, patients: list[Patient]) -> dict[uuid.UUID, HoldStatus]:
    """The hold of each of `patients` (one page of a clinic-wide export), in three queries
    whatever the page's size. Not audited: the export's kick-off checked and audited the clinic
    admin."""
    ids = {p.pk for p in patients}
    screenings = _by_patient(
        TriageAssessment.objects.filter(clinic=clinic, patient_id__in=ids).order_by(
            "assessed_at", "created_at"
        )
    )
    if not screenings:
        return {pid: HoldStatus(HoldState.NOT_SCREENED, None, "") for pid in ids}
    clearances = _by_patient(Clearance.objects.filter(clinic=clinic, patient_id__in=ids))
    overrides = _by_patient(
        HoldOverride.objects.filter(clinic=clinic, patient_id__in=ids).select_related(
            "overridden_by"
        )
    )
    today = clinic.local_date()
    return {
        pid: hold_from(screenings[pid], clearances.get(pid, []), overrides.get(pid, []), today)
        if pid in screenings
        else HoldStatus(HoldState.NOT_SCREENED, None, "")
        for pid in ids
    }


def letters_after(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[ReferralLetter]:
    """One page of the clinic's referral letters, by id, for a clinic-wide export; see
    `patients.queries.patients_after`."""
    return page_after(ReferralLetter.objects.filter(clinic=clinic), after, limit)


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every triage table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(ClinicRuleSettings.objects.filter(clinic=clinic)),
        table_of(TriageAssessment.objects.filter(clinic=clinic)),
        table_of(ReferralLetter.objects.filter(clinic=clinic)),
        table_of(Clearance.objects.filter(clinic=clinic)),
        table_of(HoldOverride.objects.filter(clinic=clinic)),
        table_of(ScreeningReview.objects.filter(clinic=clinic)),
    ]
