"""Email login, logout, password reset and MFA (TOTP and recovery codes) through allauth, as
configured for BackCare."""

import re
import time

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from django.urls import reverse

from backcare.accounts.models import Role
from tests.factories import PASSWORD, TOTP_SECRET, make_clinic, make_member, make_user

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def current_code() -> str:
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def test_a_wrong_password_is_refused_with_a_message_and_no_hint_about_the_account():
    user = make_user()
    known = sign_in(Client(), user.email, "wrong-password")
    unknown = sign_in(Client(), "nobody@example.test", "wrong-password")
    assert known.status_code == unknown.status_code == 422
    assert b"not correct" in known.content
    assert known.content.count(b"not correct") == unknown.content.count(b"not correct")


def test_email_login_is_case_insensitive_and_lands_on_the_dashboard():
    user = make_user("Mixed.Case@Example.test")
    response = sign_in(Client(), "MIXED.case@example.TEST")
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert user.email == "mixed.case@example.test"


def test_open_signup_is_closed():
    response = Client().post(
        reverse("account_signup"),
        {
            "email": "new@example.test",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert b"closed" in response.content.lower()


def test_staff_sign_in_needs_the_authenticator_code():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    client = Client()
    response = sign_in(client, desk.email)
    assert response.url == reverse("mfa_authenticate")
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in yet
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 422
    right = client.post(reverse("mfa_authenticate"), {"code": current_code()})
    assert right.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_recovery_code_signs_in_once():
    clinic = make_clinic()
    desk = make_member(clinic, Role.FRONT_DESK)
    code = RecoveryCodes.activate(desk).get_unused_codes()[0]
    client = Client()
    sign_in(client, desk.email)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).url == reverse("dashboard")
    client.post(reverse("account_logout"))
    again = Client()
    sign_in(again, desk.email)
    assert again.post(reverse("mfa_authenticate"), {"code": code}).status_code == 422


def test_sign_out_ends_the_session():
    user = make_user()
    client = Client()
    sign_in(client, user.email)
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("dashboard")).url.startswith(reverse("account_login"))


def test_password_reset_by_email_sets_a_new_password():
    user = make_user()
    client = Client()
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    [message] = mail.outbox
    found = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", str(message.body))
    assert found is not None
    link = found.group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new = "a-brand-new-pass-phrase"
    done = client.post(form_page.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    assert sign_in(Client(), user.email, new).status_code == 302
    assert sign_in(Client(), user.email, PASSWORD).status_code == 422


def test_password_reset_for_an_unknown_email_looks_the_same():
    response = Client().post(reverse("account_reset_password"), {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert response.url == reverse("account_reset_password_done")
