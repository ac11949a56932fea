"""Background work of the accounts app (django.tasks; immediate until a worker backend is set)."""

import uuid

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse

from backcare.accounts.models import Clinic, Role, User


def set_password_link(user: User, site_url: str) -> str:
    """A one-time link to allauth's set-password page (its password-reset key for `user`)."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return site_url.rstrip("/") + path.replace("UID-KEY", key)


@task
def send_invitation(user_id: str, clinic_id: str, role: str, site_url: str) -> None:
    """Email a person added to a clinic a link to set their password. Carries no clinical data."""
    user = User.objects.get(pk=uuid.UUID(user_id))
    clinic = Clinic.objects.get(pk=uuid.UUID(clinic_id))
    context = {
        "user": user,
        "clinic": clinic,
        "role": Role(role).label,
        "link": set_password_link(user, site_url),
    }
    send_mail(
        subject=f"[BackCare] You have been added to {clinic.name}",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
