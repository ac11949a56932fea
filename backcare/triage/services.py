"""Recording safety screenings, and a clinic's changes to the rule defaults."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.accounts.queries import (
    ADMIN_ROLES,
    CLINIC_STAFF_ROLES,
    Viewer,
    acting_user,
    require_roles,
)
from backcare.clinical import contraindications, red_flags
from backcare.clinical.body import CLINICAL_REGION_CODES
from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.numbers import months_between
from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError, full_clean_or_invalid
from backcare.core.jsonable import to_json
from backcare.patients.models import Patient
from backcare.patients.queries import SEE_ALL_ROLES, find_patient
from backcare.triage.models import (
    Clearance,
    ClinicRuleSettings,
    EntryMethod,
    HoldOverride,
    ReferralLetter,
    ScreeningKind,
    ScreeningReview,
    TriageAssessment,
)
from backcare.triage.queries import (
    CLEARANCE_ROLES,
    OVERRIDE_ROLES,
    HoldState,
    get_assessment,
    hold_status,
    rule_settings,
)
from backcare.triage.vocabulary import TECHNIQUE_CODES


def invalid(error: ClinicalInputError) -> InvalidInputError:
    """The clinical core's error as a domain error naming the field to fix."""
    return InvalidInputError(error.message, field_errors={error.item or "answers": error.message})


def record_triage(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    answers: Mapping[str, Any],
    contraindication_answers: Mapping[str, Any] | None = None,
    assessed_at: datetime | None = None,
    kind: str = ScreeningKind.INTAKE,
    method: str | None = None,
    changes_since_last: str = "",
    carried_items: list[str] | None = None,
) -> TriageAssessment:
    """Screen the patient with the clinic's rules and store the answers, the result and the
    rule versions and settings that produced it.

    `answers` holds the red-flag items (RULES.md §1.2); an item left out is *unanswered*, never
    "no". A yes/no contraindication condition given as None is unanswered too: when answering
    it "yes" could change the result, the result lists it under `unanswered` and the screening
    is incomplete (`triage.queries.overall_level`). Age defaults to the patient's age at the
    clinic's date. The patient may screen
    themself (method portal); staff of their clinic enter answers (method staff, or paper for a
    paper form). `kind` tells an intake from a re-screen before a visit. Raises
    `InvalidInputError` naming the item for invalid answers, `NotFoundError` for others.
    """
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="triage.create")
    when = assessed_at or timezone.now()
    triage_settings, ci_settings = rule_settings(patient.clinic_id)
    items = dict(answers)
    items.setdefault("age", patient.age_on(patient.clinic.local_date(when)))
    try:
        if isinstance(items.get("ng65_criteria"), list | tuple | set):
            items["ng65_criteria"] = frozenset(items["ng65_criteria"])
        flags = red_flags.triage(_triage_answers(items), triage_settings)
        given = dict(contraindication_answers or {})
        unsure = sorted(k for k, v in given.items() if v is None and k in _YES_NO_CONDITIONS)
        ci_input = contraindications.ContraindicationAnswers.from_mapping(
            {k: v for k, v in given.items() if k not in unsure}
        )
        ci_result = contraindications.assess(ci_input, ci_settings)
        ci_unanswered = _blocking_conditions(ci_input, unsure, ci_result, ci_settings)
        # An unsure condition that cannot postpone or hold still brings its precautions
        # (pressure caps, techniques, regions): never treated as "no" (RULES.md §0.2).
        assumed: dict[str, Any] = {name: True for name in unsure if name not in ci_unanswered}
        if assumed:
            ci_result = contraindications.assess(replace(ci_input, **assumed), ci_settings)
    except (ClinicalInputError, TypeError) as error:
        raise invalid(
            error if isinstance(error, ClinicalInputError) else _type_error(error)
        ) from error
    with transaction.atomic():
        assessment = TriageAssessment.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            assessed_at=when,
            entered_by=acting_user(actor),
            method=_entry_method(method, is_self=patient.user_id == actor.pk),
            kind=ScreeningKind(kind),
            changes_since_last=changes_since_last,
            carried_items=carried_items or [],
            answers=to_json(items),
            unanswered=list(flags.unanswered),
            action=flags.action.value,
            triggered=list(flags.triggered),
            referral=flags.referral or "",
            rules_version=flags.rules_version,
            rule_settings=to_json(triage_settings),
            contraindication_answers=to_json(contraindication_answers or {}),
            contraindication_result=to_json(
                {**_ci_summary(ci_result, ci_unanswered), "assumed": sorted(assumed)}
            ),
            contraindication_version=ci_result.rules_version,
            contraindication_settings=to_json(ci_settings),
        )
        record_event(
            actor=actor,
            action="triage.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=assessment,
            detail={"rules_version": flags.rules_version, "kind": kind},
        )
        return assessment


