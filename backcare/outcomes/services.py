"""Recording outcome measurements, loading licensed instrument wording, and a clinic's outcome
settings."""

import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Clinic, User
from backcare.accounts.queries import ADMIN_ROLES, Viewer, acting_user, require_roles
from backcare.clinical import change, instruments
from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.numbers import exact, half_up
from backcare.core.audit import Outcome, record_event
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.core.jsonable import to_json
from backcare.core.models import WebhookEvent
from backcare.core.webhooks import emit
from backcare.outcomes import tasks
from backcare.outcomes.models import (
    CHECK_IN_OPEN_HOURS,
    FOLLOW_UP_OPEN_DAYS,
    CheckIn,
    FlareUp,
    FlareUpSource,
    InstrumentText,
    MeasurementMethod,
    OutcomeMeasurement,
    OutcomeSettings,
    Soreness,
)
from backcare.outcomes.queries import outcome_settings
from backcare.patients.models import Patient
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
    with transaction.atomic():
        measurement = _store(
            patient,
            instrument,
            answers,
            method=chosen,
            entered_by=acting_user(actor),
            measured_at=measured_at,
        )
        record_event(
            actor=actor,
            action="measurement.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=measurement,
            detail={"instrument": instrument, "method": chosen},
        )
        emit(
            clinic_id=patient.clinic_id,
            event=WebhookEvent.MEASUREMENT_RECORDED,
            resources={"measurement_id": measurement.pk, "patient_id": patient.pk},
        )
        return measurement


def _store(
    patient: Patient,
    instrument: str,
    answers: Mapping[str, Any],
    *,
    method: str,
    entered_by: User | None,
    measured_at: datetime | None,
) -> OutcomeMeasurement:
    odi_max_missing, _ = outcome_settings(patient.clinic_id)
    try:
        result = instruments.score(instrument, answers, odi_max_missing=odi_max_missing)
    except ClinicalInputError as error:
        raise invalid(error) from error
    return OutcomeMeasurement.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument=instrument,
        instrument_version=result.version,
        measured_at=measured_at or timezone.now(),
        method=method,
        entered_by=entered_by,
        answers=to_json(answers),
        valid=result.valid,
        reason=result.reason or "",
        score_exact="" if result.value is None else str(result.value),
        score_display=None if result.value is None else half_up(result.value, 2),
        band=result.band or "",
        details=to_json(result.details),
        policy=to_json(result.policy),
    )


def withdraw_measurement(
    *,
    actor: Viewer,
    measurement_id: uuid.UUID,
    reason: str,
    replaced_by_id: uuid.UUID | None = None,
) -> OutcomeMeasurement:
    """Withdraw a measurement whose record was corrected or entered in error: it is kept, with
    the reason and its replacement, and left out of progress, reports and analytics. Clinic
    staff of the patient (`NotFoundError`, audited, for others). Withdrawing it again changes
    nothing."""
    found = OutcomeMeasurement.objects.filter(pk=measurement_id).first()
    if found is None:
        raise NotFoundError("No such measurement.")
    find_patient(actor, found.patient_id, roles=SEE_ALL_ROLES, action="measurement.withdraw")
    with transaction.atomic():
        current = OutcomeMeasurement.objects.select_for_update().get(pk=found.pk)
        if current.withdrawn_at is not None:
            return current
        current.withdrawn_at = timezone.now()
        current.withdrawn_reason = reason.strip()[:300]
        current.replaced_by_id = replaced_by_id
        current.save(update_fields=["withdrawn_at", "withdrawn_reason", "replaced_by"])
        record_event(
            actor=actor,
            action="measurement.withdraw",
            clinic_id=current.clinic_id,
            patient_id=current.patient_id,
            obj=current,
            detail={"replaced_by": str(replaced_by_id or "")},
        )
        return current


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


# --- Check-ins after a visit, answered from an emailed link without a login ----------------------

CHECK_IN_SALT = "backcare.outcomes.check-in"


