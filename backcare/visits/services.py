"""Documenting a visit: opening it from the appointment (the note pre-filled from the plan and
the last signed note), saving the draft, recording the techniques applied within the screening's
limits, signing (which records the visit's measurements in outcomes), amending a signed note,
and marking a note entered in error.

A signed note never changes: every service refuses it with `ConflictError`, and
`VisitNote.save()` refuses a changed field of a note loaded signed. Access is checked before the
transaction (decision 0011), so a denial's audit event is kept.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backcare.accounts.queries import ADMIN_ROLES, Viewer, acting_user, clinics_where, deny
from backcare.clinical import body
from backcare.clinical.contraindications import (
    TreatmentLimits,
    Work,
    check_work,
)
from backcare.clinical.errors import ClinicalInputError
from backcare.core.audit import record_event
from backcare.core.changes import apply_changes
from backcare.core.errors import (
    ConflictError,
    InvalidInputError,
    full_clean_or_invalid,
)
from backcare.core.jsonable import to_json
from backcare.outcomes.models import MeasurementMethod
from backcare.outcomes.services import record_measurement, withdraw_measurement
from backcare.plans.models import PlanTechnique, TreatmentPlan
from backcare.plans.queries import active_plan_of
from backcare.plans.services import refuse_unacknowledged, technique_by_code, work_regions
from backcare.scheduling.models import Appointment
from backcare.scheduling.queries import get_appointment_for_visit, visit_refusal
from backcare.scheduling.services import complete_appointment
from backcare.triage.queries import hold_status, limits_from
from backcare.visits import soap
from backcare.visits.models import (
    NOTE_FIELDS,
    AppliedTechnique,
    NoteAmendment,
    NoteStatus,
    Visit,
    VisitNote,
    VisitStatus,
)
from backcare.visits.queries import (
    effective_values,
    find_applied_technique,
    find_note,
    last_signed_values,
)

MIN_REASON_CHARS = 10


def open_visit(*, actor: Viewer, appointment_id: uuid.UUID) -> Visit:
    """The visit of the appointment, opened now if it is not yet: for the appointment's
    therapist or a clinic admin of its clinic (`NotFoundError`, audited, for anyone else).

    A new note starts pre-filled so that a routine visit is quick: the techniques of the active
    plan that keep the screening's limits (none while the patient is on hold), the regions they
    treat, and the last signed note's position, next focus and home care (the plan's home care
    before the first note). `ConflictError` when the appointment is not booked or starts on a
    later day."""
    appointment = get_appointment_for_visit(actor, appointment_id)
    existing = Visit.objects.filter(appointment_id=appointment.pk).first()
    if existing is not None:
        return existing
    patient = appointment.patient
    refusal = visit_refusal(appointment, patient.clinic)
    if refusal:
        raise ConflictError(refusal)
    plan, planned = active_plan_of(patient)
    hold = hold_status(patient)
    last = last_signed_values(patient, appointment.starts_at)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                clinic_id=appointment.clinic_id,
                patient=patient,
                appointment=appointment,
                therapist=appointment.therapist,
                plan=plan,
                opened_by=acting_user(actor),
            )
            note = VisitNote.objects.create(
                clinic_id=visit.clinic_id, visit=visit, **_carried(plan, last)
            )
            carried = _prefill_techniques(note, planned, limits_from(hold)) if hold.may_book else []
            if carried:
                note.treated_regions = _regions_of(carried)
                note.save(update_fields=["treated_regions", "updated_at"])
            record_event(
                actor=actor,
                action="visit.open",
                clinic_id=visit.clinic_id,
                patient_id=patient.pk,
                obj=visit,
                detail={
                    "appointment": str(appointment.pk),
                    "prefilled_techniques": len(carried),
                    "from_last_note": last is not None,
                },
            )
    except IntegrityError:
        # A second click (or a colleague) opened it meanwhile: theirs is the visit.
        return Visit.objects.get(appointment_id=appointment.pk)
    return visit


def _carried(plan: TreatmentPlan | None, last: Mapping[str, Any] | None) -> dict[str, Any]:
    if last is not None:
        return {
            "position": last["position"],
            "next_focus": last["next_focus"],
            "home_care": last["home_care"],
        }
    if plan is None:
        return {}
    advice = [a.name for a in plan.home_care.all()]
    if plan.home_care_note:
        advice.append(plan.home_care_note)
    return {"next_focus": plan.focus, "home_care": "\n".join(advice)}


def _prefill_techniques(
    note: VisitNote, planned: Sequence[PlanTechnique], limits: TreatmentLimits
) -> list[AppliedTechnique]:
    """The plan's techniques that keep today's limits, as applied techniques. One breaking a
    limit (or needing an acknowledgement) is left for the therapist to add with a reason."""
    rows: list[AppliedTechnique] = []
    total = note.visit.appointment.service.duration_minutes
    share = max(1, min(90, total // max(1, len(planned))))
    for item in planned:
        work = Work(
            item.technique.code, body.regions_of(item.muscle, item.side), item.pressure_level
        )
        if check_work(work, limits):
            continue
        rows.append(
            AppliedTechnique(
                clinic_id=note.clinic_id,
                note=note,
                technique=item.technique,
                muscle=item.muscle,
                side=item.side,
                pressure_level=item.pressure_level,
                minutes=item.minutes or share,
            )
        )
    AppliedTechnique.objects.bulk_create(rows)
    return rows


def _regions_of(rows: Sequence[AppliedTechnique]) -> list[str]:
    known = {code for code, _ in body.body_map_codes()}
    codes: list[str] = []
    for row in rows:
        sides = ("left", "right") if row.side == "both" else (row.side,)
        codes.extend(f"{row.muscle}:{side}" for side in sides if f"{row.muscle}:{side}" in known)
    return list(dict.fromkeys(codes))


def _check_draft(note: VisitNote) -> None:
    if note.status == NoteStatus.SIGNED:
        raise ConflictError("This note is signed and cannot be changed; add an amendment.")
    if note.status == NoteStatus.ENTERED_IN_ERROR:
        raise ConflictError("This note was marked entered in error and cannot be changed.")


def _locked(note_id: uuid.UUID) -> VisitNote:
    return VisitNote.objects.select_for_update().get(pk=note_id)


def clean_note_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` checked against the note's vocabulary, the structured ones as stored (JSON).
    Raises `InvalidInputError` naming the field for an unknown field, an unknown code or a
    structured row that breaks `visits/soap.py`. Ranges are checked by the model."""
    unknown = sorted(set(fields) - set(NOTE_FIELDS))
    if unknown:
        raise InvalidInputError(f"These fields cannot be changed here: {', '.join(unknown)}.")
    values = dict(fields)
    try:
        for name in ("pain_regions", "treated_regions"):
            if name in values:
                values[name] = soap.body_map_regions(name, values[name] or [])
        if "posture" in values:
            values["posture"] = soap.coded(
                "posture", values["posture"] or [], soap.POSTURE_FINDINGS
            )
        if "palpation" in values:
            values["palpation"] = soap.as_json(soap.palpation_findings(values["palpation"] or []))
        if "adverse_events" in values:
            values["adverse_events"] = soap.as_json(
                soap.adverse_events(values["adverse_events"] or [])
            )
    except soap.NoteFieldError as error:
        raise InvalidInputError(error.message, field_errors={error.field: error.message}) from error
    for name in ("schober_span_cm", "fingertip_floor_cm"):
        if values.get(name) is not None:
            values[name] = _decimal(name, values[name])
    for name, value in values.items():
        if isinstance(value, str):
            # Browsers send a textarea's line breaks as CRLF: store one form of the same text.
            values[name] = value.replace("\r\n", "\n").strip()
    return values


