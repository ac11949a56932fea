"""Questionnaires due: listed with their reason for the patient and staff; answered online by
the patient or entered from paper by staff; strangers get 404."""

import pytest
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.outcomes.models import OutcomeMeasurement
from conftest import client_for
from tests.factories import make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    clinic = make_clinic("Home")
    user = make_user()
    return {
        "clinic": clinic,
        "user": user,
        "patient": make_patient(clinic, user=user),
        "desk": make_member(clinic, Role.FRONT_DESK),
    }


def test_a_new_patient_has_the_baseline_due_and_answers_stress_online(world):
    client = client_for(world["user"])
    page = client.get(reverse("portal_questionnaires")).content.decode()
    assert "Stress" in page
    assert "Not answered yet: your starting point." in page
    assert "your therapist asks these at your next visit" in page  # RMDQ: licensed wording
    url = reverse("portal_questionnaire", args=["stress_nrs"])
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 422
    response = client.post(url, {"stress": "6"})
    assert response.status_code == 302
    measurement = OutcomeMeasurement.objects.get()
    assert (measurement.instrument, measurement.score_exact, measurement.method) == (
        "stress_nrs",
        "6",
        "portal",
    )
    page = client.get(reverse("portal_questionnaires")).content.decode()
    assert ">Stress</a>" not in page


def test_staff_enter_paper_answers_and_psfs_re_rates_the_same_activities(world):
    client = client_for(world["desk"])
    url = reverse("patient_questionnaire", args=[world["patient"].pk, "psfs"])
    response = client.post(url, {"activity_1": "Gardening", "rating_1": "3"})
    assert response.status_code == 302
    again = client.get(url).content.decode()
    assert "How well can you do this now: Gardening?" in again
    client.post(url, {"rating_1": "6"})
    rows = OutcomeMeasurement.objects.filter(instrument="psfs").order_by("created_at")
    assert [r.answers for r in rows] == [
        {"activities": ["Gardening"], "ratings": [3]},
        {"activities": ["Gardening"], "ratings": [6]},
    ]
    assert {r.method for r in rows} == {"paper"}
    page = client.get(reverse("patient_questionnaires", args=[world["patient"].pk]))
    assert page.status_code == 200


def test_unknown_questionnaires_and_strangers_get_404(world):
    mine = client_for(world["user"])
    assert mine.get(reverse("portal_questionnaire", args=["rmdq"])).status_code == 404
    outsider = client_for(make_member(make_clinic("Other"), Role.FRONT_DESK))
    url = reverse("patient_questionnaire", args=[world["patient"].pk, "stress_nrs"])
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"stress": "5"}).status_code == 404
    assert (
        outsider.get(reverse("patient_questionnaires", args=[world["patient"].pk])).status_code
        == 404
    )
    assert not OutcomeMeasurement.objects.exists()
