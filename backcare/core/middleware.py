"""Request-wide middleware of the shared kernel."""

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from backcare.core.audit import bound_ip_address
from backcare.core.errors import DomainError, http_status_for


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the last X-Forwarded-For hop (the one our proxy appended) when
    BEHIND_PROXY is set, else the socket's. A malformed value is never stored: it falls back
    to the socket's address."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return _valid_ip(forwarded.split(",")[-1]) or remote
    return remote


class RequestContextMiddleware:
    """Binds the client IP address for audit events recorded while handling the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with bound_ip_address(client_ip(request)):
            return self.get_response(request)


class DomainErrorMiddleware:
    """Turns a `DomainError` escaping a view into its page with the mapped status code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        status = http_status_for(exception)
        template = "404.html" if status == 404 else "error.html"
        response = TemplateResponse(
            request, template, {"message": exception.message, "status": status}, status=status
        )
        return response.render()


# allauth's failed-login limit counts over 5 minutes (ACCOUNT_RATE_LIMITS "login_failed").
THROTTLED_RETRY_AFTER_SECONDS = 300


class InvalidFormStatusMiddleware:
    """Gives a re-shown, invalid form the status 422 instead of 200, and 429 with Retry-After
    when allauth refused it for too many failed attempts (the same for a known and an unknown
    account).

    Our own views set the status themselves; this covers class-based views that return a
    TemplateResponse with a bound `form` in their context (allauth's login, password and MFA
    pages), so that bad input is a 4xx everywhere.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_template_response(
        self, request: HttpRequest, response: TemplateResponse
    ) -> TemplateResponse:
        form = (response.context_data or {}).get("form")
        bound_with_errors = getattr(form, "is_bound", False) and bool(getattr(form, "errors", None))
        if request.method == "POST" and response.status_code == 200 and bound_with_errors:
            response.status_code = 422
            if form is not None and form.has_error(
                NON_FIELD_ERRORS, code="too_many_login_attempts"
            ):
                response.status_code = 429
                response["Retry-After"] = str(THROTTLED_RETRY_AFTER_SECONDS)
        return response
