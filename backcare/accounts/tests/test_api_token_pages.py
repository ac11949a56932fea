"""The API tokens page: a token is made for the current clinic and shown once, listed without
its value, and revoked by its owner only."""

import pytest
from django.test import Client
from django.urls import reverse

from backcare.accounts.models import ApiToken, Role
from backcare.core.models import AuditEvent
from tests.factories import make_clinic, make_member

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_token_is_made_shown_once_and_then_listed_without_its_value():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    client = signed_in(desk)
    made = client.post(
        reverse("api_tokens"),
        {
            "name": "Reports",
            "access": "write",
            "groups": ["patients", "scheduling"],
            "expires_in_days": "30",
        },
    )
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    token = made.context["token"]
    assert token in made.content.decode()
    row = ApiToken.objects.get()
    assert (row.clinic, row.user, row.scopes) == (clinic, desk, ["read", "write"])
    assert row.groups == ["patients", "scheduling"]
    later = client.get(reverse("api_tokens"))
    assert "Reports" in later.content.decode()
    assert token not in later.content.decode()
    api = Client().get(reverse("api-v1:service_list"), headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_a_bad_token_form_is_shown_again_with_a_422():
    clinic = make_clinic()
    client = signed_in(make_member(clinic, Role.FRONT_DESK))
    response = client.post(reverse("api_tokens"), {"name": "", "access": "root"})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_only_the_owner_revokes_a_token():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    signed_in(desk).post(
        reverse("api_tokens"), {"name": "x", "access": "read", "groups": ["patients"]}
    )
    row = ApiToken.objects.get()
    other = signed_in(make_member(clinic, Role.CLINIC_ADMIN))
    assert other.post(reverse("api_token_revoke", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    response = signed_in(desk).post(reverse("api_token_revoke", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", outcome="allowed").exists()


def test_a_token_form_without_any_group_is_refused_naming_the_field():
    clinic = make_clinic()
    client = signed_in(make_member(clinic, Role.FRONT_DESK))
    response = client.post(reverse("api_tokens"), {"name": "x", "access": "read"})
    assert response.status_code == 422
    assert "groups" in response.context["form"].errors
    assert not ApiToken.objects.exists()