def _entry_method(method: str | None, *, is_self: bool) -> str:
    if is_self:
        return EntryMethod.PORTAL
    return EntryMethod.PAPER if method == EntryMethod.PAPER else EntryMethod.STAFF


def _triage_answers(items: Mapping[str, Any]) -> red_flags.TriageAnswers:
    known = {f.name for f in fields(red_flags.TriageAnswers)}
    stray = sorted(set(items) - known)
    if stray:
        raise ClinicalInputError(
            "unknown_item", f"Unknown triage items: {', '.join(stray)}.", item=stray[0]
        )
    return red_flags.TriageAnswers(**items)


def _type_error(error: TypeError) -> ClinicalInputError:
    return ClinicalInputError("invalid", f"Answers could not be read: {error}.")


_YES_NO_CONDITIONS = frozenset(
    f.name for f in fields(contraindications.ContraindicationAnswers) if f.type is bool
)
_MASSAGE_ORDER = list(contraindications.Massage)
_MEDICAL_ORDER = list(contraindications.Medical)


def _blocking_conditions(
    answers: contraindications.ContraindicationAnswers,
    unsure: list[str],
    result: contraindications.ContraindicationResult,
    settings: contraindications.ContraindicationSettings,
) -> tuple[str, ...]:
    """The unanswered conditions that, answered "yes", could postpone the massage, call for a
    doctor sooner or require a clearance (RULES.md §0.2 for the contraindications): each one
    that could on its own, or all of them when only together they could."""

    def raises(names: list[str]) -> bool:
        changes: dict[str, Any] = dict.fromkeys(names, True)
        probe = contraindications.assess(replace(answers, **changes), settings)
        return (
            _MASSAGE_ORDER.index(probe.massage) > _MASSAGE_ORDER.index(result.massage)
            or _MEDICAL_ORDER.index(probe.medical) > _MEDICAL_ORDER.index(result.medical)
            or not set(probe.clearance_required) <= set(result.clearance_required)
        )

    if not unsure or not raises(unsure):
        return ()
    return tuple(name for name in unsure if raises([name])) or tuple(unsure)


def _ci_summary(
    result: contraindications.ContraindicationResult, unanswered: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "massage": result.massage,
        "medical": result.medical,
        "clearance_required": result.clearance_required,
        "max_pressure_level": result.max_pressure_level,
        "regional_pressure_caps": result.regional_pressure_caps,
        "excluded_techniques": result.excluded_techniques,
        "region_restrictions": result.region_restrictions,
        "positions": result.positions,
        "conditions": result.conditions,
        "unanswered": list(unanswered),
    }