def _decimal(name: str, value: object) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise InvalidInputError(
            "Give a number in centimetres.", field_errors={name: "Give a number."}
        ) from error
    if not number.is_finite() or number != number.quantize(Decimal("0.1")):
        raise InvalidInputError(
            "Record to the millimetre (0.1 cm).", field_errors={name: "Use one decimal place."}
        )
    return number


def save_note_draft(*, actor: Viewer, note_id: uuid.UUID, **fields: Any) -> VisitNote:
    """Save some or all of a draft's fields (the page's autosave and its save button). Returns
    the note. `InvalidInputError` naming the field for a bad value (nothing saved);
    `ConflictError` for a signed note or one entered in error."""
    note = find_note(actor, note_id, action="visit.note.save")
    values = clean_note_fields(fields)
    with transaction.atomic():
        current = _locked(note.pk)
        _check_draft(current)
        changed = apply_changes(current, values, NOTE_FIELDS)
        full_clean_or_invalid(current, exclude=["visit", "signed_by", "entered_in_error_by"])
        current.save()
        record_event(
            actor=actor,
            action="visit.note.save",
            clinic_id=current.clinic_id,
            patient_id=note.visit.patient_id,
            obj=current,
            detail={"fields": changed},
        )
    current.visit = note.visit
    return current


