from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from backcare.accounts.models import Clinic, Role, time_zone_names
from backcare.core.audit import record_event
from conftest import client_for
from tests.factories import make_clinic, make_member, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("time_zone", "moment", "shown"),
    [
        # Daylight saving: the same UTC hour is shown an hour apart in winter and summer.
        ("America/Toronto", datetime(2026, 1, 15, 16, 5, 9, tzinfo=UTC), "15 Jan 2026 11:05:09"),
        ("America/Toronto", datetime(2026, 7, 1, 16, 5, 9, tzinfo=UTC), "1 Jul 2026 12:05:09"),
        ("Europe/London", datetime(2026, 1, 15, 16, 5, 9, tzinfo=UTC), "15 Jan 2026 16:05:09"),
        ("Europe/London", datetime(2026, 7, 1, 16, 5, 9, tzinfo=UTC), "1 Jul 2026 17:05:09"),
        # Far from UTC, across midnight: the clinic's date, not the server's.
        ("Pacific/Auckland", datetime(2026, 7, 1, 16, 5, 9, tzinfo=UTC), "2 Jul 2026 04:05:09"),
    ],
)
def test_times_are_stored_in_utc_and_shown_in_the_clinics_time_zone(time_zone, moment, shown):
    clinic = make_clinic(time_zone=time_zone)
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    with time_machine.travel(moment, tick=False):
        event = record_event(actor=admin, action="clinic.check", clinic_id=clinic.pk)
    assert event.occurred_at == moment
    page = client_for(admin).get(reverse("audit_log")).content.decode()
    assert shown in page


def test_django_admin_users_must_enrol_mfa_even_without_a_clinic_role():
    superuser = make_user(is_staff=True, is_superuser=True)
    response = client_for(superuser).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_a_clinic_with_an_unknown_time_zone_still_works_in_utc():
    clinic = make_clinic()
    Clinic.objects.filter(pk=clinic.pk).update(time_zone="Gone/Zone")
    admin = make_member(clinic, Role.CLINIC_ADMIN)
    client = client_for(admin)
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("clinic_settings")).status_code == 200


def test_time_zones_offered_are_places_only():
    assert {"localtime", "posixrules", "Factory"}.isdisjoint(time_zone_names())
    assert {"Europe/London", "America/Toronto", "Pacific/Auckland"} <= set(time_zone_names())
