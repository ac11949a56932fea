"""Per-request clinic behaviour: the clinic's time zone, and MFA enrolment for staff."""

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
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