def start_note_draft(*, actor: Viewer, appointment_id: uuid.UUID, **fields: Any) -> VisitNote:
    """The draft note of the appointment's visit (opened now if it is not yet, as
    `open_visit`), with `fields` saved into it (as `save_note_draft`). Returns the note, its
    visit loaded. For the JSON API, which writes drafts only: `ConflictError` when the note is
    already signed or entered in error (a signed note never changes), or as `open_visit`;
    `InvalidInputError` naming the field for a bad value (the visit stays open, the draft as
    it was); `NotFoundError` (audited) for anyone who may not write it."""
    visit = open_visit(actor=actor, appointment_id=appointment_id)
    note = find_note(actor, visit.note.pk, action="visit.note.save")
    _check_draft(note)
    if fields:
        note = save_note_draft(actor=actor, note_id=note.pk, **fields)
    return note


def add_applied_technique(
    *,
    actor: Viewer,
    note_id: uuid.UUID,
    technique_code: str,
    muscle: str,
    side: str,
    pressure_level: int,
    minutes: int,
    acknowledged_reason: str = "",
) -> AppliedTechnique:
    """Record a technique applied on a muscle and side for some minutes at a pressure level,
    within the patient's limits (latest screening and clearances in force), as a plan is
    (`plans.services.add_plan_technique`). Returns the row.

    `InvalidInputError` with the rule's message for a pressure above the cap or a region to
    avoid (never allowed), for a technique the screening excludes when no reason is given (with
    a reason it is recorded, and the acknowledgement audited as `visit.precaution.acknowledge`),
    and for an unknown technique, muscle or side, a pressure outside 1-5 or minutes outside
    1-90. `ConflictError` for a signed note, and while the patient is on hold (no massage until
    the hold is lifted)."""
    note = find_note(actor, note_id, action="visit.technique.add")
    _check_draft(note)
    patient = note.visit.patient
    hold = hold_status(patient)
    if not hold.may_book:
        raise ConflictError(f"No massage while the patient is on hold. {hold.reason}")
    technique = technique_by_code(technique_code)
    regions = work_regions(muscle, side)
    reason = acknowledged_reason.strip()
    try:
        problems = check_work(Work(technique.code, regions, pressure_level), limits_from(hold))
    except ClinicalInputError as error:
        raise InvalidInputError(
            error.message, field_errors={"pressure_level": error.message}
        ) from error
    refuse_unacknowledged(problems, reason, doing="record it")
    row = AppliedTechnique(
        clinic_id=note.clinic_id,
        note=note,
        technique=technique,
        muscle=muscle,
        side=side,
        pressure_level=pressure_level,
        minutes=minutes,
        acknowledged_reason=reason if problems else "",
        acknowledged_by=acting_user(actor) if problems else None,
    )
    full_clean_or_invalid(row, exclude=["note", "technique", "acknowledged_by"])
    with transaction.atomic():
        _check_draft(_locked(note.pk))
        row.save()
        record_event(
            actor=actor,
            action="visit.technique.add",
            clinic_id=note.clinic_id,
            patient_id=patient.pk,
            obj=row,
            detail={"technique": technique.code, "muscle": muscle, "side": side},
        )
        if problems:
            record_event(
                actor=actor,
                action="visit.precaution.acknowledge",
                clinic_id=note.clinic_id,
                patient_id=patient.pk,
                obj=row,
                detail={"technique": technique.code, "kinds": [p.kind for p in problems]},
            )
    return row


