"""The Django admin configures services, hours, time off and settings, never appointments."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib import admin
from django.urls import reverse

from backcare.scheduling.models import (
    Appointment,
    SchedulingSettings,
    Service,
    TimeOff,
    WorkingHours,
)
from conftest import client_for
from tests.factories import TOTP_SECRET, make_user


def test_configuration_is_in_the_admin_and_appointments_are_not():
    for model in (Service, WorkingHours, TimeOff, SchedulingSettings):
        assert admin.site.is_registered(model)
    assert not admin.site.is_registered(Appointment)


@pytest.mark.parametrize("model", ["service", "workinghours", "timeoff", "schedulingsettings"])
def test_a_superuser_with_mfa_opens_each_list(db, model):
    superuser = make_user(is_staff=True, is_superuser=True)
    TOTP.activate(superuser, TOTP_SECRET)
    response = client_for(superuser).get(reverse(f"admin:scheduling_{model}_changelist"))
    assert response.status_code == 200
