"""Import of a patient's Bundle into an empty clinic (round trip, all or nothing) and the bulk
export's flat memory."""

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.fhir import mapping, services
from backcare.fhir.models import ExportJob
from backcare.fhir.queries import everything
from backcare.fhir.tests.factories import FhirWorld
from backcare.outcomes.models import OutcomeMeasurement
from backcare.patients.models import Patient
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient

pytestmark = pytest.mark.django_db

IMPORTED = ("Patient", "QuestionnaireResponse", "Observation")
SERVER_ASSIGNED = {"id", "subject", "derivedFrom", "managingOrganization"}


@pytest.fixture
def world() -> FhirWorld:
    return FhirWorld()


def comparable(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The imported kinds of resource, without server-assigned ids and references."""
    found = [
        {k: v for k, v in e["resource"].items() if k not in SERVER_ASSIGNED}
        for e in bundle["entry"]
        if e["resource"]["resourceType"] in IMPORTED
    ]
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True))


def test_a_round_trip_into_an_empty_clinic_gives_the_same_resources(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    new_id = services.import_bundle(actor=admin, clinic=empty, document=exported)
    again = everything(admin, new_id, now=timezone.now())
    assert new_id != world.patient.pk
    assert comparable(again) == comparable(exported)
    assert len(comparable(again)) == 5


def test_an_import_into_a_clinic_with_patients_is_refused(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    with pytest.raises(ConflictError):
        services.import_bundle(actor=world.admin, clinic=world.clinic, document=exported)


def test_an_import_is_only_for_the_clinics_admins(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    empty = make_clinic("Empty")
    with pytest.raises(NotFoundError):
        services.import_bundle(actor=world.admin, clinic=empty, document=exported)


def test_a_bundle_with_bad_answers_writes_nothing(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    [pain] = [
        e["resource"]
        for e in exported["entry"]
        if e["resource"].get("questionnaire", "").endswith(":pain_nrs")
    ]
    pain["item"][0]["answer"] = [{"valueInteger": 11}]
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError):
        services.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not Patient.objects.filter(clinic=empty).exists()
    assert not OutcomeMeasurement.objects.filter(clinic=empty).exists()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "Send a FHIR Bundle"),
        ({"resourceType": "Bundle"}, "not valid FHIR: type"),
        ({"resourceType": "Bundle", "type": "collection"}, "holds 0"),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "birthDate": "soon"}}],
            },
            "birthDate",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Nonsense"}}],
            },
            "unknown resource type",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "id": "p"}}],
            },
            "full birthDate",
        ),
    ],
)
def test_a_bad_bundle_is_refused_with_a_message(document, message):
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError, match=message):
        services.import_bundle(actor=admin, clinic=empty, document=document)


def test_the_import_endpoint_answers_a_bad_bundle_with_a_422_outcome():
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    client = client_for(admin)
    url = reverse("fhir_import_bundle")
    response = client.post(url, {"resourceType": "Bundle"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["resourceType"] == "OperationOutcome"
    garbled = client.post(url, "{not json", content_type="application/json")
    assert garbled.status_code == 400


def test_the_import_endpoint_creates_the_patient(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    response = client_for(admin).post(
        reverse("fhir_import_bundle"), exported, content_type="application/json"
    )
    assert response.status_code == 201
    assert Patient.objects.filter(clinic=empty, pk=response.json()["id"]).exists()


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


def test_an_answer_date_without_a_time_zone_is_refused(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    for entry in exported["entry"]:
        if entry["resource"]["resourceType"] == "QuestionnaireResponse":
            entry["resource"]["authored"] = "2026-01-05"  # valid FHIR, but no instant
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError, match="time zone"):
        services.import_bundle(actor=admin, clinic=empty, document=exported)


def test_a_questionnaire_response_of_an_unknown_instrument_is_refused(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    for entry in exported["entry"]:
        if entry["resource"]["resourceType"] == "QuestionnaireResponse":
            entry["resource"]["questionnaire"] = f"{mapping.INSTRUMENT_SYSTEM}:nonsense"
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError):
        services.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not Patient.objects.filter(clinic=empty).exists()


# --- Bulk export speed: keyset pages on an index, no query per row ------------------------------


def _pages_of_each_type(world: FhirWorld, limit: int) -> dict[str, tuple[int, int, list]]:
    """For each exported type: the queries of reading its second page of `limit` rows (after
    the first page's last id), the queries of mapping that page, and the page."""
    found = {}
    for name, pager, to_resource in services.EXPORT_TYPES:
        first = pager(world.clinic, None, limit=limit)
        after = first[-1].pk if first else None
        with CaptureQueriesContext(connection) as reading:
            page = pager(world.clinic, after, limit=limit)
        with CaptureQueriesContext(connection) as mapping_rows:
            for row in page:
                to_resource(row)
        found[name] = (len(reading), len(mapping_rows), page)
    return found


def test_an_export_page_takes_the_same_queries_and_its_rows_none_whatever_the_clinics_size(
    world,
):
    world.grow(2)
    small = _pages_of_each_type(world, limit=2)
    world.grow(6)
    large = _pages_of_each_type(world, limit=2)
    for name, (reading, mapping_rows, _) in large.items():
        assert mapping_rows == 0, name
        assert reading == small[name][0], name
    grown = ("Encounter", "Procedure", "QuestionnaireResponse", "Observation", "Appointment")
    assert all(len(large[name][2]) == 2 for name in grown)


def test_every_clinic_table_the_export_pages_through_has_an_index_on_clinic_and_id(world):
    # A keyset page (`clinic_id = ? AND id > ? ORDER BY id`) without it scans the primary key
    # across every clinic's rows, or sorts the clinic's rows again for each page.
    first_rows = [pager(world.clinic, None, limit=1) for _, pager, _ in services.EXPORT_TYPES]
    paged = {type(page[0]) for page in first_rows if page and hasattr(page[0], "clinic_id")}
    assert len(paged) >= 7
    for model in paged:
        indexed = [list(index.fields) for index in model._meta.indexes]
        assert ["clinic", "id"] in indexed, model.__name__
