"""Background work of fhir (django.tasks)."""

import uuid

from django.tasks import task


@task
def run_export(job_id: str) -> None:
    """Write the NDJSON files of a bulk export (`services.run_export`)."""
    from backcare.fhir import services

    services.run_export(job_id=uuid.UUID(job_id))
