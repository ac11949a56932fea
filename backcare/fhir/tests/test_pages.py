"""Open data pages: the clinic's exports for its admins (polling while one runs) and the
patient's own downloads."""

import csv
import io

import pytest
from django.urls import reverse

from backcare.core.models import AuditEvent
from backcare.fhir.models import ExportJob
from backcare.fhir.tests.factories import FhirWorld
from backcare.patients.models import Patient
from conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> FhirWorld:
    return FhirWorld()


def test_an_admin_starts_an_export_and_the_page_links_its_files(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("fhir_clinic_export"))
    assert response.status_code == 302
    page = client.get(reverse("fhir_clinic_export")).content.decode()
    job = ExportJob.objects.get(clinic=world.clinic)
    assert reverse("fhir_export_file", args=[job.pk, "Patient"]) in page
    assert "every 2s" not in page
    table = client.get(reverse("fhir_export_table", args=[job.pk, "patients"]))
    rows = list(csv.reader(io.StringIO(b"".join(table.streaming_content).decode())))
    assert rows[0][:3] == ["id", "given_name", "family_name"]
    assert [row[0] for row in rows[1:]] == [str(world.patient.pk)]
    assert job.tables == {
        "patients": 1,
        "appointments": 2,
        "measurements": 2,
        "consents": 1,
        "treatment_plans": 1,
    }
    unknown = client.get(reverse("fhir_export_table", args=[job.pk, "secrets"]))
    assert unknown.status_code == 404


def test_the_list_polls_while_an_export_runs(world):
    ExportJob.objects.create(clinic=world.clinic, requested_by=world.admin, progress_percent=40)
    client = client_for(world.admin)
    page = client.get(reverse("fhir_clinic_export")).content.decode()
    assert 'hx-trigger="every 2s"' in page
    partial = client.get(reverse("fhir_clinic_export"), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="export-jobs"')
    assert 'value="40"' in partial


def test_the_export_page_is_for_admins_only(world):
    assert client_for(world.user).get(reverse("fhir_clinic_export")).status_code == 404
    assert client_for(world.user).post(reverse("fhir_clinic_export")).status_code == 404
    assert not ExportJob.objects.exists()


def test_a_patient_downloads_their_own_measurements_as_csv(world):
    Patient.objects.filter(pk=world.patient.pk).update(user=world.patient_user)
    client = client_for(world.patient_user)
    page = client.get(reverse("portal_my_data")).content.decode()
    assert reverse("fhir_patient_everything", args=[world.patient.pk]) in page
    assert reverse("progress_pdf", args=[world.patient.pk]) in page
    assert AuditEvent.objects.filter(
        action="portal.data.view", actor_id=world.patient_user.pk, patient_id=world.patient.pk
    ).exists()
    response = client.get(reverse("portal_measurements_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["measured_at", "instrument", "score_display", "band", "method"]
    assert sorted(row[1] for row in rows[1:]) == ["odi", "pain_nrs"]
    assert AuditEvent.objects.filter(
        action="measurement.list", actor_id=world.patient_user.pk, patient_id=world.patient.pk
    ).exists()


def test_someone_without_a_patient_record_has_no_data_page(world):
    staff_only = world.desk
    assert client_for(staff_only).get(reverse("portal_my_data")).status_code == 404
    assert client_for(staff_only).get(reverse("portal_measurements_csv")).status_code == 404


def test_the_patients_own_bundle_downloads_through_the_session(world):
    Patient.objects.filter(pk=world.patient.pk).update(user=world.patient_user)
    response = client_for(world.patient_user).get(
        reverse("fhir_patient_everything", args=[world.patient.pk])
    )
    assert response.status_code == 200
    assert response.json()["entry"][0]["resource"]["id"] == str(world.patient.pk)
