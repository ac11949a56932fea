"""Domain errors raised by services and queries, and the one table mapping them to HTTP status."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model


class DomainError(Exception):
    """Base of every error a service or query raises on purpose.

    `message` is shown to the user and says what to fix; `field_errors` maps form fields to
    messages when the error belongs to particular inputs.
    """

    code = "invalid"

    def __init__(self, message: str, *, field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = dict(field_errors or {})


class NotFoundError(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"


class InvalidInputError(DomainError):
    """Input that the rules reject; the message says what to change."""

    code = "invalid"


class ConflictError(DomainError):
    """The request lost to the current state (a slot taken, a record changed meanwhile)."""

    code = "conflict"


class ScopeError(DomainError):
    """An API token used for what its scopes do not allow (a read-only token that writes). Only
    the JSON API raises it: the caller already knows the object exists, so a 403 reveals
    nothing."""

    code = "insufficient_scope"


HTTP_STATUS: Mapping[type[DomainError], int] = {
    ScopeError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInputError: 422,
    DomainError: 422,
}


def http_status_for(error: DomainError) -> int:
    """Return the HTTP status for `error`, following its class hierarchy."""
    for klass in type(error).__mro__:
        if klass in HTTP_STATUS:
            return HTTP_STATUS[klass]
    return 422


def full_clean_or_invalid(instance: "Model", **kwargs: Any) -> None:
    """Run a model's `full_clean()`; turn Django's `ValidationError` into `InvalidInputError`
    with one message per field, so that services never let bad input become a 500."""
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        fields = {
            name: " ".join(str(m) for m in messages)
            for name, messages in error.message_dict.items()
        }
        general = fields.pop(NON_FIELD_ERRORS, "")
        summary = general or "Please correct the highlighted fields."
        raise InvalidInputError(summary, field_errors=fields) from error
