"""Recording outcome measurements, loading licensed instrument wording, and a clinic's outcome
settings."""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, acting_user, require_roles
from backcare.clinical import change, instruments
from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.numbers import exact, half_up
from backcare.core.audit import record_event
from backcare.core.errors import InvalidInputError
from backcare.core.jsonable import to_json
from backcare.outcomes.models import (
    InstrumentText,
    MeasurementMethod,
    OutcomeMeasurement,
    OutcomeSettings,
)
from backcare.outcomes.queries import outcome_settings
from backcare.patients.queries import SEE_ALL_ROLES, find_patient
from backcare.triage.services import invalid


def record_measurement(
    *,
    actor: Viewer,
    patient_id: uuid.UUID,
    instrument: str,
    answers: Mapping[str, Any],
    measured_at: datetime | None = None,
    method: str | None = None,
) -> OutcomeMeasurement:
    """Score one administration with the clinic's policy (ODI missing sections) and store the
    answers, the exact score, the instrument version and the policy.

    The patient records their own answers (method portal); clinic staff enter paper answers or
    measurements (method paper or therapist). A measurement that cannot be scored (too many ODI
    sections missing, a STarT Back item unanswered) is stored as not valid with its reason.
    Raises `InvalidInputError` naming the item for invalid answers; nothing is stored then.
    """
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="measurement.create")
    is_self = patient.user_id == actor.pk
    chosen = _method(method, is_self)
    odi_max_missing, _ = outcome_settings(patient.clinic_id)
    try:
        result = instruments.score(instrument, answers, odi_max_missing=odi_max_missing)
    except ClinicalInputError as error:
        raise invalid(error) from error
    with transaction.atomic():
        measurement = OutcomeMeasurement.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            instrument=instrument,
            instrument_version=result.version,
            measured_at=measured_at or timezone.now(),
            method=chosen,
            entered_by=acting_user(actor),
            answers=to_json(answers),
            valid=result.valid,
            reason=result.reason or "",
            score_exact="" if result.value is None else str(result.value),
            score_display=None if result.value is None else half_up(result.value, 2),
            band=result.band or "",
            details=to_json(result.details),
            policy=to_json(result.policy),
        )
        record_event(
            actor=actor,
            action="measurement.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=measurement,
            detail={"instrument": instrument, "method": chosen},
        )
        return measurement


def _method(method: str | None, is_self: bool) -> str:
    if is_self:
        if method not in (None, MeasurementMethod.PORTAL):
            raise InvalidInputError(
                "Patients record their own answers online.", field_errors={"method": "portal"}
            )
        return MeasurementMethod.PORTAL
    if method not in (MeasurementMethod.PAPER, MeasurementMethod.THERAPIST):
        raise InvalidInputError(
            "Staff enter answers from a paper form or a measurement at a visit.",
            field_errors={"method": "Choose paper or therapist."},
        )
    return method


def load_instrument_text(*, document: Mapping[str, Any], loaded_by: Viewer | None = None) -> int:
    """Load licensed wording for one instrument from a clinic-supplied document (format in
    docs/instrument-text.md). The instrument must be one whose text is loaded, the version must
    match the definition, every item must be given once with the definition's number of answer
    options. Replaces earlier wording of the same instrument, version and language. Returns the
    number of items loaded; raises `InvalidInputError` saying what to fix."""
    code = str(document.get("instrument", ""))
    try:
        definition = instruments.get_instrument(code)
    except ClinicalInputError as error:
        raise invalid(error) from error
    if definition.text_licence != instruments.TextLicence.LOADED:
        raise InvalidInputError(
            f"{code}: BackCare ships this instrument's wording; nothing to load."
        )
    if document.get("version") != definition.version:
        raise InvalidInputError(
            f"{code}: version must be {definition.version!r}, as scored by BackCare."
        )
    licence = str(document.get("licence", "")).strip()
    if not licence:
        raise InvalidInputError(
            f'{code}: state whose wording this is and the licence held ("licence").'
        )
    items = {str(i.get("id")): i for i in document.get("items", [])}
    expected = [item.id for item in definition.items]
    if sorted(items) != sorted(expected) or len(items) != len(document.get("items", [])):
        raise InvalidInputError(f"{code}: give each item exactly once: {', '.join(expected)}.")
    for item in definition.items:
        options = items[item.id].get("options", [])
        if len(options) != len(item.options) or not str(items[item.id].get("text", "")).strip():
            raise InvalidInputError(
                f"{code} {item.id}: give the item text and {len(item.options)} answer options."
            )
    language = str(document.get("language", "en"))
    with transaction.atomic():
        InstrumentText.objects.filter(
            instrument=code, version=definition.version, language=language
        ).delete()
        InstrumentText.objects.bulk_create(
            InstrumentText(
                instrument=code,
                version=definition.version,
                language=language,
                item_id=item.id,
                text=str(items[item.id]["text"]).strip(),
                options=[str(o) for o in items[item.id].get("options", [])],
                licence=licence,
                loaded_by=loaded_by
                if loaded_by is not None and loaded_by.is_authenticated
                else None,
            )
            for item in definition.items
        )
    return len(definition.items)


def save_outcome_settings(
    *,
    actor: Viewer,
    clinic: Clinic | None,
    odi_max_missing: int,
    thresholds: Mapping[str, Mapping[str, object]],
) -> OutcomeSettings:
    """Store a clinic's ODI missing-section policy (1 or 2) and threshold overrides (admins
    only). Values equal to the cited default are dropped. Raises `InvalidInputError` naming a
    bad value."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="clinic.outcome_settings")
    if odi_max_missing not in (1, 2):
        raise InvalidInputError(
            "ODI: allow 1 or 2 unanswered sections.", field_errors={"odi_max_missing": "1 or 2"}
        )
    kept: dict[str, dict[str, str]] = {}
    try:
        for code, values in thresholds.items():
            default = change.DEFAULT_THRESHOLDS.get(code)
            if default is None:
                raise ClinicalInputError(
                    "unknown_instrument", f"No change thresholds for {code!r}."
                )
            changed = {
                name: value
                for name, value in values.items()
                if value is not None and exact(value, item=name) != getattr(default, name)
            }
            change.thresholds_with(code, **changed)  # validates every value
            if changed:
                kept[code] = {name: str(exact(value, item=name)) for name, value in changed.items()}
    except ClinicalInputError as error:
        raise invalid(error) from error
    with transaction.atomic():
        stored, _ = OutcomeSettings.objects.get_or_create(clinic=clinic)
        stored.odi_max_missing = odi_max_missing
        stored.thresholds = kept
        stored.updated_by = acting_user(actor)
        stored.save()
        record_event(
            actor=actor,
            action="clinic.outcome_settings",
            clinic_id=clinic.pk,
            obj=stored,
            detail={"changed": sorted(kept), "odi_max_missing": odi_max_missing},
        )
        return stored