def save_rule_settings(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    triage: Mapping[str, int],
    contraindication: Mapping[str, int],
) -> ClinicRuleSettings:
    """Store a clinic's overrides of the red-flag and contraindication defaults (admins only).
    Values equal to the default are dropped, so the page keeps showing them as defaults.
    Raises `InvalidInputError` naming a setting out of range."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="clinic.rule_settings")
    try:
        red_flags.settings_with(**triage)
        contraindications.settings_with(**contraindication)
    except ClinicalInputError as error:
        raise invalid(error) from error
    triage_defaults = {name: default for name, _, default, _ in red_flags.describe()}
    ci_defaults = {name: default for name, _, default, _ in contraindications.describe()}
    with transaction.atomic():
        stored, _ = ClinicRuleSettings.objects.get_or_create(clinic=clinic)
        stored.triage = {k: v for k, v in triage.items() if v != triage_defaults[k]}
        stored.contraindications = {
            k: v for k, v in contraindication.items() if v != ci_defaults[k]
        }
        stored.updated_by = acting_user(actor)
        stored.save()
        record_event(
            actor=actor,
            action="clinic.rule_settings",
            clinic_id=clinic.pk,
            obj=stored,
            detail={"changed": sorted([*stored.triage, *stored.contraindications])},
        )
        return stored


# --- Re-screen before a visit ---------------------------------------------------------------------

# The short questions asked before every visit (RULES.md §1: re-screen every visit): symptoms
# that can appear between visits. Items not asked again are carried forward from the last
# screening, so a history already given (cancer, osteoporosis) still counts.
RESCREEN_ITEMS = (
    *red_flags.CES_ITEMS,
    "progressive_leg_weakness_or_foot_drop",
    "bilateral_leg_radicular_symptoms",
    "new_limb_weakness_or_sensory_loss",
    "difficulty_walking",
    "fever_or_systemically_unwell",
    "unexplained_weight_loss",
    "major_trauma",
    "minor_trauma_or_lift",
    "night_pain_preventing_sleep",
    "constant_night_pain_not_eased_by_position",
    "sudden_severe_pain_unchanged_by_movement",
    "collapse_or_faintness",
    "pulsatile_abdominal_mass",
)
RESCREEN_CONDITIONS = (
    "suspected_dvt",
    "dvt_chest_pain_or_breathless",
    "fever",
    "collapse_or_faintness",
    "pulsatile_abdominal_mass",
)


def record_rescreen(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    answers: Mapping[str, Any],
    conditions: Mapping[str, bool | None],
    changes_since_last: str = "",
) -> TriageAssessment:
    """Re-screen before a visit: the short questions (`RESCREEN_ITEMS`, `RESCREEN_CONDITIONS`)
    answered now, the rest carried forward from the latest completed screening, evaluated as a
    new screening. None ("not sure") is unanswered, never "no", for items and conditions alike.
    A new flag holds the patient like an intake would (see `triage.queries`). Staff of the
    clinic and the patient themself may re-screen. Raises `InvalidInputError` when there is no
    earlier screening to build on or a question is not one of the re-screen's."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="triage.create")
    earlier = list(
        TriageAssessment.objects.filter(clinic_id=patient.clinic_id, patient=patient).order_by(
            "assessed_at", "created_at"
        )
    )
    if not earlier:
        raise InvalidInputError(
            "This patient has no screening yet: complete the intake first.",
            field_errors={"answers": "Complete the intake's safety questions first."},
        )
    stray = sorted(set(answers) - set(RESCREEN_ITEMS)) + sorted(
        set(conditions) - set(RESCREEN_CONDITIONS)
    )
    if stray:
        raise InvalidInputError(
            f"Not a re-screen question: {stray[0]}.", field_errors={stray[0]: "Unknown question."}
        )
    items = _carried_answers(earlier, patient.clinic.local_date())
    carried_items = sorted(k for k in items if k not in answers)
    items.update(answers)
    carried: dict[str, Any] = {}
    for screening in earlier:
        carried.update(
            {k: v for k, v in screening.contraindication_answers.items() if v is not None}
        )
    carried.update(conditions)
    return record_triage(
        actor=actor,
        patient_id=patient.pk,
        answers=items,
        contraindication_answers=carried,
        kind=ScreeningKind.RESCREEN,
        changes_since_last=changes_since_last.strip(),
        carried_items=carried_items,
    )


def _carried_answers(earlier: list[TriageAssessment], today: date) -> dict[str, Any]:
    """The latest known answer to each item over the earlier screenings (an item unanswered
    later keeps its earlier answer), with the episode's length brought up to today."""
    items: dict[str, Any] = {}
    for screening in earlier:
        known = {k: v for k, v in screening.answers.items() if v is not None and k != "age"}
        if "lbp_duration_months" in known:
            known["lbp_duration_months"] += months_between(screening.assessed_at.date(), today)
        items.update(known)
    return items


# --- Referral letters, clearances, overrides ------------------------------------------------------

