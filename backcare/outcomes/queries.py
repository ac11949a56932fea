"""Reads of outcome measurements, instrument wording and a clinic's outcome settings."""

import uuid
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.db.models import Q, QuerySet

from backcare.accounts.models import Clinic
from backcare.accounts.queries import ADMIN_ROLES, Viewer, require_roles, require_roles_in_all
from backcare.clinical import change
from backcare.core.audit import record_event
from backcare.core.export import ExportTable, table_of
from backcare.core.paging import page_after
from backcare.outcomes.models import (
    CheckIn,
    FlareUp,
    InstrumentText,
    OutcomeMeasurement,
    OutcomeSettings,
)
from backcare.patients.models import Patient
from backcare.patients.queries import SEE_ALL_ROLES, find_patient


def outcome_settings(clinic_id: uuid.UUID) -> tuple[int, Mapping[str, change.Thresholds]]:
    """The clinic's ODI missing-section policy and change thresholds (defaults where it made
    no change). Not patient data; for services that already checked the actor."""
    stored = OutcomeSettings.objects.filter(clinic_id=clinic_id).first()
    if stored is None:
        return 1, dict(change.DEFAULT_THRESHOLDS)
    thresholds = dict(change.DEFAULT_THRESHOLDS)
    for code, values in stored.thresholds.items():
        thresholds[code] = change.thresholds_with(code, **values)
    return stored.odi_max_missing, thresholds


def get_outcome_settings(
    viewer: Viewer, clinic: Clinic | None
) -> tuple[int, Mapping[str, change.Thresholds]]:
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.outcome_settings")
    return outcome_settings(clinic.pk)


def list_measurements(
    viewer: Viewer,
    patient_id: uuid.UUID,
    *,
    instrument: str | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[OutcomeMeasurement]:
    """The patient's measurements in force (withdrawn ones left out), newest first, optionally
    of one instrument and measured between two dates (inclusive, the clinic's calendar); one
    `measurement.list` event."""
    patient = find_patient(viewer, patient_id, action="measurement.list")
    rows = OutcomeMeasurement.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, withdrawn_at=None
    )
    if instrument is not None:
        rows = rows.filter(instrument=instrument)
    zone = patient.clinic.zone
    if first_day is not None:
        rows = rows.filter(measured_at__gte=datetime.combine(first_day, time.min, tzinfo=zone))
    if last_day is not None and last_day < date.max:  # no day follows the calendar's last
        after = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        rows = rows.filter(measured_at__lt=after)
    measurements = list(rows.select_related("entered_by"))
    record_event(
        actor=viewer,
        action="measurement.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"count": len(measurements), "instrument": instrument or ""},
    )
    return measurements


def instrument_wording(
    instrument: str, version: str, language: str = "en"
) -> dict[str, InstrumentText]:
    """The loaded wording of an instrument's items, by item id (empty when none was loaded)."""
    rows = InstrumentText.objects.filter(instrument=instrument, version=version, language=language)
    return {row.item_id: row for row in rows}


def check_in_for_visit(visit_ref: uuid.UUID) -> CheckIn | None:
    """The check-in that follows a visit, if written. For the job that sends its link (a
    system read; the link itself is the patient's key)."""
    return CheckIn.objects.filter(visit_ref=visit_ref).first()


def follow_ups_written(plan_refs: Collection[uuid.UUID]) -> set[tuple[uuid.UUID, int]]:
    """The (plan, follow-up number) pairs already written, in one query. For the job that
    writes follow-ups (a system read of ids only)."""
    rows = CheckIn.objects.filter(plan_ref__in=plan_refs).values_list(
        "plan_ref", "follow_up_number"
    )
    return {(plan_ref, number) for plan_ref, number in rows if plan_ref is not None}


MEASUREMENT_COLUMNS = (
    "patient_id",
    "instrument",
    "instrument_version",
    "measured_at",
    "method",
    "valid",
    "reason",
    "score_exact",
    "score_display",
    "band",
    "withdrawn_at",
)


