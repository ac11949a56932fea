"""The JSON API v1 (django-ninja) at /api/v1/: one `NinjaAPI` mounting each app's `api.py`
router, token or session authentication, and one error body for every refusal.

Every error answers `{"code", "message", "field_errors"}` (`core.api.ErrorOut`); a taken slot
adds `next_free`. Decision 0019.
"""

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.csp import CSP
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csp import csp_override
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.throttling import AuthRateThrottle

from backcare.accounts import api as accounts_api
from backcare.accounts.api_auth import SessionAuth, TokenAuth
from backcare.core.errors import DomainError, http_status_for
from backcare.core.middleware import client_ip
from backcare.outcomes import api as outcomes_api
from backcare.patients import api as patients_api
from backcare.scheduling import api as scheduling_api
from backcare.scheduling.services import SlotTakenError

# Swagger UI is served from django-ninja's own static files ("ninja" in INSTALLED_APPS), never a
# CDN. It sets inline style attributes, so its page alone allows inline styles; scripts stay
# 'self' only (its settings travel as JSON, not as an inline script).
_DOCS_CSP: dict[str, Any] = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
}

NUL = "\x00"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NoNulParser(Parser):
    """Refuses NUL characters in query strings (422 naming the parameter) and JSON bodies
    (400): PostgreSQL stores none in text or jsonb, and bad input must never become a 500."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if _has_nul(data):
            raise ValueError("NUL characters are not accepted")
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        bad = [key for key, value in parsed.items() if _has_nul(key) or _has_nul(value)]
        if bad:
            raise ValidationError(
                [{"loc": ("query", key), "msg": "Must not contain NUL characters."} for key in bad]
            )
        return parsed


class CallerRateThrottle(AuthRateThrottle):
    """One budget of calls per caller (`ApiCaller.__str__`: person and clinic); more answer 429.
    A caller without credentials counts by `client_ip`, which trusts X-Forwarded-For only with
    BEHIND_PROXY (ninja's default would take any forwarded address the client sends)."""

    def get_ident(self, request: HttpRequest) -> str:
        return client_ip(request) or "unknown"


RATE_LIMIT = CallerRateThrottle(settings.BACKCARE_API_RATE)

api = NinjaAPI(
    title="BackCare API",
    version="1",
    description=(
        "Send a personal access token as `Authorization: Bearer <token>` (make one on the "
        "API tokens page). Lists take `limit` (1-200, default 50) and `offset`. Every error "
        "answers {code, message, field_errors}."
    ),
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    throttle=[RATE_LIMIT],
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_decorator=csp_override(_DOCS_CSP),
    parser=NoNulParser(),
)

api.add_router("", accounts_api.router)
api.add_router("", patients_api.router)
api.add_router("", outcomes_api.router)
api.add_router("", scheduling_api.router)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "too_many_requests",
}


def error_response(
    request: HttpRequest,
    status: int,
    message: str,
    *,
    code: str | None = None,
    field_errors: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body = {
        "code": code or _CODES.get(status, "error"),
        "message": message,
        "field_errors": field_errors or {},
        **extra,
    }
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra: dict[str, Any] = {}
    if isinstance(exc, SlotTakenError):
        extra["next_free"] = [when.isoformat() for when in exc.alternatives]
    return error_response(
        request,
        http_status_for(exc),
        exc.message,
        code=exc.code,
        field_errors=exc.field_errors,
        **extra,
    )


def _field(location: Any) -> str:
    """`("body", "payload", "starts_at")` -> "starts_at"; `("query", "limit")` -> "limit"."""
    parts = [str(p) for p in location if p not in ("body", "query", "path", "payload")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for error in exc.errors:
        name = _field(error.get("loc", ()))
        fields[name] = " ".join(filter(None, [fields.get(name), str(error.get("msg", ""))]))
    return error_response(
        request, 422, "Please correct the highlighted fields.", field_errors=fields
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else "Send a valid token."
    response = error_response(request, 401, message)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, str(exc.message))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "We could not find that.")
