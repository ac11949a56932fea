"""The bulk export's flat memory and its failures (the import is `test_importing`)."""

import json

import pytest

from backcare.accounts.models import Role
from backcare.fhir import services
from backcare.fhir.models import ExportJob
from tests.factories import make_clinic, make_member, make_patient

pytestmark = pytest.mark.django_db

# --- Bulk export memory -------------------------------------------------------------------------


def export_of_clinic_with(patients: int) -> ExportJob:
    clinic = make_clinic("Seeded")
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    for _ in range(patients):
        make_patient(clinic)
    job = ExportJob.objects.create(clinic=clinic, requested_by=admin)
    return services.run_export(job_id=job.pk, page_rows=4)


def test_bulk_export_holds_at_most_one_page_of_rows_whatever_the_clinics_size():
    small = export_of_clinic_with(5)
    large = export_of_clinic_with(23)
    assert (small.counts["Patient"], large.counts["Patient"]) == (5, 23)
    assert small.peak_rows == large.peak_rows == 4
    lines = (services.export_folder(large) / "Patient.ndjson").read_text().splitlines()
    assert len({json.loads(line)["id"] for line in lines}) == 23


def test_a_failing_export_is_marked_failed_with_its_reason(monkeypatch):
    def broken(clinic, after, *, limit):
        raise OSError("disk full")

    monkeypatch.setattr(
        services, "EXPORT_TYPES", (*services.EXPORT_TYPES[:1], ("Patient", broken, str))
    )
    clinic = make_clinic("Seeded")
    job = ExportJob.objects.create(
        clinic=clinic, requested_by=make_member(clinic, Role.CLINIC_ADMIN)
    )
    with pytest.raises(OSError, match="disk full"):
        services.run_export(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.counts) == ("failed", "disk full", {"Organization": 1})
