"""The FHIR endpoints: `$everything` scoped like the patient record and audited, with a fixed
number of queries; the bulk export's kick-off, status and files; the import of a Bundle."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from backcare.accounts.models import Role, User
from backcare.accounts.services import create_api_token
from backcare.core.models import AuditEvent
from backcare.fhir import services
from backcare.fhir.models import ExportJob
from backcare.fhir.tests.factories import FhirWorld
from conftest import client_for
from tests.factories import make_clinic, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> FhirWorld:
    return FhirWorld()


def everything_url(world: FhirWorld) -> str:
    return reverse("fhir_patient_everything", args=[world.patient.pk])


def test_everything_returns_the_patients_bundle_as_fhir_json(world):
    response = client_for(world.user).get(everything_url(world))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["entry"][0]["resource"]["id"] == str(world.patient.pk)
    assert AuditEvent.objects.filter(action="patient.export", patient_id=world.patient.pk)


def test_everything_is_a_404_outcome_for_a_stranger_and_the_attempt_is_audited(world):
    stranger = make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN)
    response = client_for(stranger).get(everything_url(world))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.filter(
        actor_id=stranger.pk, patient_id=world.patient.pk, outcome="denied"
    ).exists()


def test_everything_asks_an_anonymous_caller_to_sign_in(world):
    response = client_for(None).get(everything_url(world))
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


def test_everything_reads_a_fixed_number_of_queries_as_the_history_grows(world):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_for(world.admin).get(everything_url(world)).status_code == 200
        return len(captured.captured_queries)

    world.grow(2)
    small = count()
    world.grow(10)
    assert count() == small


# --- Bulk export --------------------------------------------------------------------------------


def test_bulk_export_kicks_off_then_reports_a_manifest_whose_files_download_and_validate(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        kickoff = client.get(reverse("fhir_export_kickoff"))
    assert kickoff.status_code == 202
    status = client.get(kickoff["Content-Location"])
    assert status.status_code == 200
    manifest = status.json()
    assert {o["type"]: o["count"] for o in manifest["output"]} == {
        "Organization": 1,
        "Location": 1,
        "Practitioner": 2,
        "Patient": 1,
        "Appointment": 2,
        "Encounter": 1,
        "Procedure": 1,
        "QuestionnaireResponse": 2,
        "Observation": 2,
        "Consent": 1,
        "CarePlan": 1,
        "Flag": 3,  # the hold (inactive: cleared), an area not to touch, the clearance
        "Condition": 1,
        "ServiceRequest": 1,
    }
    files = {}
    for output in manifest["output"]:
        download = client.get(output["url"])
        assert download["Content-Type"] == "application/fhir+ndjson"
        lines = b"".join(download.streaming_content).decode().splitlines()
        files[output["type"]] = [json.loads(line) for line in lines]
    assert [r["id"] for r in files["Patient"]] == [str(world.patient.pk)]
    downloads = AuditEvent.objects.filter(action="fhir_export.download", actor_id=world.admin.pk)
    assert sorted(e.detail["resource_type"] for e in downloads) == sorted(files)
    for resources in files.values():
        for resource in resources:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert bulk_of_patient(files, world) == everything_of_patient(client, world)


def bulk_of_patient(files: dict[str, list[dict]], world: FhirWorld) -> list[dict]:
    subject = {"reference": f"Patient/{world.patient.pk}"}
    return sorted(
        (r for rs in files.values() for r in rs if r.get("subject") == subject),
        key=lambda r: (r["resourceType"], r["id"]),
    )


def everything_of_patient(client: Client, world: FhirWorld) -> list[dict]:
    """What the patient's own `$everything` holds about them: the bulk export must say the same."""
    entries = client.get(everything_url(world)).json()["entry"]
    subject = {"reference": f"Patient/{world.patient.pk}"}
    return sorted(
        (e["resource"] for e in entries if e["resource"].get("subject") == subject),
        key=lambda r: (r["resourceType"], r["id"]),
    )


