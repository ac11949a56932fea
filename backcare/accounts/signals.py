"""Session bookkeeping on sign-in and sign-out (connected in `AccountsConfig.ready`)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from backcare.accounts.middleware import SESSION_SEEN, SESSION_STARTED
from backcare.accounts.models import User


@receiver(user_logged_in)
def _note_session_start(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now


@receiver(user_logged_out)
def _end_every_session(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """Signing out ends the user's sessions on every device, not only this one."""
    if isinstance(user, User):
        User.objects.filter(pk=user.pk).update(sessions_revoked_at=timezone.now())