DOCUMENT_TYPES = {"pdf": "PDF", "jpg": "JPEG", "png": "PNG"}
DOCUMENT_CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def write_referral_letter(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    recipient_name: str,
    recipient_address: str = "",
    note: str = "",
    send_to_referrer: bool = False,
) -> ReferralLetter:
    """Write a referral letter about the patient's latest screening to their doctor (clinic
    staff). With `send_to_referrer`, the patient's referring clinician (a BackCare user) is the
    recipient and may read it and record the clearance. Raises `InvalidInputError` when there
    is no screening or no doctor's name."""
    patient = find_patient(
        actor,
        patient_id,
        roles=CLINIC_STAFF_ROLES,
        allow_self=False,
        action="referral_letter.create",
    )
    latest = hold_status(patient).assessment
    if latest is None:
        raise InvalidInputError(
            "There is no screening to refer: complete the intake first.",
            field_errors={"recipient_name": "No screening yet."},
        )
    recipient = patient.referred_by if send_to_referrer else None
    if send_to_referrer and recipient is None:
        raise InvalidInputError(
            "This patient has no referring clinician with a BackCare login.",
            field_errors={"send_to_referrer": "Untick this, or add the referring clinician."},
        )
    name = recipient_name.strip() or (recipient.full_name if recipient else "")
    if not name:
        raise InvalidInputError(
            "Give the doctor's name.", field_errors={"recipient_name": "Give the doctor's name."}
        )
    letter = ReferralLetter(
        clinic_id=patient.clinic_id,
        patient=patient,
        assessment=latest,
        recipient_name=name,
        recipient_address=recipient_address.strip(),
        recipient=recipient,
        note=note.strip(),
        written_by=acting_user(actor),
        written_at=timezone.now(),
    )
    # Checked before the insert: an over-long name is refused, never cut (PostgreSQL would
    # refuse it with a 500 otherwise).
    full_clean_or_invalid(letter)
    _check_lengths(letter, recipient_address=500, note=2000)
    with transaction.atomic():
        letter.save(force_insert=True)
        record_event(
            actor=actor,
            action="referral_letter.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=letter,
            detail={"to_backcare_user": recipient is not None},
        )
        return letter


def _check_lengths(row: Any, **limits: int) -> None:
    # Model validation does not check a TextField's max_length; forms do, services must too.
    for name, limit in limits.items():
        if len(getattr(row, name)) > limit:
            message = f"Write at most {limit} characters."
            raise InvalidInputError(message, field_errors={name: message})


def check_document(upload: UploadedFile | None, what: str = "clearance document") -> str:
    """The document's type ("pdf", "jpg" or "png") read from its content. Raises
    `InvalidInputError` naming the `document` field for a missing, empty, oversized or
    unrecognised file; `what` names the document in the messages."""
    limit = settings.BACKCARE_MAX_UPLOAD_BYTES
    if upload is None:
        raise _bad_document(f"Attach the {what} (PDF, JPEG or PNG).")
    if not upload.size:
        raise _bad_document(f"The file is empty. Attach the {what} again.")
    if upload.size > limit:
        raise _bad_document(
            f"The file is {_size(upload.size)}; the largest accepted is {_size(limit)}. "
            "Scan it at a lower resolution or save it as a PDF."
        )
    upload.seek(0)
    kind = filetype.guess(upload.read(262))
    upload.seek(0)
    if kind is None or kind.extension not in DOCUMENT_TYPES:
        found = f"a {kind.extension.upper()} file" if kind else "not a file type we recognise"
        raise _bad_document(f"Upload a PDF, JPEG or PNG document; this one is {found}.")
    return str(kind.extension)


def _bad_document(message: str) -> InvalidInputError:
    return InvalidInputError(message, field_errors={"document": message})


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1_048_576:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1_048_576:.1f} MB"