def test_bulk_export_status_is_202_with_progress_while_running(world):
    job = ExportJob.objects.create(clinic=world.clinic, requested_by=world.admin)
    ExportJob.objects.filter(pk=job.pk).update(progress_percent=50)
    response = client_for(world.admin).get(reverse("fhir_export_status", args=[job.pk]))
    assert response.status_code == 202
    assert response["X-Progress"] == "50%"


def test_bulk_export_of_a_failed_job_is_an_operation_outcome(world):
    job = ExportJob.objects.create(
        clinic=world.clinic, requested_by=world.admin, status="failed", error="disk full"
    )
    response = client_for(world.admin).get(reverse("fhir_export_status", args=[job.pk]))
    assert response.status_code == 500
    assert "disk full" in response.json()["issue"][0]["diagnostics"]


def test_bulk_export_is_only_for_the_clinics_admins(world):
    response = client_for(world.user).get(reverse("fhir_export_kickoff"))
    assert response.status_code == 404
    job = ExportJob.objects.create(clinic=world.clinic, requested_by=world.admin)
    stranger = make_member(make_clinic("Elsewhere"), Role.CLINIC_ADMIN)
    status = client_for(stranger).get(reverse("fhir_export_status", args=[job.pk]))
    assert status.status_code == 404
    file = client_for(stranger).get(reverse("fhir_export_file", args=[job.pk, "Patient"]))
    assert file.status_code == 404


def test_a_file_the_export_did_not_write_is_a_404(world, django_capture_on_commit_callbacks):
    client = client_for(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("fhir_export_kickoff"))
    job = ExportJob.objects.get(clinic=world.clinic)
    response = client.get(reverse("fhir_export_file", args=[job.pk, "Secrets"]))
    assert response.status_code == 404


# --- Personal access tokens ---------------------------------------------------------------------


def token_for(user, clinic, scopes=("read",)) -> str:
    return create_api_token(actor=user, clinic=clinic, name="fhir", scopes=scopes)[1]


def test_everything_accepts_a_personal_access_token(world):
    token = token_for(world.user, world.clinic)
    response = Client().get(everything_url(world), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "Bundle"


def test_a_token_limited_to_some_resource_groups_cannot_read_a_fhir_record(world):
    token = create_api_token(
        actor=world.user, clinic=world.clinic, name="fhir", scopes=["read"], groups=["scheduling"]
    )[1]
    response = Client().get(everything_url(world), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    refusal = AuditEvent.objects.get(action="api.scope", actor_id=world.user.pk)
    assert refusal.outcome == AuditEvent.Outcome.DENIED
    assert "clinical" in refusal.detail["needs"]
    assert not AuditEvent.objects.filter(action="patient.export").exists()


def test_an_unknown_token_is_a_401_outcome(world):
    response = Client().get(everything_url(world), HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_token_of_another_clinic_cannot_read_the_patient(world):
    elsewhere = make_clinic("Elsewhere")
    also_there = make_member(elsewhere, Role.THERAPIST, world.user)
    token = token_for(User.objects.get(pk=also_there.pk), elsewhere)
    response = Client().get(everything_url(world), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404


def test_a_read_only_token_may_not_import(world):
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    response = Client().post(
        reverse("fhir_import_bundle"),
        {"resourceType": "Bundle", "type": "collection"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(admin, empty)}",
    )
    assert response.status_code == 403
    written = Client().post(
        reverse("fhir_import_bundle"),
        {"resourceType": "Bundle", "type": "collection"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(admin, empty, scopes=('read', 'write'))}",
    )
    assert written.status_code == 422


def test_an_import_through_the_session_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    response = client.post(
        reverse("fhir_import_bundle"), {"resourceType": "Bundle"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "security"


def test_a_file_removed_from_disk_is_gone_not_an_error(world, django_capture_on_commit_callbacks):
    client = client_for(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("fhir_export_kickoff"))
    job = ExportJob.objects.get(clinic=world.clinic)
    (services.export_folder(job) / "Patient.ndjson").unlink()
    response = client.get(reverse("fhir_export_file", args=[job.pk, "Patient"]))
    assert response.status_code == 410
