"""Background work of reports (django.tasks)."""

from django.tasks import task


@task
def write_clinic_export(export_id: str) -> None:
    """Write a requested whole-clinic export (see `services.run_clinic_export`)."""
    from backcare.reports import services

    services.run_clinic_export(export_id=export_id)
