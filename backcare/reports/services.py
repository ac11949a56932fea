"""Writes of the reports app: whole-clinic export jobs (open data, issue 8)."""

import tempfile
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from backcare.accounts.models import Clinic
from backcare.accounts.queries import Viewer, acting_user
from backcare.core.audit import record_event
from backcare.reports import tasks
from backcare.reports.export import CHUNK_SIZE, domain_tables, write_tables
from backcare.reports.models import ClinicExport, ExportStatus

FAILED_MESSAGE = "The export could not be written. Start a new one."


@transaction.atomic
def request_clinic_export(*, requested_by: Viewer, clinic: Clinic | None) -> ClinicExport:
    """Queue an export of every clinic-owned table of `clinic` (a zip of CSV files), for its
    admins only: `NotFoundError` (audited) for anyone else. The job starts after the commit.
    Records `clinic.export.request`."""
    tables = domain_tables(requested_by, clinic)
    assert clinic is not None  # domain_tables refused a missing clinic
    export = ClinicExport.objects.create(clinic=clinic, requested_by=acting_user(requested_by))
    export.rows_total = sum(table.count() for table in tables)  # this job's row included
    export.save(update_fields=["rows_total"])
    record_event(
        actor=requested_by, action="clinic.export.request", clinic_id=clinic.pk, obj=export
    )
    transaction.on_commit(lambda: tasks.write_clinic_export.enqueue(str(export.pk)))
    return export


def run_clinic_export(*, export_id: str, chunk_size: int = CHUNK_SIZE) -> None:
    """Write the zip of a queued export, saving progress after every `chunk_size` rows. The
    tables are read with the requester's rights, so an admin who lost the role gets nothing:
    the job fails. A job that is not queued (already run) is left alone."""
    export = ClinicExport.objects.select_related("clinic", "requested_by").get(
        pk=uuid.UUID(export_id)
    )
    if export.status != ExportStatus.QUEUED:
        return
    written = 0

    def on_row() -> None:
        nonlocal written
        written += 1
        if written % chunk_size == 0:
            ClinicExport.objects.filter(pk=export.pk).update(rows_done=written)

    try:
        tables = domain_tables(export.requested_by, export.clinic)
        total = sum(table.count() for table in tables)
        _set(export, status=ExportStatus.RUNNING, started_at=timezone.now(), rows_total=total)
        with tempfile.TemporaryFile() as out:
            write_tables(out, tables, chunk_size=chunk_size, on_row=on_row)
            out.seek(0)
            export.file.save("export.zip", File(out), save=False)
    except Exception:
        _set(
            export,
            status=ExportStatus.FAILED,
            finished_at=timezone.now(),
            error=FAILED_MESSAGE,
        )
        raise
    export.rows_done = written
    export.rows_total = max(export.rows_total, written)
    export.status = ExportStatus.DONE
    export.finished_at = timezone.now()
    export.save()


def _set(export: ClinicExport, **values: object) -> None:
    ClinicExport.objects.filter(pk=export.pk).update(**values, updated_at=timezone.now())
    for name, value in values.items():
        setattr(export, name, value)


def remove_old_clinic_exports(now: datetime) -> int:
    """Retention rule: exports finished (written or failed) more than
    `BACKCARE_RETENTION_EXPORT_DAYS` ago, their zip files with them. Returns the rows removed."""
    cutoff = now - timedelta(days=settings.BACKCARE_RETENTION_EXPORT_DAYS)
    old = ClinicExport.objects.filter(finished_at__lt=cutoff)
    for export in old.exclude(file=""):
        export.file.delete(save=False)
    removed, _ = old.delete()
    return removed
