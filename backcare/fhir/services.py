"""Writes of the fhir app: the clinic's bulk export (kick-off and the job that writes NDJSON in
pages). The import of a patient's Bundle is `fhir.importing`."""

import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.accounts.queries import (
    ADMIN_ROLES,
    Viewer,
    acting_user,
    require_roles,
    rooms_after,
    therapists_after,
)
from backcare.core.audit import record_event
from backcare.fhir import mapping, tasks
from backcare.fhir.models import ExportJob, ExportStatus
from backcare.outcomes.queries import measurements_after
from backcare.patients.models import Patient
from backcare.patients.queries import (
    consents_after,
    patients_after,
    patients_with_preferences_after,
)
from backcare.plans.queries import plans_after
from backcare.scheduling.queries import appointments_after
from backcare.triage.queries import findings_of, holds_of, letters_after
from backcare.visits.queries import applied_techniques_after, signed_visits_after

Resource = dict[str, Any]
# Rows read per page: the most the export holds in memory at once, whatever the clinic's size.
EXPORT_PAGE_ROWS = 500


def _clinic_page(clinic: Clinic, after: uuid.UUID | None, *, limit: int) -> list[Clinic]:
    return [clinic] if after is None else []


def _each(to_resource: Callable[[Any], Resource]) -> Callable[[Clinic, list[Any]], list[Resource]]:
    return lambda clinic, page: [to_resource(row) for row in page]


def _practitioner(therapist: Any) -> Resource:
    return mapping.practitioner(therapist, therapist.licences.all())


def _procedure(applied: Any) -> Resource:
    return mapping.procedure(applied.note.visit, applied)


def _flags(clinic: Clinic, page: list[Patient]) -> list[Resource]:
    holds = holds_of(clinic, page)
    found: list[Resource] = []
    for row in page:
        found += mapping.flags(row, getattr(row, "preferences", None), holds[row.pk])
        found += mapping.clearance_flags(row.pk, holds[row.pk])
    return found


def _conditions(clinic: Clinic, page: list[Patient]) -> list[Resource]:
    holds = holds_of(clinic, page)
    found: list[Resource] = []
    for row in page:
        latest = holds[row.pk].assessment
        if latest is not None:
            found += mapping.conditions(latest, findings_of(latest))
    return found


# (resource type, pager of the owning app, mapping of a page): the files of a bulk export, in
# order. A page maps to any number of resources: a patient has no Flag or several.
EXPORT_TYPES: Sequence[
    tuple[str, Callable[..., list[Any]], Callable[[Clinic, list[Any]], list[Resource]]]
] = (
    ("Organization", _clinic_page, _each(mapping.organization)),
    ("Location", rooms_after, _each(mapping.location)),
    ("Practitioner", therapists_after, _each(_practitioner)),
    ("Patient", patients_after, _each(mapping.patient)),
    ("Appointment", appointments_after, _each(mapping.appointment)),
    ("Encounter", signed_visits_after, _each(mapping.encounter)),
    ("Procedure", applied_techniques_after, _each(_procedure)),
    ("QuestionnaireResponse", measurements_after, _each(mapping.questionnaire_response)),
    ("Observation", measurements_after, _each(mapping.observation)),
    ("Consent", consents_after, _each(mapping.consent)),
    ("CarePlan", plans_after, _each(mapping.care_plan)),
    ("Flag", patients_with_preferences_after, _flags),
    ("Condition", patients_after, _conditions),
    ("ServiceRequest", letters_after, _each(mapping.service_request)),
)


def start_export(*, actor: Viewer, clinic: Clinic | None) -> ExportJob:
    """Start a bulk export of the clinic (clinic admins only; `NotFoundError`, audited, for
    others): the job is queued once the transaction commits. One `fhir_export.create` event."""
    clinic = require_roles(actor, clinic, ADMIN_ROLES, action="fhir_export.create")
    with transaction.atomic():
        job = ExportJob.objects.create(clinic=clinic, requested_by=acting_user(actor))
        record_event(actor=actor, action="fhir_export.create", clinic_id=clinic.pk, obj=job)
        transaction.on_commit(lambda: tasks.run_export.enqueue(str(job.pk)))
    return job


def export_folder(job: ExportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "fhir-export" / str(job.pk)


def remove_old_exports(now: datetime) -> int:
    """Retention rule: bulk exports finished more than `BACKCARE_RETENTION_EXPORT_DAYS` ago,
    their NDJSON folders with them. Returns the jobs removed."""
    cutoff = now - timedelta(days=settings.BACKCARE_RETENTION_EXPORT_DAYS)
    old = ExportJob.objects.filter(finished_at__lt=cutoff)
    for job in old:
        shutil.rmtree(export_folder(job), ignore_errors=True)
    removed, _ = old.delete()
    return removed


def run_export(*, job_id: uuid.UUID, page_rows: int = EXPORT_PAGE_ROWS) -> ExportJob:
    """Write the clinic's resources as NDJSON, one file per type, a line per resource, reading
    `page_rows` rows at a time so that memory stays flat; record progress after each type and
    the most rows held at once (`peak_rows`). The clinic's tables as CSV are the reports app's
    export (`reports.services`). A failure marks the job failed, with its reason,
    and is raised again for the task backend to record."""
    job = ExportJob.objects.select_related("clinic").get(pk=job_id)
    folder = export_folder(job)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    peak = 0
    try:
        for number, (name, pager, to_resource) in enumerate(EXPORT_TYPES, start=1):
            written, held = _write_type(
                folder / f"{name}.ndjson", job.clinic, pager, to_resource, page_rows
            )
            counts[name] = written
            peak = max(peak, held)
            job.progress_percent = 100 * number // (len(EXPORT_TYPES) + 1)
            ExportJob.objects.filter(pk=job.pk).update(
                progress_percent=job.progress_percent, counts=counts
            )
    except Exception as error:
        # Whatever stopped it, the poller must learn that the job ended; the task backend
        # records the traceback.
        _finish(job, counts, peak, status=ExportStatus.FAILED, error=str(error)[:300])
        raise
    return _finish(job, counts, peak, status=ExportStatus.DONE, error="")


def _finish(
    job: ExportJob, counts: dict[str, int], peak: int, *, status: ExportStatus, error: str
) -> ExportJob:
    job.status, job.error = status, error
    if status == ExportStatus.DONE:
        job.progress_percent = 100
    job.counts, job.peak_rows, job.finished_at = counts, peak, timezone.now()
    job.save(
        update_fields=[
            "status",
            "error",
            "progress_percent",
            "counts",
            "peak_rows",
            "finished_at",
            "updated_at",
        ]
    )
    return job


def _write_type(
    path: Path,
    clinic: Clinic,
    pager: Callable[..., list[Any]],
    to_resources: Callable[[Clinic, list[Any]], list[Resource]],
    page_rows: int,
) -> tuple[int, int]:
    written = held = 0
    after: uuid.UUID | None = None
    with path.open("w", encoding="utf-8") as out:
        while page := pager(clinic, after, limit=page_rows):
            held = max(held, len(page))
            resources = to_resources(clinic, page)
            for resource in resources:
                out.write(json.dumps(resource, separators=(",", ":")) + "\n")
            written += len(resources)
            after = page[-1].pk
    return written, held
