"""Keyset pages: read a large table a page at a time, so memory stays flat (exports)."""

import uuid

from django.db.models import Model, QuerySet


def page_after[M: Model](rows: QuerySet[M], after: uuid.UUID | None, limit: int) -> list[M]:
    """Up to `limit` of `rows` whose id follows `after`, by id."""
    rows = rows.order_by("pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    return list(rows[:limit])
