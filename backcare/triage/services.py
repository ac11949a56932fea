"""Recording safety screenings, and a clinic's changes to the rule defaults."""

import uuid
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, acting_user, require_roles
from backcare.clinical import contraindications, red_flags
from backcare.clinical.errors import ClinicalInputError
from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError
from backcare.core.jsonable import to_json
from backcare.patients.queries import SEE_ALL_ROLES, find_patient
from backcare.triage.models import ClinicRuleSettings, EntryMethod, TriageAssessment
from backcare.triage.queries import rule_settings


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
) -> TriageAssessment:
    """Screen the patient with the clinic's rules and store the answers, the result and the
    rule versions and settings that produced it.

    `answers` holds the red-flag items (RULES.md §1.2); an item left out is *unanswered*, never
    "no". Age defaults to the patient's age at the clinic's date. The patient may screen
    themself (method portal); staff of their clinic enter answers (method staff). Raises
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
        ci_input = contraindications.ContraindicationAnswers.from_mapping(
            contraindication_answers or {}
        )
        ci_result = contraindications.assess(ci_input, ci_settings)
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
            method=EntryMethod.PORTAL if patient.user_id == actor.pk else EntryMethod.STAFF,
            answers=to_json(items),
            unanswered=list(flags.unanswered),
            action=flags.action.value,
            triggered=list(flags.triggered),
            referral=flags.referral or "",
            rules_version=flags.rules_version,
            rule_settings=to_json(triage_settings),
            contraindication_answers=to_json(contraindication_answers or {}),
            contraindication_result=to_json(_ci_summary(ci_result)),
            contraindication_version=ci_result.rules_version,
            contraindication_settings=to_json(ci_settings),
        )
        record_event(
            actor=actor,
            action="triage.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=assessment,
            detail={"rules_version": flags.rules_version},
        )
        return assessment


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


def _ci_summary(result: contraindications.ContraindicationResult) -> dict[str, Any]:
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
