"""Personal access tokens: made by someone with a role at the clinic, shown once and stored
hashed, revoked only by their owner, refused when revoked, expired or the account is closed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backcare.accounts import queries, services
from backcare.accounts.models import ApiToken, Role
from backcare.core.errors import InvalidInputError, NotFoundError
from backcare.core.models import AuditEvent
from tests.factories import make_clinic, make_member, make_user

pytestmark = pytest.mark.django_db


def test_a_token_is_returned_once_and_only_its_sha256_is_stored():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    row, token = services.create_api_token(
        actor=desk, clinic=clinic, name=" Reports ", scopes=["write"], expires_in_days=30
    )
    assert len(token) >= 43
    assert row.token_sha256 == services.api_token_sha256(token)
    assert token not in repr(ApiToken.objects.values().get())
    assert (row.name, row.scopes) == ("Reports", ["read", "write"])  # write implies read
    assert row.expires_at is not None
    assert AuditEvent.objects.filter(action="api_token.create", clinic_id=clinic.pk).exists()
    assert queries.list_api_tokens(desk) == [row]


def test_no_token_without_a_role_at_the_clinic():
    clinic = make_clinic()
    with pytest.raises(NotFoundError):
        services.create_api_token(actor=make_user(), clinic=clinic, name="x", scopes=["read"])
    assert AuditEvent.objects.filter(action="api_token.create", outcome="denied").exists()


@pytest.mark.parametrize(
    ("name", "scopes", "days", "field"),
    [
        ("", ["read"], None, "name"),
        ("x", ["admin"], None, "scopes"),
        ("x", [], None, "scopes"),
        ("x", ["read"], 0, "expires_in_days"),
    ],
)
def test_bad_token_settings_name_the_field(name, scopes, days, field):
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    with pytest.raises(InvalidInputError) as refused:
        services.create_api_token(
            actor=desk, clinic=clinic, name=name, scopes=scopes, expires_in_days=days
        )
    assert field in refused.value.field_errors


def test_only_the_owner_revokes_and_a_revoked_token_authenticates_nobody():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    row, token = services.create_api_token(actor=desk, clinic=clinic, name="x", scopes=["read"])
    with pytest.raises(NotFoundError):
        services.revoke_api_token(actor=make_member(clinic, Role.CLINIC_ADMIN), token_id=row.pk)
    assert services.authenticate_api_token(token).pk == row.pk
    services.revoke_api_token(actor=desk, token_id=row.pk)
    with pytest.raises(NotFoundError):
        services.authenticate_api_token(token)
    assert queries.list_api_tokens(desk) == []


def test_a_token_expires_and_a_closed_account_ends_its_tokens():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    _, token = services.create_api_token(
        actor=desk, clinic=clinic, name="x", scopes=["read"], expires_in_days=1
    )
    later = timezone.now() + timedelta(days=1, seconds=1)
    with pytest.raises(NotFoundError):
        services.authenticate_api_token(token, now=later)
    desk.is_active = False
    desk.save()
    with pytest.raises(NotFoundError):
        services.authenticate_api_token(token)


def test_last_used_is_written_at_most_once_a_minute():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    row, token = services.create_api_token(actor=desk, clinic=clinic, name="x", scopes=["read"])
    now = timezone.now()
    assert services.authenticate_api_token(token, now=now).last_used_at == now
    assert (
        services.authenticate_api_token(token, now=now + timedelta(seconds=30)).last_used_at == now
    )
    later = now + timedelta(minutes=1)
    assert services.authenticate_api_token(token, now=later).last_used_at == later
    row.refresh_from_db()
    assert row.last_used_at == later
