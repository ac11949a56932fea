from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from backcare.accounts.models import Role
from backcare.core.audit import record_event
from conftest import client_for
from tests.factories import make_clinic, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("time_zone", "shown"),
    [
        ("America/Toronto", "1 Jul 2026 12:05:09"),  # EDT, UTC-4
        ("Europe/London", "1 Jul 2026 17:05:09"),  # BST, UTC+1
    ],
)
def test_times_are_stored_in_utc_and_shown_in_the_clinics_time_zone(time_zone, shown):
    clinic = make_clinic(time_zone=time_zone)
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    with time_machine.travel(datetime(2026, 7, 1, 16, 5, 9, tzinfo=UTC), tick=False):
        event = record_event(actor=admin, action="clinic.check", clinic_id=clinic.pk)
    assert event.occurred_at == datetime(2026, 7, 1, 16, 5, 9, tzinfo=UTC)
    page = client_for(admin).get(reverse("audit_log")).content.decode()
    assert shown in page


def test_django_admin_users_must_enrol_mfa_even_without_a_clinic_role():
    superuser = make_user(is_staff=True, is_superuser=True)
    response = client_for(superuser).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
