"""Writing open-data zips: one CSV per table, streamed row by row so memory stays flat.

A table's rows are fetched `chunk_size` at a time (`QuerySet.iterator`) and each row is written
to the zip entry as soon as it is read; no table is ever held whole.
"""

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import IO, Any

from backcare.accounts import queries as accounts
from backcare.accounts.models import Clinic
from backcare.accounts.queries import Viewer
from backcare.core import export as core_export
from backcare.core.export import ExportTable, table_of
from backcare.intake import queries as intake
from backcare.intake.forms import answer_sections
from backcare.outcomes import queries as outcomes
from backcare.patients import queries as patients
from backcare.patients.services import CONTACT_FIELDS, DEMOGRAPHIC_FIELDS
from backcare.plans import queries as plans
from backcare.reports.models import ClinicExport
from backcare.reports.queries import MyData
from backcare.scheduling import queries as scheduling
from backcare.triage import queries as triage
from backcare.visits import queries as visits

CHUNK_SIZE = 2000

# What the patient sets on the portal's preferences page.
PREFERENCE_FIELDS = (
    "pressure",
    "avoid_areas",
    "avoid_areas_note",
    "therapist_gender",
    "language",
    "notes",
)


def cell(value: Any) -> str:
    """One value as CSV text: ISO 8601 times, JSON for structured answers, empty for none."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def domain_tables(viewer: Viewer, clinic: Clinic | None) -> list[ExportTable]:
    """Every clinic-owned table of the domain apps, through each app's `export_tables` (each
    checks that the viewer is an admin of `clinic`; `NotFoundError`, audited, otherwise)."""
    clinic = accounts.require_roles(viewer, clinic, accounts.ADMIN_ROLES, action="clinic.export")
    tables = core_export.export_tables(clinic.pk)
    for app in (accounts, patients, triage, outcomes, intake, plans, scheduling, visits):
        tables += app.export_tables(viewer, clinic)
    return [*tables, table_of(ClinicExport.objects.filter(clinic=clinic))]


def write_csv(
    archive: zipfile.ZipFile,
    name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_row: Callable[[], None] = lambda: None,
) -> None:
    """Add `name` to `archive`: the header, then each row as it comes (never all at once)."""
    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, "utf-8", newline="") as text:
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            writer.writerow([cell(value) for value in row])
            on_row()


def write_tables(
    out: IO[bytes],
    tables: Iterable[ExportTable],
    *,
    chunk_size: int = CHUNK_SIZE,
    on_row: Callable[[], None] = lambda: None,
) -> None:
    """A zip with one `<table>.csv` per table into `out`; `on_row` after each row written."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            rows = table.rows(chunk_size=chunk_size)
            write_csv(archive, f"{table.name}.csv", table.columns, rows, on_row=on_row)


def write_my_data(out: IO[bytes], data: MyData) -> None:
    """The patient's own data as a zip of readable CSV files (times in the clinic's zone)."""
    patient = data.record.patient
    zone = patient.clinic.zone

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_csv(archive, "profile.csv", ("detail", "value"), _profile_rows(data))
        write_csv(
            archive,
            "consents.csv",
            ("consent", "version", "how given", "given", "withdrawn"),
            (
                (
                    c.text.title,
                    c.text.version,
                    c.get_method_display(),
                    local(c.given_at),
                    local(c.withdrawn_at),
                )
                for c in data.record.consents
            ),
        )
        write_csv(
            archive,
            "intake_answers.csv",
            ("intake started", "status", "step", "question", "answer"),
            (
                (local(intake.created_at), intake.get_status_display(), step.title, q, a)
                for intake in data.intakes
                for step, rows in answer_sections(intake)
                for q, a in rows
            ),
        )
        write_csv(
            archive,
            "appointments.csv",
            ("starts", "ends", "service", "therapist", "status"),
            (
                (
                    local(a.starts_at),
                    local(a.ends_at),
                    a.service.name,
                    a.therapist.user.full_name,
                    a.get_status_display(),
                )
                for a in data.appointments
            ),
        )
        _write_progress(archive, data, local)


def _profile_rows(data: MyData) -> Iterable[tuple[str, str]]:
    patient = data.record.patient
    for name in (*DEMOGRAPHIC_FIELDS, *CONTACT_FIELDS):
        yield _labelled(patient, name)
    prefs = data.record.preferences
    if prefs is not None:
        for name in PREFERENCE_FIELDS:
            yield _labelled(prefs, name)


def _labelled(row: Any, name: str) -> tuple[str, str]:
    """(the field's label, its value in words: a choice's label rather than its code)."""
    display = getattr(row, f"get_{name}_display", None)
    value = display() if display is not None else getattr(row, name)
    return str(row._meta.get_field(name).verbose_name).capitalize(), cell(value)


def _write_progress(
    archive: zipfile.ZipFile, data: MyData, local: Callable[[datetime | None], str]
) -> None:
    page = data.progress
    write_csv(
        archive,
        "measurements.csv",
        ("measure", "unit", "date", "value"),
        ((m.name, m.unit, day, value) for m in page.measures for day, value in m.readings),
    )
    write_csv(
        archive,
        "check_ins.csv",
        ("answered", "kind", "soreness", "other effects", "flare-up since the last"),
        (
            (
                local(c.answered_at),
                "follow-up" if c.is_follow_up else "after a visit",
                c.get_soreness_display(),
                c.other_effects,
                cell(c.flare_up),
            )
            for c in data.check_ins
            if c.answered_at is not None
        ),
    )
    write_csv(
        archive,
        "flare_ups.csv",
        ("began", "how we know", "note"),
        ((f.started_on, f.get_source_display(), f.note) for f in page.flare_ups),
    )
    write_csv(
        archive,
        "side_effects.csv",
        ("date", "reported in", "what"),
        ((e.day, e.source, e.text) for e in page.effects),
    )
    write_csv(
        archive,
        "therapist_notes.csv",
        ("date", "therapist", "how you responded"),
        ((n.day, n.therapist_name, n.assessment) for n in page.assessments),
    )
    plan = page.plan
    write_csv(
        archive,
        "plan.csv",
        ("focus", "sessions planned", "minutes each", "every (weeks)", "from", "ended"),
        []
        if plan is None
        else [
            (
                plan.focus,
                plan.sessions_planned,
                plan.session_minutes,
                plan.every_weeks,
                local(plan.created_at),
                local(plan.ended_at),
            )
        ],
    )