@dataclass(frozen=True)
class ImportedTechnique:
    """A technique applied at an imported visit, as the source clinic recorded it."""

    technique_code: str
    muscle: str
    side: str
    pressure_level: int
    minutes: int


def import_signed_visit(
    *,
    actor: Viewer,
    appointment_id: uuid.UUID,
    plan_id: uuid.UUID | None,
    techniques: Sequence[ImportedTechnique],
) -> Visit:
    """Write a visit of an imported record: signed in the past by the appointment's therapist
    (at the appointment's end), with the techniques applied (clinic admins; `NotFoundError`,
    audited, for others). The note's own text stays with the source clinic, which does not
    send it; its measurements come across as measurements. Today's limits are not applied to
    past work. `InvalidInputError` naming the field for an unknown technique, muscle or side
    or a value out of range; `ConflictError` when the appointment already has a visit."""
    appointment = get_appointment_for_visit(actor, appointment_id)
    if appointment.clinic_id not in clinics_where(actor, ADMIN_ROLES):
        raise deny(
            actor,
            action="visit.import",
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            object_type="scheduling.appointment",
            object_id=str(appointment_id),
        )
    if Visit.objects.filter(clinic_id=appointment.clinic_id, appointment=appointment).exists():
        raise ConflictError("This appointment already has a visit.")
    therapist_user = appointment.therapist.user
    with transaction.atomic():
        visit = Visit.objects.create(
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            appointment=appointment,
            therapist=appointment.therapist,
            plan_id=plan_id,
            status=VisitStatus.SIGNED,
            opened_by=acting_user(actor),
        )
        # Written signed in one insert: a signed note is never updated.
        note = VisitNote.objects.create(
            clinic_id=appointment.clinic_id,
            visit=visit,
            status=NoteStatus.SIGNED,
            signed_at=appointment.ends_at,
            signed_by=therapist_user,
        )
        for applied in techniques:
            _import_technique(note, applied)
        record_event(
            actor=actor,
            action="visit.import",
            clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id,
            obj=visit,
            detail={"techniques": len(techniques)},
        )
    return visit


def _import_technique(note: VisitNote, applied: ImportedTechnique) -> AppliedTechnique:
    work_regions(applied.muscle, applied.side)
    row = AppliedTechnique(
        clinic_id=note.clinic_id,
        note=note,
        technique=technique_by_code(applied.technique_code),
        muscle=applied.muscle,
        side=applied.side,
        pressure_level=applied.pressure_level,
        minutes=applied.minutes,
    )
    full_clean_or_invalid(row, exclude=["note", "technique", "acknowledged_by"])
    row.save()
    return row


def remove_applied_technique(*, actor: Viewer, technique_id: uuid.UUID) -> AppliedTechnique:
    """Take a technique off a draft note (kept, marked removed, for the record). Returns the
    row. `ConflictError` for a signed note."""
    note = find_applied_technique(actor, technique_id, action="visit.technique.remove")
    with transaction.atomic():
        _check_draft(_locked(note.pk))
        row = AppliedTechnique.objects.select_for_update().get(pk=technique_id)
        row.removed_at = timezone.now()
        row.save(update_fields=["removed_at", "updated_at"])
        record_event(
            actor=actor,
            action="visit.technique.remove",
            clinic_id=row.clinic_id,
            patient_id=note.visit.patient_id,
            obj=row,
        )
    row.note = note
    return row


