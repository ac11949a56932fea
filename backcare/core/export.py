"""Whole-clinic export (no lock-in): one table of a clinic as CSV-ready rows, read in chunks.

Each app's `queries.export_tables` hands its own clinic-scoped querysets to `table_of`; the
reports app writes them into one zip. Columns that let someone act as the clinic (secrets, token
hashes) or hold file bytes stay out: files are listed by name only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import QuerySet

from backcare.core.models import WebhookDelivery, WebhookEndpoint

# Never exported: a webhook's signing secret and the hashes that find API tokens and calendar
# links would let the holder act as the clinic or read its calendars.
WITHHELD_COLUMNS = frozenset({"secret", "token_sha256", "password"})


@dataclass(frozen=True)
class ExportTable:
    """One clinic-owned table: its name (`app_model`, the CSV's file name), the columns written,
    and the clinic's rows, oldest key first."""

    name: str
    columns: tuple[str, ...]
    queryset: QuerySet[Any]

    def count(self) -> int:
        return self.queryset.count()

    def rows(self, *, chunk_size: int) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples of `columns`, fetched `chunk_size` at a time (memory stays flat)."""
        ordered = self.queryset.order_by("pk").values_list(*self.columns)
        return ordered.iterator(chunk_size=chunk_size)


def table_of(queryset: QuerySet[Any]) -> ExportTable:
    """The export of `queryset` (already scoped to one clinic by its app)."""
    meta = queryset.model._meta
    columns = tuple(
        field.attname
        for field in meta.concrete_fields
        if field.attname not in WITHHELD_COLUMNS and not isinstance(field, models.BinaryField)
    )
    return ExportTable(name=meta.db_table, columns=columns, queryset=queryset)


def export_tables(clinic_id: UUID) -> list[ExportTable]:
    """The clinic's webhook endpoints and deliveries. The caller has checked that the actor is
    an admin of the clinic (core knows no roles)."""
    return [
        table_of(WebhookEndpoint.objects.filter(clinic_id=clinic_id)),
        table_of(WebhookDelivery.objects.filter(clinic_id=clinic_id)),
    ]
