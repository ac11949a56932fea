"""Per-request account behaviour: session limits, the clinic's time zone, and MFA enrolment for
staff."""

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.context import clinic_context
from backcare.accounts.queries import has_staff_role

# Pages a staff member without MFA may still reach: sign-in and sign-out, password pages and the
# MFA pages themselves (allauth names them account_* and mfa_*), and the health check.
_OPEN_URL_PREFIXES = ("account_", "mfa_")
_OPEN_URL_NAMES = frozenset({"healthz"})


class ClinicTimeZoneMiddleware:
    """Shows times in the current clinic's time zone (they are stored in UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clinic = clinic_context(request).clinic if request.user.is_authenticated else None
        if clinic is None:
            return self.get_response(request)
        with timezone.override(clinic.zone):
            return self.get_response(request)


SESSION_STARTED = "_backcare_started"
SESSION_SEEN = "_backcare_seen"
SEEN_EVERY_SECONDS = 30  # write the session at most this often just to note activity


class SessionLimitsMiddleware:
    """Ends a session that is over, before the view runs: a staff member's after
    `BACKCARE_STAFF_IDLE_MINUTES` without a request or `BACKCARE_STAFF_SESSION_HOURS` after
    signing in, and anyone's that began before they signed out elsewhere (signing out ends
    every session of the user). Then sends them to sign in again, saying why."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            why = self._over(request, timezone.now().timestamp())
            if why:
                logout(request)
                messages.info(request, why)
                login = reverse("account_login")
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = login
                    return response
                return redirect(f"{login}?next={request.get_full_path()}")
        return self.get_response(request)

    def _over(self, request: HttpRequest, now: float) -> str:
        session, user = request.session, request.user
        started = session.setdefault(SESSION_STARTED, now)
        seen = session.get(SESSION_SEEN, started)
        revoked = getattr(user, "sessions_revoked_at", None)
        if revoked is not None and started < revoked.timestamp():
            return "You signed out on another device or browser; please sign in again."
        if user.is_staff or has_staff_role(user):
            if now - seen > settings.BACKCARE_STAFF_IDLE_MINUTES * 60:
                return (
                    f"You were signed out after {settings.BACKCARE_STAFF_IDLE_MINUTES} minutes "
                    "without activity."
                )
            if now - started > settings.BACKCARE_STAFF_SESSION_HOURS * 3600:
                return (
                    f"You were signed out {settings.BACKCARE_STAFF_SESSION_HOURS} hours after "
                    "signing in."
                )
        if now - seen >= SEEN_EVERY_SECONDS:
            session[SESSION_SEEN] = now
        return ""


class StaffMFAMiddleware:
    """Sends a signed-in staff member without TOTP to enrol before anything else.

    Staff are every role but patient (they see other people's health data), and anyone who may
    use the Django admin. The demo may relax this with BACKCARE_REQUIRE_STAFF_MFA=0, which
    settings allow only with DEBUG on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not settings.BACKCARE_REQUIRE_STAFF_MFA or not request.user.is_authenticated:
            return None
        match = request.resolver_match
        name = match.url_name if match else None
        if name and (name.startswith(_OPEN_URL_PREFIXES) or name in _OPEN_URL_NAMES):
            return None
        user = request.user
        needs_mfa = user.is_staff or user.is_superuser or has_staff_role(user)
        if needs_mfa and not is_mfa_enabled(request.user, [Authenticator.Type.TOTP]):
            return redirect("mfa_activate_totp")
        return None
