"""Import of a patient's Bundle into an empty clinic: a round trip gives the same resources
(every kind, references included), safety state comes across, and any refusal writes
nothing."""

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from backcare.accounts.models import Clinic, Licence, Membership, Role, Room, Therapist, User
from backcare.core.errors import ConflictError, InvalidInputError, NotFoundError
from backcare.fhir import importing, mapping
from backcare.fhir.queries import everything
from backcare.fhir.tests.factories import FhirWorld
from backcare.outcomes.models import OutcomeMeasurement
from backcare.patients.models import Patient
from backcare.scheduling.models import Appointment, Service
from backcare.scheduling.services import book_appointment
from backcare.triage.models import Clearance, TriageAssessment
from backcare.triage.queries import HoldState, hold_status, limits_from
from backcare.triage.tests.factories import make_screening
from backcare.visits.models import AppliedTechnique, Visit
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_therapist

pytestmark = pytest.mark.django_db

Resource = dict[str, Any]
# What is the target clinic's own, not the record's: the Organization resource is the clinic
# imported into (decision 0031), whose name, address and telecom are its own. Its id and the
# references to it are compared as labels like every other.
SERVER_ASSIGNED = {"Organization": {"name", "address", "telecom"}}


@pytest.fixture
def world() -> FhirWorld:
    return FhirWorld()


def exported_by(world: FhirWorld) -> Resource:
    return everything(world.admin, world.patient.pk, now=timezone.now())


def empty_clinic_admin() -> tuple[Clinic, User]:
    empty = make_clinic("Empty")
    return empty, make_member(empty, Role.CLINIC_ADMIN)


