"""The clinic's FHIR exports page for its admins (polling while one runs), and the patient's
own bundle from the "My data" page of the reports app."""

import pytest
from django.urls import reverse

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


def test_the_my_data_page_links_the_patients_own_fhir_bundle(world):
    Patient.objects.filter(pk=world.patient.pk).update(user=world.patient_user)
    page = client_for(world.patient_user).get(reverse("portal_my_data")).content.decode()
    assert reverse("fhir_patient_everything", args=[world.patient.pk]) in page


def test_the_patients_own_bundle_downloads_through_the_session(world):
    Patient.objects.filter(pk=world.patient.pk).update(user=world.patient_user)
    response = client_for(world.patient_user).get(
        reverse("fhir_patient_everything", args=[world.patient.pk])
    )
    assert response.status_code == 200
    assert response.json()["entry"][0]["resource"]["id"] == str(world.patient.pk)
