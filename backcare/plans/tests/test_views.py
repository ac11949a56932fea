"""Plan pages: the plan beside the precautions and preferences; starting a plan; adding a
technique (refusals at 422 keep what was typed); removing; ending; strangers get 404."""

import pytest
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent
from backcare.patients.models import PatientPreferences
from backcare.plans.models import PlanTechnique, TreatmentPlan
from backcare.plans.tests.factories import make_plan, plan_technique
from backcare.plans.tests.test_services import World
from conftest import client_for
from tests.factories import make_clinic, make_member


@pytest.fixture
def world(db) -> World:
    return World()


def test_the_plan_page_shows_precautions_and_preferences(world):
    PatientPreferences.objects.update_or_create(
        patient=world.patient,
        defaults={"clinic": world.clinic, "pressure": 2, "avoid_areas_note": "left knee"},
    )
    make_plan(world.therapist, world.patient, focus="Lower back stiffness")
    page = client_for(world.therapist).get(reverse("plan_detail", args=[world.patient.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Pressure cap: level 3" in text
    assert "Deep tissue (structural), Instrument-assisted soft tissue" in text  # anticoagulants
    assert "Regions to avoid: Left leg" in text  # the clearance's restriction
    assert "left knee" in text
    assert "Lower back stiffness" in text
    assert "Deep tissue (structural) (excluded by the screening: needs your reason)" in text
    assert AuditEvent.objects.filter(action="plan.view", patient_id=world.patient.pk).exists()


def test_a_therapist_starts_a_plan_from_the_form(world):
    client = client_for(world.therapist)
    url = reverse("plan_create", args=[world.patient.pk])
    assert client.get(url).status_code == 200
    data = {
        "focus": "Ease lower back",
        "session_minutes": "60",
        "sessions_planned": "10",
        "every_weeks": "1",
        "reassess_at_sessions": "5, 10",
        "home_care": ["heat"],
        "goal_1_activity": "Garden for an hour",
        "goal_1_baseline": "2",
        "goal_1_target": "7",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get()
    assert plan.reassess_at_sessions == [5, 10]
    assert plan.goals.get().target_score == 7


def test_a_bad_plan_form_is_a_422_keeping_the_answers(world):
    client = client_for(world.therapist)
    data = {
        "focus": "Ease lower back",
        "session_minutes": "60",
        "sessions_planned": "10",
        "every_weeks": "1",
        "reassess_at_sessions": "5, twelve",
        "goal_1_activity": "Garden",
    }
    response = client.post(reverse("plan_create", args=[world.patient.pk]), data)
    assert response.status_code == 422
    text = response.content.decode()
    assert "Give session numbers separated by commas" in text
    assert "Give a target score for this activity." in text
    assert "Ease lower back" in text
    assert not TreatmentPlan.objects.exists()


def _technique(**changes: str) -> dict[str, str]:
    return {
        "technique": "swedish",
        "muscle": "erector_spinae",
        "side": "both",
        "pressure_level": "3",
        "minutes": "",
        "acknowledged_reason": "",
    } | changes


def test_adding_a_technique_above_the_cap_is_a_422_with_the_rule_and_keeps_the_form(world):
    make_plan(world.therapist, world.patient)
    client = client_for(world.therapist)
    url = reverse("plan_technique_add", args=[world.patient.pk])
    response = client.post(url, _technique(pressure_level="5", minutes="25"))
    assert response.status_code == 422
    text = response.content.decode()
    assert "Pressure level 5 is above the cap of 3 for this patient" in text
    assert 'value="25"' in text
    assert not PlanTechnique.objects.exists()
    assert client.post(url, _technique()).status_code == 302
    assert PlanTechnique.objects.count() == 1


def test_an_excluded_technique_goes_in_with_a_reason_and_shows_it(world):
    make_plan(world.therapist, world.patient)
    client = client_for(world.therapist)
    url = reverse("plan_technique_add", args=[world.patient.pk])
    refused = client.post(url, _technique(technique="deep_tissue", pressure_level="2"))
    assert refused.status_code == 422
    assert "give your reason for the precaution" in refused.content.decode()
    data = _technique(technique="deep_tissue", pressure_level="2", acknowledged_reason="GP agreed")
    assert client.post(url, data).status_code == 302
    page = client.get(reverse("plan_detail", args=[world.patient.pk])).content.decode()
    assert "GP agreed" in page


def test_removing_and_ending(world):
    plan = make_plan(world.therapist, world.patient)
    row = plan_technique(world.therapist, plan)
    client = client_for(world.therapist)
    assert client.post(reverse("plan_technique_remove", args=[row.pk])).status_code == 302
    assert client.post(reverse("plan_end", args=[plan.pk])).status_code == 302
    plan.refresh_from_db()
    assert plan.status == "ended"
    again = client.post(reverse("plan_end", args=[plan.pk]))
    assert again.status_code == 409


def test_strangers_get_404_and_the_front_desk_reads_but_cannot_plan(world):
    plan = make_plan(world.therapist, world.patient)
    other = client_for(make_member(make_clinic("Other"), Role.THERAPIST))
    for url in (
        reverse("plan_detail", args=[world.patient.pk]),
        reverse("plan_create", args=[world.patient.pk]),
    ):
        assert other.get(url).status_code == 404
    assert other.post(reverse("plan_end", args=[plan.pk])).status_code == 404
    desk = client_for(world.desk)
    assert desk.get(reverse("plan_detail", args=[world.patient.pk])).status_code == 200
    response = desk.post(reverse("plan_technique_add", args=[world.patient.pk]), _technique())
    assert response.status_code == 404