def create_check_in(
    *, patient: Patient, visit_ref: uuid.UUID, visit_ended_at: datetime
) -> CheckIn | None:
    """Write the check-in that follows a visit, once (None when it exists): it opens
    `CHECK_IN_SENT_AFTER_HOURS` after the visit and expires `CHECK_IN_OPEN_HOURS` after it. A
    system action for the scheduling job, which found the visit; audited without an actor."""
    with transaction.atomic():
        check_in, created = CheckIn.objects.get_or_create(
            visit_ref=visit_ref,
            defaults={
                "clinic_id": patient.clinic_id,
                "patient": patient,
                "visit_ended_at": visit_ended_at,
                "expires_at": visit_ended_at + timedelta(hours=CHECK_IN_OPEN_HOURS),
            },
        )
        if not created:
            return None
        record_event(
            actor=None,
            action="check_in.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=check_in,
        )
        return check_in


def create_follow_up(
    *, patient: Patient, plan_ref: uuid.UUID, number: int, due_at: datetime
) -> CheckIn | None:
    """Write follow-up `number` (1-6) after the course `plan_ref` ended, once (None when it
    exists): due at `due_at` and open `FOLLOW_UP_OPEN_DAYS` from then. A system action for the
    scheduling job; audited without an actor."""
    with transaction.atomic():
        check_in, created = CheckIn.objects.get_or_create(
            plan_ref=plan_ref,
            follow_up_number=number,
            defaults={
                "clinic_id": patient.clinic_id,
                "patient": patient,
                "visit_ended_at": due_at,
                "expires_at": due_at + timedelta(days=FOLLOW_UP_OPEN_DAYS),
            },
        )
        if not created:
            return None
        record_event(
            actor=None,
            action="check_in.create",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=check_in,
            detail={"follow_up": number},
        )
        return check_in


def check_in_token(check_in: CheckIn) -> str:
    """The signed token of the check-in's link (its id; nothing secret is stored)."""
    return signing.dumps(str(check_in.pk), salt=CHECK_IN_SALT)


def _check_in_of(token: str) -> uuid.UUID:
    try:
        # The row's own expiry decides; this only bounds how old any link can be.
        longest = max(timedelta(hours=CHECK_IN_OPEN_HOURS), timedelta(days=FOLLOW_UP_OPEN_DAYS))
        value = signing.loads(token, salt=CHECK_IN_SALT, max_age=longest)
        return uuid.UUID(str(value))
    except (signing.BadSignature, ValueError) as error:
        raise NotFoundError(
            "This check-in link is not valid. Please use the link from your latest email."
        ) from error


def open_check_in(token: str, *, now: datetime | None = None) -> CheckIn:
    """The check-in a link opens. `NotFoundError` (audited) for an altered or foreign link; a
    `ConflictError` saying so for one already answered or expired. Reads only."""
    try:
        check_in = CheckIn.objects.select_related("clinic").filter(pk=_check_in_of(token)).first()
        if check_in is None:
            raise NotFoundError("This check-in link is not valid.")
    except NotFoundError:
        record_event(actor=None, action="check_in.open", outcome=Outcome.DENIED)
        raise
    _check_open(check_in, now or timezone.now())
    return check_in


def _check_open(check_in: CheckIn, now: datetime) -> None:
    if check_in.answered_at is not None:
        raise ConflictError("This check-in has been answered already. Thank you!")
    if check_in.expires_at <= now:
        how_long = (
            f"{FOLLOW_UP_OPEN_DAYS} days" if check_in.is_follow_up else "three days after a visit"
        )
        raise ConflictError(
            f"This check-in has closed (it is open for {how_long}). You can tell your "
            "therapist at your next visit, or call the clinic."
        )


def _by_link(
    patient: Patient, instrument: str, answers: Mapping[str, Any], moment: datetime
) -> OutcomeMeasurement:
    method = MeasurementMethod.CHECK_IN
    return _store(patient, instrument, answers, method=method, entered_by=None, measured_at=moment)


