"""Whole-clinic export jobs (open data, issue 8): a zip of one CSV per clinic-owned table."""

import secrets

from django.db import models

from backcare.accounts.models import ClinicScopedModel, User


def export_file_path(instance: "ClinicExport", filename: str) -> str:
    """An unguessable name under MEDIA_ROOT; the file is served only by the scoped view."""
    return f"exports/{instance.clinic_id}/{secrets.token_urlsafe(24)}.zip"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Being written"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"


class ClinicExport(ClinicScopedModel):
    """One export of a clinic's data, written in the background; `rows_done` of `rows_total`
    rows written so far (progress)."""

    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_file_path, max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic_id", "-created_at"], name="clinic_export_clinic_time"),
        ]

    def __str__(self) -> str:
        return f"Export of {self.clinic_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent_done(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return self.rows_done * 100 // self.rows_total if self.rows_total else 0