def canonical(bundle: Resource) -> list[Resource]:
    """The bundle's resources in order, each id replaced by a label of its type and order of
    appearance ("Practitioner#1") and each reference by the label of the resource it points
    at, so that references must still point at the matching resources; a reference to
    anything outside the bundle stays as it is (and so differs between clinics)."""
    resources = [e["resource"] for e in bundle["entry"]]
    labels: dict[str, str] = {}
    counts: dict[str, int] = {}
    for resource in resources:
        kind = resource["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
        labels[f"{kind}/{resource['id']}"] = f"{kind}#{counts[kind]}"

    def relabel(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: labels.get(v, v) if k == "reference" else relabel(v) for k, v in value.items()
            }
        if isinstance(value, list):
            return [relabel(v) for v in value]
        return value

    found = []
    for resource in resources:
        kind = resource["resourceType"]
        left_out = SERVER_ASSIGNED.get(kind, set())
        row = {k: relabel(v) for k, v in resource.items() if k not in left_out}
        row["id"] = labels[f"{kind}/{resource['id']}"]
        found.append(row)
    return found


def test_a_round_trip_into_an_empty_clinic_gives_the_same_resources(world):
    exported = exported_by(world)
    empty, admin = empty_clinic_admin()
    new_id = importing.import_bundle(actor=admin, clinic=empty, document=exported)
    again = everything(admin, new_id, now=timezone.now())
    assert new_id != world.patient.pk
    assert canonical(again) == canonical(exported)
    kinds = {r["resourceType"] for r in canonical(again)}
    assert kinds == importing.IMPORTED_TYPES
    for entry in again["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


def test_a_longer_history_round_trips_too(world):
    world.grow(3)
    exported = exported_by(world)
    empty, admin = empty_clinic_admin()
    new_id = importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert canonical(everything(admin, new_id, now=timezone.now())) == canonical(exported)
    assert Visit.objects.filter(clinic=empty).count() == 4
    assert AppliedTechnique.objects.filter(clinic=empty).count() == 4


def test_a_changed_reference_is_seen_by_the_comparison(world):
    exported = exported_by(world)
    changed = json.loads(json.dumps(exported))
    [procedure] = [
        e["resource"] for e in changed["entry"] if e["resource"]["resourceType"] == "Procedure"
    ]
    [appointment] = [
        e["resource"]
        for e in changed["entry"]
        if e["resource"]["resourceType"] == "Appointment" and e["resource"]["status"] == "booked"
    ]
    procedure["encounter"] = {"reference": f"Appointment/{appointment['id']}"}
    assert canonical(changed) != canonical(exported)


def test_a_patient_on_hold_at_the_source_cannot_be_booked_after_the_import():
    source = make_clinic("Source")
    source_admin = make_member(source, Role.CLINIC_ADMIN)
    patient = make_patient(source)
    make_screening(source_admin, patient, yes=("history_of_cancer",))
    assert hold_status(patient).state == HoldState.ON_HOLD
    exported = everything(source_admin, patient.pk, now=timezone.now())
    empty, admin = empty_clinic_admin()
    new_id = importing.import_bundle(actor=admin, clinic=empty, document=exported)
    imported = Patient.objects.get(pk=new_id)
    assert hold_status(imported).state == HoldState.ON_HOLD
    therapist = make_therapist(empty)
    service = Service.objects.create(clinic=empty, name="Back massage", duration_minutes=60)
    with pytest.raises(ConflictError, match=r"cannot be booked yet.*clearance"):
        book_appointment(
            booked_by=admin,
            patient_id=new_id,
            therapist_id=therapist.pk,
            service_id=service.pk,
            starts_at=timezone.now() + timedelta(days=2),
        )
    assert not Appointment.objects.filter(clinic=empty).exists()


def test_a_cleared_patient_stays_cleared_with_the_clearance(world):
    source = hold_status(world.patient)
    assert source.state == HoldState.CLEAR
    empty, admin = empty_clinic_admin()
    new_id = importing.import_bundle(actor=admin, clinic=empty, document=exported_by(world))
    hold = hold_status(Patient.objects.get(pk=new_id))
    assert hold.state == HoldState.CLEAR
    [clearance] = hold.clearances
    [original] = source.clearances
    assert (clearance.clinician_name, clearance.cleared_on, clearance.covers) == (
        original.clinician_name,
        original.cleared_on,
        original.covers,
    )
    assert clearance.restricted_regions == ["leg_left"]


def test_the_limits_of_the_screening_come_across(world):
    source = limits_from(hold_status(world.patient))
    assert source.max_pressure_level == 3
    empty, admin = empty_clinic_admin()
    new_id = importing.import_bundle(actor=admin, clinic=empty, document=exported_by(world))
    assert limits_from(hold_status(Patient.objects.get(pk=new_id))) == source


def test_a_hold_the_findings_cannot_give_is_refused_and_nothing_is_written(world):
    exported = exported_by(world)
    for entry in exported["entry"]:
        if mapping.HOLD_SYSTEM in json.dumps(entry["resource"].get("code", {})):
            coding = entry["resource"]["code"]["coding"][0]
            if coding["code"] == "clear":
                coding["code"] = "on_hold"
    empty, admin = empty_clinic_admin()
    with pytest.raises(InvalidInputError, match=r"on_hold.*cannot be rebuilt"):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not TriageAssessment.objects.filter(clinic=empty).exists()
    assert not Clearance.objects.filter(clinic=empty).exists()


def test_a_bundle_whose_fifth_resource_is_bad_leaves_the_clinic_empty(world):
    exported = exported_by(world)
    fifth = exported["entry"][4]["resource"]
    assert fifth["resourceType"] == "Appointment"
    fifth["end"] = fifth["start"]
    empty, admin = empty_clinic_admin()
    with pytest.raises(InvalidInputError, match=f"Appointment {fifth['id']}: .*end after"):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not Patient.objects.filter(clinic=empty).exists()
    assert not Room.objects.filter(clinic=empty).exists()
    assert not Appointment.objects.filter(clinic=empty).exists()
    assert list(Membership.objects.filter(clinic=empty).values_list("user", flat=True)) == [
        admin.pk
    ]
    assert not Licence.objects.filter(therapist__user__memberships__clinic=empty).exists()


def test_an_imported_practitioner_is_a_new_account_that_cannot_sign_in(world):
    empty, admin = empty_clinic_admin()
    importing.import_bundle(actor=admin, clinic=empty, document=exported_by(world))
    [therapist] = Therapist.objects.filter(user__memberships__clinic=empty)
    assert therapist.pk != world.therapist.pk
    assert not therapist.user.has_usable_password()
    assert therapist.user.email.endswith("@imported.invalid")
    assert therapist.user.full_name == world.user.full_name
    assert not Membership.objects.filter(clinic=empty, user=world.user).exists()
    [licence] = therapist.licences.all()
    assert licence.verified_at is None  # a licence is checked with its board by each clinic


def test_a_room_of_the_same_name_is_the_clinics_own(world):
    exported = exported_by(world)
    [location] = [
        e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "Location"
    ]
    empty, admin = empty_clinic_admin()
    own = Room.objects.create(clinic=empty, name=location["name"].upper())
    new_id = importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert list(Room.objects.filter(clinic=empty)) == [own]
    assert Appointment.objects.filter(patient_id=new_id, room=own).count() == 1


def test_a_resource_of_a_kind_we_do_not_import_is_refused(world):
    exported = exported_by(world)
    exported["entry"].append(
        {"resource": {"resourceType": "Medication", "id": "m1"}, "fullUrl": "urn:uuid:m1"}
    )
    empty, admin = empty_clinic_admin()
    with pytest.raises(InvalidInputError, match="does not import Medication"):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)


def test_a_reference_to_nothing_in_the_bundle_is_refused_naming_the_resource(world):
    exported = exported_by(world)
    [encounter] = [
        e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "Encounter"
    ]
    encounter["appointment"] = [{"reference": "Appointment/elsewhere"}]
    empty, admin = empty_clinic_admin()
    with pytest.raises(InvalidInputError, match=f"Encounter {encounter['id']}: refers to"):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not Patient.objects.filter(clinic=empty).exists()


def test_an_import_into_a_clinic_with_patients_is_refused(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    with pytest.raises(ConflictError):
        importing.import_bundle(actor=world.admin, clinic=world.clinic, document=exported)


def test_an_import_is_only_for_the_clinics_admins(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    empty = make_clinic("Empty")
    with pytest.raises(NotFoundError):
        importing.import_bundle(actor=world.admin, clinic=empty, document=exported)


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
        importing.import_bundle(actor=admin, clinic=empty, document=exported)
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
        importing.import_bundle(actor=admin, clinic=empty, document=document)


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


def test_a_round_trip_through_the_endpoints_gives_the_same_resources(world):
    exported = client_for(world.admin).get(
        reverse("fhir_patient_everything", args=[world.patient.pk])
    )
    empty, admin = empty_clinic_admin()
    client = client_for(admin)
    response = client.post(
        reverse("fhir_import_bundle"), exported.json(), content_type="application/json"
    )
    assert response.status_code == 201
    assert Patient.objects.filter(clinic=empty, pk=response.json()["id"]).exists()
    again = client.get(reverse("fhir_patient_everything", args=[response.json()["id"]]))
    assert canonical(again.json()) == canonical(exported.json())


def test_precautions_out_of_range_are_refused(world):
    exported = exported_by(world)
    [hold] = [
        e["resource"]
        for e in exported["entry"]
        if e["resource"].get("extension")
        and e["resource"]["resourceType"] == "Flag"
        and e["resource"]["code"]["coding"][0]["code"] == "clear"
    ]
    precautions = json.loads(hold["extension"][0]["valueString"])
    hold["extension"][0]["valueString"] = json.dumps(precautions | {"max_pressure_level": 9})
    empty, admin = empty_clinic_admin()
    with pytest.raises(InvalidInputError, match=f"Flag {hold['id']}: A pressure limit"):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not Patient.objects.filter(clinic=empty).exists()


def test_an_answer_date_without_a_time_zone_is_refused(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    for entry in exported["entry"]:
        if entry["resource"]["resourceType"] == "QuestionnaireResponse":
            entry["resource"]["authored"] = "2026-01-05"  # valid FHIR, but no instant
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError, match="time zone"):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)


def test_a_questionnaire_response_of_an_unknown_instrument_is_refused(world):
    exported = everything(world.admin, world.patient.pk, now=timezone.now())
    for entry in exported["entry"]:
        if entry["resource"]["resourceType"] == "QuestionnaireResponse":
            entry["resource"]["questionnaire"] = f"{mapping.INSTRUMENT_SYSTEM}:nonsense"
    empty = make_clinic("Empty")
    admin = make_member(empty, Role.CLINIC_ADMIN)
    with pytest.raises(InvalidInputError):
        importing.import_bundle(actor=admin, clinic=empty, document=exported)
    assert not Patient.objects.filter(clinic=empty).exists()
