"""Sessions (issue 9): staff are signed out after 15 idle minutes and 12 hours at most; the
session key changes at sign-in and after the authenticator code; signing out, disabling a user
and changing the password end their sessions everywhere; failed sign-ins are throttled without
saying whether the account exists; the cookies are HttpOnly and SameSite (Secure under HTTPS)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.models import Role, User
from backcare.accounts.tests.test_auth import current_code, sign_in
from tests.factories import PASSWORD, make_clinic, make_member, make_patient, make_user

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("dashboard")


def _signed_in_staff() -> tuple[Client, User]:
    desk = make_member(make_clinic(), Role.FRONT_DESK)
    client = Client()
    sign_in(client, desk.email)
    client.post(reverse("mfa_authenticate"), {"code": current_code()})
    assert client.get(DASHBOARD).status_code == 200
    return client, desk


def _is_signed_in(client: Client) -> bool:
    return client.get(DASHBOARD).status_code == 200


@pytest.mark.parametrize(
    ("idle_minutes", "signed_in"), [(14, True), (16, False)], ids=["14-min", "16-min"]
)
def test_staff_are_signed_out_after_fifteen_idle_minutes(idle_minutes, signed_in):
    client, _ = _signed_in_staff()
    with time_machine.travel(timezone.now() + timedelta(minutes=idle_minutes)):
        response = client.get(DASHBOARD)
        assert (response.status_code == 200) is signed_in
        if not signed_in:
            assert response.url.startswith(reverse("account_login"))
            page = client.get(response.url).content.decode()
            assert "signed out after 15 minutes without activity" in page


def test_staff_sessions_end_twelve_hours_after_sign_in_however_active():
    client, _ = _signed_in_staff()
    start = timezone.now()
    for minutes in range(10, 12 * 60, 10):  # a request every 10 minutes
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert _is_signed_in(client), minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        assert not _is_signed_in(client)


def test_htmx_requests_of_an_ended_session_are_sent_to_sign_in():
    client, _ = _signed_in_staff()
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        response = client.get(DASHBOARD, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response["HX-Redirect"] == reverse("account_login")


def test_patients_are_not_held_to_the_staff_idle_limit():
    user = make_user()
    make_patient(make_clinic(), user=user)
    client = Client()
    sign_in(client, user.email)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert _is_signed_in(client)


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_session_key_changes_at_sign_in_and_after_the_authenticator_code():
    user = make_user()
    client = Client()
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    sign_in(client, user.email)
    assert _session_key(client) != before
    desk = make_member(make_clinic(), Role.FRONT_DESK)
    staff = Client()
    sign_in(staff, desk.email)
    waiting_for_code = _session_key(staff)
    staff.post(reverse("mfa_authenticate"), {"code": current_code()})
    assert _session_key(staff) != waiting_for_code


def test_signing_out_ends_every_session_of_the_user():
    user = make_user()
    phone, laptop = Client(), Client()
    sign_in(phone, user.email)
    sign_in(laptop, user.email)
    assert _is_signed_in(phone)
    assert _is_signed_in(laptop)
    laptop.post(reverse("account_logout"))
    response = phone.get(DASHBOARD)
    assert response.url.startswith(reverse("account_login"))
    assert "signed out on another device" in phone.get(response.url).content.decode()
    again = Client()
    sign_in(again, user.email)  # signing in afresh works
    assert _is_signed_in(again)


def test_disabling_a_user_ends_their_sessions():
    user = make_user()
    client = Client()
    sign_in(client, user.email)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not _is_signed_in(client)


def test_a_password_change_ends_the_other_sessions():
    user = make_user()
    other, here = Client(), Client()
    sign_in(other, user.email)
    sign_in(here, user.email)
    changed = here.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "a-new-long-phrase",
            "password2": "a-new-long-phrase",
        },
    )
    assert changed.status_code == 302
    assert _is_signed_in(here)
    assert not _is_signed_in(other)


@pytest.fixture
def fresh_limits():
    cache.clear()
    yield
    cache.clear()  # the counts live in the cache: leave none to other tests


def test_repeated_failed_sign_ins_are_throttled_without_a_hint_about_the_account(fresh_limits):
    # allauth: 5 failures per account in 5 minutes (the same for an unknown address); each
    # address here comes from its own IP, below the 10-a-minute limit per IP.
    user = make_user()
    for ip, email in (("10.0.0.2", user.email), ("10.0.0.3", "nobody@example.test")):
        statuses = [sign_in(Client(REMOTE_ADDR=ip), email, "wrong").status_code for _ in range(6)]
        assert statuses == [422] * 5 + [429], email
    throttled = sign_in(Client(REMOTE_ADDR="10.0.0.4"), user.email)  # the right password waits
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "300"
    assert b"Too many failed login attempts" in throttled.content


def test_session_cookies_are_http_only_and_same_site():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    client = Client()
    sign_in(client, make_user().email)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