def record_clearance(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    clinician_name: str,
    clinician_role: str,
    cleared_on: date,
    document: UploadedFile | None,
    valid_until: date | None = None,
    restricted_regions: list[str] | None = None,
    excluded_techniques: list[str] | None = None,
    max_pressure_level: int | None = None,
    conditions: str = "",
) -> Clearance:
    """Record a clinician's clearance of the patient's latest screening, with its conditions
    and the uploaded document. Clinic staff and the patient's referring clinician may record
    it; it answers every finding of that screening (`triage.queries.needs_of`). Raises
    `InvalidInputError` for a bad document or field, or when nothing waits for a clearance."""
    patient = find_patient(
        actor, patient_id, roles=CLEARANCE_ROLES, allow_self=False, action="clearance.create"
    )
    status = hold_status(patient)
    latest = status.assessment
    if latest is None:
        raise InvalidInputError(
            "There is no screening to clear.",
            field_errors={"clinician_name": "Complete the screening first."},
        )
    needs = status.waiting_for
    if not needs:
        raise InvalidInputError(
            "Nothing waits for a clearance: every finding is already answered.",
            field_errors={"clinician_name": "No clearance is needed."},
        )
    extension = check_document(document)
    assert document is not None
    _check_restrictions(restricted_regions or [], excluded_techniques or [], max_pressure_level)
    letter = (
        ReferralLetter.objects.filter(clinic_id=patient.clinic_id, assessment=latest)
        .order_by("-written_at")
        .first()
    )
    with transaction.atomic():
        clearance = Clearance(
            clinic_id=patient.clinic_id,
            patient=patient,
            assessment=latest,
            letter=letter,
            covers=[need.code for need in needs],
            clinician_name=clinician_name.strip(),
            clinician_role=clinician_role.strip(),
            cleared_on=cleared_on,
            valid_until=valid_until,
            restricted_regions=sorted(set(restricted_regions or [])),
            excluded_techniques=sorted(set(excluded_techniques or [])),
            max_pressure_level=max_pressure_level,
            conditions=conditions.strip(),
            document_name=(document.name or "document")[-200:],
            document_type=extension,
            document_bytes=document.size or 0,
            recorded_by=acting_user(actor),
            recorded_at=timezone.now(),
        )
        full_clean_or_invalid(clearance, exclude=["document"])
        _check_lengths(clearance, conditions=2000)
        _check_dates(patient.clinic.local_date(), cleared_on, valid_until)
        clearance.document.save(f"{clearance.pk}.{extension}", document, save=False)
        clearance.save()
        record_event(
            actor=actor,
            action="clearance.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=clearance,
            detail={"covers": clearance.covers, "document_type": extension},
        )
        return clearance


def _check_restrictions(regions: list[str], techniques: list[str], pressure: int | None) -> None:
    unknown = [r for r in regions if r not in CLINICAL_REGION_CODES]
    if unknown:
        raise InvalidInputError(
            f"Unknown region {unknown[0]!r}.",
            field_errors={"restricted_regions": "Unknown region."},
        )
    if pressure is not None and not 0 <= pressure <= 5:
        raise InvalidInputError(
            "The pressure limit is a level from 0 to 5.",
            field_errors={"max_pressure_level": "Choose a level from 0 to 5."},
        )
    strange = [t for t in techniques if t not in TECHNIQUE_CODES]
    if strange:
        raise InvalidInputError(
            f"Unknown technique {strange[0]!r}.",
            field_errors={"excluded_techniques": "Choose techniques from the list."},
        )


def _check_dates(today: date, cleared_on: date, valid_until: date | None) -> None:
    if cleared_on > today:
        raise InvalidInputError(
            "The clearance date is in the future.",
            field_errors={"cleared_on": "Give the date the clinician cleared the patient."},
        )
    if valid_until is not None and valid_until < cleared_on:
        raise InvalidInputError(
            "The clearance ends before it was given.",
            field_errors={"valid_until": "Give a date on or after the clearance date."},
        )
    if valid_until is not None and valid_until < today:
        raise InvalidInputError(
            "This clearance has already ended, so it cannot clear the patient.",
            field_errors={"valid_until": "Give today's date or later, or leave it empty."},
        )


def override_hold(*, actor: Viewer, patient_id: uuid.UUID, reason: str) -> HoldOverride:
    """Let a patient on hold be booked without a clearance, for a written reason (clinic admins
    and therapists). Answers the latest screening only. An emergency finding cannot be
    overridden. Raises `InvalidInputError` without a reason or when nothing is on hold."""
    patient = find_patient(
        actor, patient_id, roles=OVERRIDE_ROLES, allow_self=False, action="hold.override"
    )
    status = hold_status(patient)
    if status.state != HoldState.ON_HOLD or status.assessment is None:
        raise InvalidInputError(
            "This patient is not on hold.", field_errors={"reason": "Nothing to override."}
        )
    if status.level == red_flags.Action.EMERGENCY:
        raise InvalidInputError(
            "An emergency finding cannot be overridden: record a clearance, or a new screening "
            "if an answer was wrong.",
            field_errors={"reason": "Emergency findings need a clinician's clearance."},
        )
    if len(reason.strip()) > 2000:
        raise InvalidInputError(
            "Write at most 2000 characters.",
            field_errors={"reason": "Write at most 2000 characters."},
        )
    if len(reason.strip()) < 10:
        raise InvalidInputError(
            "Write why the patient may be booked without a clearance.",
            field_errors={"reason": "Write the reason (at least 10 characters)."},
        )
    with transaction.atomic():
        override = HoldOverride.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            assessment=status.assessment,
            reason=reason.strip(),
            overridden_by=acting_user(actor),
            overridden_at=timezone.now(),
        )
        record_event(
            actor=actor,
            action="hold.override",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=override,
            detail={"waiting_for": [need.code for need in status.waiting_for]},
        )
        return override