def export_measurements(viewer: Viewer, clinic: Clinic | None) -> Iterator[tuple[object, ...]]:
    """Every measurement of the clinic as rows of `MEASUREMENT_COLUMNS`, oldest first, read in
    chunks (constant memory), for clinic admins only (`NotFoundError`, audited, for others).
    One `measurement.export` event, written before the first row."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="measurement.export")
    rows = OutcomeMeasurement.objects.filter(clinic=clinic).order_by("measured_at", "id")
    record_event(
        actor=viewer, action="measurement.export", clinic_id=clinic.pk, detail={"format": "csv"}
    )
    return rows.values_list(*MEASUREMENT_COLUMNS).iterator(chunk_size=2000)


def last_psfs_activities(viewer: Viewer, patient_id: uuid.UUID) -> list[str]:
    """The activities of the patient's latest PSFS (re-rated at each re-assessment), or none;
    audited as the read it is."""
    rows = list_measurements(viewer, patient_id, instrument="psfs")
    for row in rows:
        named = row.answers.get("activities") if isinstance(row.answers, dict) else None
        if named:
            return [str(a) for a in named]
    return []


def questionnaire_activities(viewer: Viewer, patient_id: uuid.UUID, instrument: str) -> list[str]:
    """For the page answering `instrument`: checks that the viewer may record for the patient
    (the patient or their clinic's staff; `NotFoundError`, audited, otherwise) and returns the
    PSFS activities to re-rate (none for other instruments)."""
    find_patient(viewer, patient_id, roles=SEE_ALL_ROLES, action="measurement.create")
    return last_psfs_activities(viewer, patient_id) if instrument == "psfs" else []


@dataclass(frozen=True)
class CheckInsAndFlareUps:
    """The patient's flare-ups and answered check-ins (after visits and follow-ups after a
    course), oldest first."""

    flare_ups: list[FlareUp]
    check_ins: list[CheckIn]


def check_ins_and_flare_ups(viewer: Viewer, patient_id: uuid.UUID) -> CheckInsAndFlareUps:
    """The patient's flare-ups and answered check-ins, for their progress; one `flare_up.list`
    event. Two queries, whatever the history."""
    patient = find_patient(viewer, patient_id, action="flare_up.list")
    flare_ups = list(
        FlareUp.objects.filter(clinic_id=patient.clinic_id, patient=patient).order_by(
            "started_on", "created_at"
        )
    )
    check_ins = list(
        CheckIn.objects.filter(
            clinic_id=patient.clinic_id, patient=patient, answered_at__isnull=False
        ).order_by("answered_at")
    )
    record_event(
        actor=viewer,
        action="flare_up.list",
        clinic_id=patient.clinic_id,
        patient_id=patient.pk,
        detail={"flare_ups": len(flare_ups), "check_ins": len(check_ins)},
    )
    return CheckInsAndFlareUps(flare_ups=flare_ups, check_ins=check_ins)


# --- Clinic analytics (reports.analytics) --------------------------------------------------------


def list_measurements_for_analytics(
    viewer: Viewer,
    clinic: Clinic | None,
    patient_ids: Collection[uuid.UUID],
    *,
    instruments: Collection[str],
    since: datetime,
) -> list["GroupReading"]:
    """The valid, not withdrawn measurements of `instruments` for the given patients of the
    clinic, taken from `since`, oldest first, as narrow rows (no model objects), for its
    admins; one query. `NotFoundError` (audited) for anyone else. Not audited itself: the
    analytics page records one event."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")
    return _readings(
        Q(clinic=clinic, patient_id__in=list(patient_ids), measured_at__gte=since), instruments
    )


def _readings(which: Q, instruments: Collection[str]) -> list["GroupReading"]:
    """The valid, not withdrawn, scored measurements `which` selects, of `instruments`, oldest
    first, as narrow rows: the one read both analytics pages judge courses from."""
    rows = (
        OutcomeMeasurement.objects.filter(
            which, instrument__in=list(instruments), valid=True, withdrawn_at=None
        )
        .exclude(score_exact="")
        .order_by("measured_at", "id")
        .values_list("patient_id", "instrument", "measured_at", "score_exact", "band")
    )
    return list(map(GroupReading._make, rows))