def sign_note(*, actor: Viewer, note_id: uuid.UUID) -> VisitNote:
    """Sign the note: it is locked from now on (corrections are amendments). In the same
    transaction the visit's measurements are recorded in outcomes through
    `outcomes.services.record_measurement` (method: therapist), so they need no second entry:
    pain NRS before (at the appointment's start) and after (at its end, or now if earlier),
    analgesic days, and the modified Schober and fingertip-to-floor when given. Their ids are
    kept on the note.

    `InvalidInputError` naming the fields when pain before or after is missing;
    `ConflictError` for a note already signed or entered in error."""
    note = find_note(actor, note_id, action="visit.note.sign")
    with transaction.atomic():
        current = _locked(note.pk)
        _check_draft(current)
        missing = {
            name: "Give the pain rating (0-10)."
            for name in ("pain_before", "pain_after")
            if getattr(current, name) is None
        }
        if missing:
            raise InvalidInputError(
                "Give the pain rating before and after the session to sign the note.",
                field_errors=missing,
            )
        full_clean_or_invalid(current, exclude=["visit", "signed_by", "entered_in_error_by"])
        now = timezone.now()
        current.measurement_ids = _record_measurements(actor, note, current, now)
        current.status = NoteStatus.SIGNED
        current.signed_at = now
        current.signed_by = acting_user(actor)
        current.save()
        Visit.objects.filter(pk=note.visit_id).update(status=VisitStatus.SIGNED, updated_at=now)
        complete_appointment(actor=actor, appointment_id=note.visit.appointment_id)
        record_event(
            actor=actor,
            action="visit.note.sign",
            clinic_id=current.clinic_id,
            patient_id=note.visit.patient_id,
            obj=current,
            detail={"measurements": sorted(current.measurement_ids)},
        )
    return current


# Note field -> (use, instrument, answer item, measured at the end of the visit rather than
# its start). Signing records these through outcomes; amending one replaces its measurement.
_MEASURED: dict[str, tuple[str, str, str, bool]] = {
    "pain_before": ("pain_before", "pain_nrs", "now", False),
    "pain_after": ("pain_after", "pain_nrs", "now", True),
    "analgesic_days": ("analgesic_days", "analgesic_days", "days", False),
    "schober_span_cm": ("schober", "schober", "flexed_span_cm", False),
    "fingertip_floor_cm": ("fingertip_floor", "fingertip_floor", "distance_cm", False),
}


def _measured_at(note: VisitNote, now: datetime) -> dict[bool, datetime]:
    """When the visit's measures count as taken: its start (before) and end (after), never in
    the future."""
    appointment: Appointment = note.visit.appointment
    before = min(appointment.starts_at, now)
    return {False: before, True: max(before, min(appointment.ends_at, now))}


def _measure(actor: Viewer, note: VisitNote, field: str, value: Any, now: datetime) -> str:
    _, instrument, item, at_end = _MEASURED[field]
    measurement = record_measurement(
        actor=actor,
        patient_id=note.visit.patient_id,
        instrument=instrument,
        answers={item: value},
        measured_at=_measured_at(note, now)[at_end],
        method=MeasurementMethod.THERAPIST,
    )
    return str(measurement.pk)


def _record_measurements(
    actor: Viewer, note: VisitNote, current: VisitNote, now: datetime
) -> dict[str, str]:
    return {
        use: _measure(actor, note, field, getattr(current, field), now)
        for field, (use, *_) in _MEASURED.items()
        if getattr(current, field) is not None
    }


def _measurements_in_force(note: VisitNote, amendments: list[NoteAmendment]) -> dict[str, str]:
    ids = dict(note.measurement_ids or {})
    for amendment in amendments:
        ids.update(amendment.measurement_ids or {})
    return {use: pk for use, pk in ids.items() if pk}


def _replace_measurements(
    actor: Viewer,
    note: VisitNote,
    in_force: Mapping[str, str],
    corrected: Mapping[str, Any],
    why: str,
) -> dict[str, str]:
    """Record the corrected measures (taken when the signed ones were) and withdraw the ones
    they replace; a measure corrected to nothing is withdrawn only."""
    signed_at = note.signed_at or timezone.now()
    replaced: dict[str, str] = {}
    for field in sorted(set(corrected) & set(_MEASURED)):
        use = _MEASURED[field][0]
        value = corrected[field]
        new_id = _measure(actor, note, field, value, signed_at) if value is not None else ""
        replaced[use] = new_id
        if in_force.get(use):
            withdraw_measurement(
                actor=actor,
                measurement_id=uuid.UUID(in_force[use]),
                reason=f"Visit note amended: {why}",
                replaced_by_id=uuid.UUID(new_id) if new_id else None,
            )
    return replaced