def review_screening(*, actor: Viewer, assessment_id: uuid.UUID) -> ScreeningReview:
    """Mark a screening as read by clinic staff (it then leaves the triage queue unless it still
    waits for a clearance or answers). Reviewing twice keeps the first review."""
    assessment = get_assessment(actor, assessment_id)
    find_patient(
        actor,
        assessment.patient_id,
        roles=CLINIC_STAFF_ROLES,
        allow_self=False,
        action="triage.review",
    )
    with transaction.atomic():
        review, created = ScreeningReview.objects.get_or_create(
            assessment=assessment,
            defaults={
                "clinic_id": assessment.clinic_id,
                "reviewed_by": acting_user(actor),
                "reviewed_at": timezone.now(),
            },
        )
        if created:
            record_event(
                actor=actor,
                action="triage.review",
                clinic_id=assessment.clinic_id,
                patient_id=assessment.patient_id,
                obj=assessment,
            )
        return review


# --- Import of a patient's record from another clinic -------------------------------------------


@dataclass(frozen=True)
class ImportedClearance:
    """A clearance in force at the source clinic, as its bundle describes it."""

    clinician_name: str
    clinician_role: str
    cleared_on: date
    valid_until: date | None
    covers: tuple[str, ...]
    restricted_regions: tuple[str, ...] = ()
    excluded_techniques: tuple[str, ...] = ()
    max_pressure_level: int | None = None
    conditions: str = ""


@dataclass(frozen=True)
class ImportedSafety:
    """The safety state of an imported record: the hold as the source had it, the time and
    red-flag findings of its latest screening and its contraindication result (as
    `record_triage` stores it: the limits treatment keeps), the clearances in force, staff's
    override of that screening, and the referral letters about it (doctor's name, when
    written)."""

    state: HoldState
    screened_at: datetime | None = None
    findings: tuple[str, ...] = ()
    clearances: tuple[ImportedClearance, ...] = ()
    override: tuple[str, datetime] | None = None
    letters: tuple[tuple[str, datetime], ...] = ()
    precautions: Mapping[str, Any] = field(default_factory=dict)


# What an imported screening records as the rules that produced it: the source's result, kept.
IMPORTED_RULES_VERSION = f"imported: {red_flags.RULES_VERSION}"


def import_safety_record(*, actor: Viewer, patient_id: uuid.UUID, record: ImportedSafety) -> None:
    """Rebuild an imported patient's safety state (clinic admins; `NotFoundError`, audited,
    for others): one screening at the source's time holding its red-flag findings (the
    answers stay with the source clinic), the clearances in force answering it (their
    documents stay there too), the override and the referral letters. The patient must end
    in the source's hold state: a patient on hold there is on hold here, one cleared stays
    cleared. `InvalidInputError` when the record cannot give that state (a hold that rests on
    findings the bundle does not carry), or for an unknown rule, region or technique."""
    patient = find_patient(
        actor, patient_id, roles=ADMIN_ROLES, allow_self=False, action="triage.import"
    )
    screened_at = record.screened_at
    if screened_at is None:
        if record.state != HoldState.NOT_SCREENED or record.findings or record.letters:
            raise InvalidInputError("A hold, finding or referral needs the screening's time.")
        return
    with transaction.atomic():
        assessment = _import_screening(actor, patient, record, screened_at)
        for clearance in record.clearances:
            _import_clearance(actor, assessment, clearance)
        if record.override is not None:
            reason, overridden_at = record.override
            HoldOverride.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                assessment=assessment,
                reason=reason,
                overridden_by=acting_user(actor),
                overridden_at=overridden_at,
            )
        for recipient_name, written_at in record.letters:
            _import_letter(actor, assessment, recipient_name, written_at)
        state = hold_status(patient).state
        if state != record.state:
            raise InvalidInputError(
                f"The record's hold ({record.state}) cannot be rebuilt from its findings and "
                f"clearances, which give {state}; clear or resolve it at the source first."
            )
        record_event(
            actor=actor,
            action="triage.import",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=assessment,
            detail={"state": state.value, "findings": list(record.findings)},
        )


