from django.db import models

from backcare.accounts.models import ClinicScopedModel, User


class ExportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportJob(ClinicScopedModel):
    """One bulk export of a clinic (FHIR Bulk Data kick-off, poll, download): NDJSON files per
    resource type under MEDIA_ROOT, written by a background task."""

    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.RUNNING
    )
    progress_percent = models.PositiveSmallIntegerField(default=0)
    # {"Patient": 12, ...}: the resources written per type, in the order of the manifest.
    counts = models.JSONField(default=dict, blank=True)
    # The most rows held in memory at once while writing (the page size bounds it).
    peak_rows = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "created_at"], name="fhir_export_clinic_idx")]

    def __str__(self) -> str:
        return f"FHIR export {self.pk} ({self.status})"
