import pytest
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.models import AuditEvent
from backcare.outcomes.models import OutcomeSettings
from backcare.triage.models import ClinicRuleSettings
from conftest import client_for
from tests.factories import make_clinic, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic_admin():
    clinic = make_clinic()
    return clinic, make_member(clinic, Role.CLINIC_ADMIN)


def test_the_page_shows_every_default_with_its_source(clinic_admin):
    _, admin = clinic_admin
    page = client_for(admin).get(reverse("clinical_settings")).content.decode()
    assert "Default: 50. Source: AHCPR 1994" in page
    assert "Default: 3. Source: NCCIH (weakened bones)" in page
    assert "Default: 30. Source: Ostelo 2008" in page


@pytest.mark.parametrize(
    "name", ["clinical_settings", "rule_settings_save", "outcome_settings_save"]
)
@pytest.mark.parametrize("actor", ["therapist", "colleague", "stranger"])
def test_only_the_clinics_admins_reach_the_settings_and_others_are_audited(
    clinic_admin, name, actor
):
    clinic, _ = clinic_admin
    users = {
        "therapist": lambda: make_member(clinic, Role.THERAPIST),
        "colleague": lambda: make_member(make_clinic(), Role.FRONT_DESK),
        "stranger": make_user,
    }
    client = client_for(users[actor]())
    response = (
        client.get(reverse(name)) if name == "clinical_settings" else client.post(reverse(name), {})
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(outcome="denied").count() == 1
    assert not ClinicRuleSettings.objects.exists()


def test_saving_rule_settings_keeps_only_changes(clinic_admin):
    clinic, admin = clinic_admin
    data = {"triage__soft_flag_age": "55", "ci__osteoporosis_max_pressure": "3"}
    response = client_for(admin).post(reverse("rule_settings_save"), data)
    assert response.url == reverse("clinical_settings")
    stored = ClinicRuleSettings.objects.get(clinic=clinic)
    assert (stored.triage, stored.contraindications) == ({"soft_flag_age": 55}, {})


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("rule_settings_save", {"ci__osteoporosis_max_pressure": "9"}, "less than or equal to 5"),
        ("rule_settings_save", {"triage__soft_flag_age": "old"}, "Enter a whole number"),
        ("outcome_settings_save", {"odi_max_missing": "5"}, "Select a valid choice"),
        (
            "outcome_settings_save",
            {"odi_max_missing": "1", "pain_nrs__pct": "0"},
            "greater than or equal to 1",
        ),
        (
            "outcome_settings_save",
            {"odi_max_missing": "1", "odi__abs_points": "lots"},
            "Enter a number",
        ),
    ],
)
def test_bad_settings_are_refused_and_the_saved_ones_kept(clinic_admin, name, data, message):
    clinic, admin = clinic_admin
    client = client_for(admin)
    client.post(reverse("rule_settings_save"), {"triage__soft_flag_age": "55"})
    client.post(reverse("outcome_settings_save"), {"odi_max_missing": "2"})
    response = client.post(reverse(name), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert ClinicRuleSettings.objects.get(clinic=clinic).triage == {"soft_flag_age": 55}
    assert OutcomeSettings.objects.get(clinic=clinic).odi_max_missing == 2