def list_check_ins_for_visits(
    viewer: Viewer, clinic: Clinic | None, visit_refs: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    """(soreness, other effects) of the answered check-ins that follow the given appointments
    of the clinic, by appointment, for its admins; one query. `NotFoundError` (audited) for
    anyone else. Not audited itself: the analytics page records one event."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="analytics.view")
    rows = CheckIn.objects.filter(
        clinic=clinic, visit_ref__in=list(visit_refs), answered_at__isnull=False
    ).values_list("visit_ref", "soreness", "other_effects")
    return {ref: (soreness, other) for ref, soreness, other in rows if ref is not None}


def outcome_settings_of(
    clinic_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, Mapping[str, change.Thresholds]]:
    """Each clinic's change thresholds (as `outcome_settings` gives them); one query. Not
    patient data; for reads that already checked the actor."""
    found = {pk: dict(change.DEFAULT_THRESHOLDS) for pk in clinic_ids}
    for stored in OutcomeSettings.objects.filter(clinic_id__in=list(clinic_ids)):
        for code, values in stored.thresholds.items():
            found[stored.clinic_id][code] = change.thresholds_with(code, **values)
    return dict(found)


class GroupReading(NamedTuple):
    """One valid, not withdrawn measurement, as the clinic and group analytics read it."""

    patient_id: uuid.UUID
    instrument: str
    measured_at: datetime
    score_exact: str
    band: str


def list_group_readings(
    viewer: Viewer,
    clinics: Collection[Clinic],
    patients: QuerySet[Any, Any],
    *,
    instruments: Collection[str],
    since: Mapping[uuid.UUID, datetime],
) -> list[GroupReading]:
    """The valid, not withdrawn measurements of `instruments` for the patients `patients` (a
    subquery of patient ids) of each clinic, taken from the clinic's `since`, oldest first, for
    a viewer who administers every one of the clinics; one query. `NotFoundError` (audited)
    otherwise. Not audited itself: the group analytics page records one event."""
    ids = require_roles_in_all(viewer, clinics, ADMIN_ROLES, action="analytics.group_view")
    taken = Q(pk__in=[])
    for clinic_id, first in since.items():
        taken |= Q(clinic_id=clinic_id, measured_at__gte=first)
    return _readings(taken & Q(clinic_id__in=ids, patient_id__in=patients), instruments)


def group_check_ins(
    viewer: Viewer, clinics: Collection[Clinic], visit_refs: QuerySet[Any, Any]
) -> dict[uuid.UUID, tuple[str, str]]:
    """(soreness, other effects) of the answered check-ins that follow the appointments
    `visit_refs` (a subquery), by appointment, for a viewer who administers every one of the
    clinics; one query. `NotFoundError` (audited) otherwise. Not audited itself."""
    ids = require_roles_in_all(viewer, clinics, ADMIN_ROLES, action="analytics.group_view")
    rows = CheckIn.objects.filter(
        clinic_id__in=ids, visit_ref__in=visit_refs, answered_at__isnull=False
    ).values_list("visit_ref", "soreness", "other_effects")
    return {ref: (soreness, other) for ref, soreness, other in rows if ref is not None}


def measurements_after(
    clinic: Clinic, after: uuid.UUID | None, *, limit: int
) -> list[OutcomeMeasurement]:
    """Up to `limit` measurements in force of the clinic whose id follows `after`, by id: one
    page of a clinic-wide export, read in pages so memory stays flat. Not audited: the export's
    kick-off checked and audited the clinic admin."""
    return page_after(
        OutcomeMeasurement.objects.filter(clinic=clinic, withdrawn_at=None), after, limit
    )


def flare_up_patient(viewer: Viewer, patient_id: uuid.UUID) -> Patient:
    """The patient named on the flare-up form, for their clinic's staff; one `flare_up.form`
    read event. `NotFoundError`, audited as `flare_up.add`, for anyone else (the patient too:
    staff record flare-ups)."""
    patient = find_patient(
        viewer, patient_id, roles=SEE_ALL_ROLES, allow_self=False, action="flare_up.add"
    )
    record_event(
        actor=viewer, action="flare_up.form", clinic_id=patient.clinic_id, patient_id=patient.pk
    )
    return patient


def export_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every outcomes table of the clinic, for its admins' whole-clinic export (`NotFoundError`,
    audited, for anyone else). Rows are read later, in chunks, by the export job."""
    clinic = require_roles(viewer, clinic, ADMIN_ROLES, action="clinic.export")
    return [
        table_of(OutcomeMeasurement.objects.filter(clinic=clinic)),
        table_of(OutcomeSettings.objects.filter(clinic=clinic)),
        table_of(CheckIn.objects.filter(clinic=clinic)),
        table_of(FlareUp.objects.filter(clinic=clinic)),
    ]