def answer_check_in(
    *,
    token: str,
    pain_now: int,
    global_change: int,
    soreness: str = "",
    other_effects: str = "",
    flare_up: bool | None = None,
    now: datetime | None = None,
) -> CheckIn:
    """Record a check-in's answers once, all or nothing: pain now (a pain NRS measurement), the
    global impression of change (PGIC), and after a visit soreness or other effects, or at a
    follow-up whether the pain flared up (a yes records a `FlareUp` on the day of the answer).
    Raises as `open_check_in` for a bad, answered or expired link, and `InvalidInputError` for
    a missing or out-of-range answer; nothing is written then."""
    moment = now or timezone.now()
    found = open_check_in(token, now=moment)
    _check_answers(found, soreness, flare_up)
    with transaction.atomic():
        check_in = (
            CheckIn.objects.select_for_update().select_related("patient", "clinic").get(pk=found.pk)
        )
        _check_open(check_in, moment)
        patient = check_in.patient
        check_in.pain = _by_link(patient, "pain_nrs", {"now": pain_now}, moment)
        check_in.global_change = _by_link(patient, "pgic", {"change": global_change}, moment)
        check_in.soreness = soreness if not check_in.is_follow_up else ""
        check_in.other_effects = other_effects.strip()[:300]
        check_in.flare_up = flare_up if check_in.is_follow_up else None
        check_in.answered_at = moment
        check_in.save()
        if check_in.flare_up:
            FlareUp.objects.create(
                clinic_id=check_in.clinic_id,
                patient=patient,
                started_on=timezone.localtime(moment, check_in.clinic.zone).date(),
                source=FlareUpSource.CHECK_IN,
                check_in=check_in,
                note=check_in.other_effects,
            )
        record_event(
            actor=None,
            action="check_in.answer",
            clinic_id=check_in.clinic_id,
            patient_id=patient.pk,
            obj=check_in,
            detail={"flare_up": bool(check_in.flare_up)},
        )
        return check_in


def _check_answers(check_in: CheckIn, soreness: str, flare_up: bool | None) -> None:
    if check_in.is_follow_up and flare_up is None:
        raise InvalidInputError(
            "Say whether your back pain has flared up.",
            field_errors={"flare_up": "Choose yes or no."},
        )
    if not check_in.is_follow_up and soreness not in Soreness.values:
        raise InvalidInputError(
            "Choose how sore you were.", field_errors={"soreness": "Choose one."}
        )


def record_flare_up(
    *, actor: Viewer, patient_id: uuid.UUID, started_on: date, note: str = ""
) -> FlareUp:
    """Record that the patient's back pain flared up on `started_on` (told by phone, at a
    visit...). Clinic staff of the patient; audited. `InvalidInputError` for a date in the
    future; `NotFoundError` (audited) for anyone else."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="flare_up.add")
    if started_on > patient.clinic.local_date():
        raise InvalidInputError(
            "A flare-up cannot start in the future.",
            field_errors={"started_on": "Give today's date or an earlier one."},
        )
    with transaction.atomic():
        flare = FlareUp.objects.create(
            clinic_id=patient.clinic_id,
            patient=patient,
            started_on=started_on,
            source=FlareUpSource.STAFF,
            note=note.strip()[:500],
            recorded_by=acting_user(actor),
        )
        record_event(
            actor=actor,
            action="flare_up.add",
            clinic_id=patient.clinic_id,
            patient_id=patient.pk,
            obj=flare,
        )
        return flare


def send_progress_report(*, actor: Viewer, patient_id: uuid.UUID, site_url: str) -> str:
    """Email the patient's referring clinician a link to the progress report (the PDF, read
    after signing in as themself). Clinic staff of the patient; audited. Returns the address
    written to. `ConflictError` when the patient has no referring clinician with an email
    address; `NotFoundError` (audited) for anyone else."""
    patient = find_patient(actor, patient_id, roles=SEE_ALL_ROLES, action="progress.send")
    clinician = patient.referred_by
    if clinician is None or not clinician.email:
        raise ConflictError("This patient has no referring clinician to send the report to.")
    link = site_url.rstrip("/") + reverse("progress_pdf", args=[patient.pk])
    record_event(
        actor=actor,
        action="progress.send",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"to": str(clinician.pk)},
    )
    to, clinic_name = clinician.email, patient.clinic.name
    transaction.on_commit(lambda: tasks.send_progress_link.enqueue(to, clinic_name, link))
    return to