def _import_screening(
    actor: Viewer, patient: Patient, record: ImportedSafety, screened_at: datetime
) -> TriageAssessment:
    try:
        action = red_flags.action_of_findings(record.findings)
    except KeyError as unknown:
        raise InvalidInputError(f"Unknown red-flag rule {unknown.args[0]!r}.") from unknown
    if record.state == HoldState.INCOMPLETE:
        action = red_flags.Action.INCOMPLETE
    triage_settings, ci_settings = rule_settings(patient.clinic_id)
    precautions = _checked_precautions(record.precautions)
    return TriageAssessment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        assessed_at=screened_at,
        entered_by=acting_user(actor),
        method=EntryMethod.PAPER,
        kind=ScreeningKind.INTAKE,
        answers={},
        action=action.value,
        triggered=list(record.findings),
        rules_version=IMPORTED_RULES_VERSION,
        rule_settings=to_json(triage_settings),
        contraindication_result=to_json(precautions),
        contraindication_version=IMPORTED_RULES_VERSION,
        contraindication_settings=to_json(ci_settings),
    )


# What a stored contraindication result holds (`_ci_summary`), with its type.
_PRECAUTION_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "massage": (str, type(None)),
    "medical": (str, type(None)),
    "clearance_required": list,
    "max_pressure_level": (int, type(None)),
    "regional_pressure_caps": list,
    "excluded_techniques": list,
    "region_restrictions": list,
    "positions": list,
    "conditions": list,
    "unanswered": list,
    "assumed": list,
}


def _checked_precautions(given: Mapping[str, Any]) -> dict[str, Any]:
    """An imported contraindication result, refused unless it has the shape `_ci_summary`
    writes. Codes are kept as given: an unknown technique or region only adds a limit."""
    for key, value in given.items():
        if key not in _PRECAUTION_TYPES or not isinstance(value, _PRECAUTION_TYPES[key]):
            raise InvalidInputError(f"The screening's precautions hold an unknown {key!r}.")
    caps = given.get("regional_pressure_caps", [])
    if not all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in caps):
        raise InvalidInputError("A regional pressure cap of the screening is a region and a level.")
    cap = given.get("max_pressure_level")
    levels = [level for _, level in caps] + ([cap] if cap is not None else [])
    if not all(isinstance(level, int) and 0 <= level <= 5 for level in levels):
        raise InvalidInputError("A pressure limit of the screening is not a level from 0 to 5.")
    named = [*given.get("excluded_techniques", []), *given.get("region_restrictions", [])]
    if not all(isinstance(code, str) for code in named):
        raise InvalidInputError("The screening's precautions name techniques and regions by code.")
    return dict(given)


def _import_clearance(
    actor: Viewer, assessment: TriageAssessment, given: ImportedClearance
) -> Clearance:
    regions, techniques = list(given.restricted_regions), list(given.excluded_techniques)
    _check_restrictions(regions, techniques, given.max_pressure_level)
    clearance = Clearance(
        clinic_id=assessment.clinic_id,
        patient_id=assessment.patient_id,
        assessment=assessment,
        covers=list(given.covers),
        clinician_name=given.clinician_name.strip(),
        clinician_role=given.clinician_role.strip(),
        cleared_on=given.cleared_on,
        valid_until=given.valid_until,
        restricted_regions=sorted(set(regions)),
        excluded_techniques=sorted(set(techniques)),
        max_pressure_level=given.max_pressure_level,
        conditions=given.conditions.strip(),
        document_name="",
        document_type="",
        document_bytes=0,
        recorded_by=acting_user(actor),
        recorded_at=assessment.assessed_at,
    )
    full_clean_or_invalid(
        clearance, exclude=["document", "document_name", "document_type", "patient"]
    )
    _check_lengths(clearance, conditions=2000)
    clearance.save()
    return clearance


def _import_letter(
    actor: Viewer, assessment: TriageAssessment, recipient_name: str, written_at: datetime
) -> ReferralLetter:
    letter = ReferralLetter(
        clinic_id=assessment.clinic_id,
        patient_id=assessment.patient_id,
        assessment=assessment,
        recipient_name=recipient_name.strip(),
        written_by=acting_user(actor),
        written_at=written_at,
    )
    full_clean_or_invalid(letter, exclude=["patient"])
    letter.save()
    return letter