def amend_note(*, actor: Viewer, note_id: uuid.UUID, reason: str, **changes: Any) -> NoteAmendment:
    """Correct a signed note: a new `NoteAmendment` linked to it with the fields that differ
    from the note as last amended, who, when and why. The note itself never changes. A
    corrected measure (pain, medicine use, range of motion) is recorded anew in outcomes and
    the measurement it corrects is withdrawn, so outcomes count the corrected value once.

    `InvalidInputError` for a reason shorter than `MIN_REASON_CHARS` characters, a bad value
    (as `save_note_draft`), or no field changed; `ConflictError` for a draft (edit it instead)
    or a note entered in error."""
    note = find_note(actor, note_id, action="visit.note.amend")
    why = _reason(reason)
    values = clean_note_fields(changes)
    with transaction.atomic():
        current = _locked(note.pk)
        if current.status == NoteStatus.DRAFT:
            raise ConflictError("This note is not signed yet: change the draft instead.")
        if current.status == NoteStatus.ENTERED_IN_ERROR:
            raise ConflictError("This note was marked entered in error and cannot be amended.")
        amendments = list(current.amendments.order_by("amended_at", "created_at"))
        effective = effective_values(current, amendments)
        corrected = {
            name: value
            for name, value in values.items()
            if to_json(value) != to_json(effective[name])
        }
        if not corrected:
            raise InvalidInputError(
                "Change at least one field to amend the note.",
                field_errors={"reason": "Nothing was changed."},
            )
        _check_values(current, corrected)
        replaced = _replace_measurements(
            actor, current, _measurements_in_force(current, amendments), corrected, why
        )
        amendment = NoteAmendment.objects.create(
            clinic_id=current.clinic_id,
            note=current,
            amended_by=acting_user(actor),
            amended_at=timezone.now(),
            reason=why,
            changes=to_json(corrected),
            measurement_ids=replaced,
        )
        record_event(
            actor=actor,
            action="visit.note.amend",
            clinic_id=current.clinic_id,
            patient_id=note.visit.patient_id,
            obj=amendment,
            detail={"note": str(current.pk), "fields": sorted(corrected)},
        )
    return amendment


def _check_values(note: VisitNote, corrected: Mapping[str, Any]) -> None:
    """Validate corrected values on a copy of the note that is never saved."""
    copy = VisitNote(
        **{f.attname: getattr(note, f.attname) for f in VisitNote._meta.concrete_fields}
    )
    for name, value in corrected.items():
        setattr(copy, name, value)
    full_clean_or_invalid(
        copy, exclude=["visit", "signed_by", "entered_in_error_by"], validate_unique=False
    )


def _reason(reason: str) -> str:
    why = reason.strip()
    if len(why) < MIN_REASON_CHARS:
        message = f"Give the reason in at least {MIN_REASON_CHARS} characters."
        raise InvalidInputError(message, field_errors={"reason": message})
    return why


def mark_entered_in_error(*, actor: Viewer, note_id: uuid.UUID, reason: str) -> VisitNote:
    """Mark a note (draft or signed) entered in error, with the reason: it should never have
    been written (the wrong patient or appointment). Its text stays, shown struck through; the
    visit is marked too, and the outcome measurements it recorded are withdrawn (kept, left
    out of progress and analytics). `InvalidInputError` for a short reason;
    `ConflictError` when it already is."""
    note = find_note(actor, note_id, action="visit.note.entered_in_error")
    why = _reason(reason)
    with transaction.atomic():
        current = _locked(note.pk)
        if current.status == NoteStatus.ENTERED_IN_ERROR:
            raise ConflictError("This note was already marked entered in error.")
        was = current.status
        now = timezone.now()
        current.status = NoteStatus.ENTERED_IN_ERROR
        current.entered_in_error_at = now
        current.entered_in_error_by = acting_user(actor)
        current.entered_in_error_reason = why
        current.save()
        Visit.objects.filter(pk=note.visit_id).update(
            status=VisitStatus.ENTERED_IN_ERROR, updated_at=now
        )
        amendments = list(current.amendments.all())
        for measurement_id in _measurements_in_force(current, amendments).values():
            withdraw_measurement(
                actor=actor,
                measurement_id=uuid.UUID(measurement_id),
                reason=f"Visit note entered in error: {why}",
            )
        record_event(
            actor=actor,
            action="visit.note.entered_in_error",
            clinic_id=current.clinic_id,
            patient_id=note.visit.patient_id,
            obj=current,
            detail={"was": was},
        )
    return current
