"""Background work of the accounts app (django.tasks; immediate until a worker backend is set)."""

import uuid

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse

from backcare.accounts.models import Membership, Role, User


def set_password_link(user: User, site_url: str) -> str:
    """A one-time link to allauth's set-password page (its password-reset key for `user`)."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return site_url.rstrip("/") + path.replace("UID-KEY", key)


@task
def send_invitation(membership_id: str, site_url: str) -> None:
    """Email a person offered a role: a set-password link when they have no password yet, and
    a request to accept on their home page when the role still needs accepting. No clinical
    data is included."""
    membership = Membership.objects.select_related("user", "clinic").get(
        pk=uuid.UUID(membership_id)
    )
    user = membership.user
    context = {
        "user": user,
        "clinic": membership.clinic,
        "role": Role(membership.role).label,
        "set_password_link": ""
        if user.has_usable_password()
        else set_password_link(user, site_url),
        "needs_acceptance": membership.accepted_at is None,
        "site_url": site_url,
    }
    send_mail(
        subject=f"[BackCare] Invitation from {membership.clinic.name}",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
