"""The mapping to FHIR R4: every resource of a patient's record validates with fhir.resources
(its R4B models; decision 0023) and uses LOINC where a code exists."""

import json

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from backcare.fhir import mapping
from backcare.fhir.queries import everything, patient_resources
from backcare.fhir.tests.factories import ODI_ANSWERS, FhirWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> FhirWorld:
    return FhirWorld()


def test_every_exported_resource_validates_with_fhir_resources(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    Bundle.model_validate(everything(world.admin, world.patient.pk, now=timezone.now()))
    kinds = {r["resourceType"] for r in resources}
    assert kinds == {
        "Patient",
        "Organization",
        "Practitioner",
        "Location",
        "Appointment",
        "QuestionnaireResponse",
        "Observation",
        "Consent",
        "CarePlan",
        "Flag",
        "Encounter",
        "Procedure",
        "Condition",
        "ServiceRequest",
    }


def test_a_technique_applied_is_a_procedure_on_its_muscle_and_side(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    [procedure] = [r for r in resources if r["resourceType"] == "Procedure"]
    assert procedure["code"]["text"] == "Swedish (relaxation)"
    assert procedure["bodySite"][0]["coding"][0]["code"] == "erector_spinae:left"
    assert procedure["encounter"] == {"reference": f"Encounter/{world.visit.pk}"}
    assert procedure["note"] == [{"text": "20 minutes, pressure 3 of 5"}]


def test_the_patient_sees_no_screening_findings_or_letters_in_their_own_export(world):
    from backcare.patients.models import Patient

    Patient.objects.filter(pk=world.patient.pk).update(user=world.patient_user)
    resources = patient_resources(world.patient_user, world.patient.pk, now=timezone.now())
    kinds = {r["resourceType"] for r in resources}
    assert "Condition" not in kinds
    assert "ServiceRequest" not in kinds
    assert "Procedure" in kinds
    hold_codes = [
        r["code"]["coding"][0]["code"]
        for r in resources
        if r["resourceType"] == "Flag" and r["code"]["coding"][0]["system"] == mapping.HOLD_SYSTEM
    ]
    assert hold_codes == ["clear"]  # no clearance or override: those are for the clinicians


def test_pain_is_coded_with_loinc_and_other_measures_with_our_code_system(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    codes = {
        r["code"]["coding"][-1]["code"]: r["code"]["coding"]
        for r in resources
        if r["resourceType"] == "Observation"
    }
    assert codes["pain_nrs"][0] == {
        "system": "http://loinc.org",
        "code": "72514-3",
        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
    }
    assert codes["odi"] == [{"system": mapping.INSTRUMENT_SYSTEM, "code": "odi"}]


def test_the_practitioner_carries_each_licence_as_a_qualification(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    [practitioner] = [r for r in resources if r["resourceType"] == "Practitioner"]
    [qualification] = practitioner["qualification"]
    assert qualification["code"] == {"text": "Registered Massage Therapist"}
    assert qualification["issuer"] == {"display": "Test Board, Testshire"}


def test_answers_survive_the_questionnaire_response_unchanged(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    responses = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    assert {r["questionnaire"]: mapping.answers_of(r) for r in responses} == {
        f"{mapping.INSTRUMENT_SYSTEM}:pain_nrs": {"now": 7, "worst": 9},
        f"{mapping.INSTRUMENT_SYSTEM}:odi": ODI_ANSWERS,
    }


def test_the_area_not_to_touch_is_a_flag(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    texts = [r["code"]["text"] for r in resources if r["resourceType"] == "Flag"]
    assert "Do not massage: feet" in texts


def test_the_hold_is_a_flag_inactive_once_clear_with_its_screenings_time_and_precautions(world):
    resources = patient_resources(world.admin, world.patient.pk, now=timezone.now())
    flags = {
        r["code"]["coding"][0]["code"]: r
        for r in resources
        if r["resourceType"] == "Flag" and r["code"]["coding"][0]["system"] == mapping.HOLD_SYSTEM
    }
    assert set(flags) == {"clear", "cleared"}
    hold = flags["clear"]
    assert hold["status"] == "inactive"
    [precautions] = hold["extension"]
    assert json.loads(precautions["valueString"])["max_pressure_level"] == 3
    cleared = flags["cleared"]
    assert cleared["period"] == {"start": world.clinic.local_date().isoformat()}
    assert {
        "url": f"{mapping.EXTENSION_BASE}:clearance-restricted-region",
        "valueCode": "leg_left",
    } in cleared["extension"]
