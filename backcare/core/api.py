"""Shapes shared by every app's JSON API router (`<app>/api.py`): the error body and the page
of a list. Decision 0019."""

from ninja import Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Beyond any real list; larger numbers overflow the database's integers (a 500, not a 422).
MAX_OFFSET = 1_000_000


class ErrorOut(Schema):
    """Every error answer: a stable `code`, a `message` that says what to fix, and
    `field_errors` naming the inputs at fault (empty when none is)."""

    code: str
    message: str
    field_errors: dict[str, str] = {}


class Page[T](Schema):
    """One page of a list: `items` from `offset`, at most `limit` of them, out of `count`."""

    items: list[T]
    count: int
    limit: int
    offset: int


# Every operation may answer these; listing them puts the error body in the schema.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}
