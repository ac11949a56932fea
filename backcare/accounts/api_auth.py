"""Who is calling the JSON API: a personal access token (`Authorization: Bearer ...`) acting in
the token's clinic with its scopes, or the site's own pages through the session cookie (with
Django's CSRF check for unsafe methods), acting in the clinic chosen on the site, with every
scope. Decision 0019."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from backcare.accounts.context import clinic_context
from backcare.accounts.models import ApiScope, Clinic, User
from backcare.accounts.services import authenticate_api_token
from backcare.core.audit import Outcome, record_event
from backcare.core.errors import NotFoundError, ScopeError

ALL_SCOPES = frozenset(ApiScope.values)


@dataclass(frozen=True)
class ApiCaller:
    """The person behind an API call, the clinic they act in, and what they may do."""

    user: User
    clinic: Clinic | None
    scopes: frozenset[str]
    by_token: bool

    def __str__(self) -> str:
        # The rate limit's key: one budget per person and clinic.
        return f"{self.user.pk}:{self.clinic.pk if self.clinic else ''}"


class TokenAuth(HttpBearer):
    """A personal access token. A bearer token that is unknown, revoked or expired is a 401 at
    once (the session is not tried: a script sent it, not the site)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller:
        try:
            row = authenticate_api_token(token)
        except NotFoundError as error:
            raise AuthenticationError(401, error.message) from error
        request.user = row.user
        return ApiCaller(
            user=row.user, clinic=row.clinic, scopes=frozenset(row.scopes), by_token=True
        )


class SessionAuth(APIKeyCookie):
    """The signed-in person of the site (session cookie). Unsafe methods need Django's CSRF
    token, as forms do; anonymous callers get a 401 before any CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return "session"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiCaller | None:
        if key is None or not isinstance(request.user, User):
            return None
        clinic = clinic_context(request).clinic
        return ApiCaller(user=request.user, clinic=clinic, scopes=ALL_SCOPES, by_token=False)


def caller(request: HttpRequest) -> ApiCaller:
    """The authenticated caller of an API operation (set by `TokenAuth` or `SessionAuth`)."""
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiCaller):
        raise AuthenticationError(401, "Sign in or send a token.")
    return auth


def require_scope(request: HttpRequest, scope: ApiScope) -> ApiCaller:
    """The caller, if their token has `scope`; else `ScopeError` (403)."""
    who = caller(request)
    if scope not in who.scopes:
        record_event(
            actor=who.user,
            action="api.scope",
            clinic_id=who.clinic.pk if who.clinic else None,
            outcome=Outcome.DENIED,
            detail={"needs": str(scope), "method": request.method or ""},
        )
        raise ScopeError(f"This token may not {scope.label.lower()}: it needs the {scope} scope.")
    return who
