"""Every clinic-owned table carries `clinic_id` and its indexes are led by it (issue 10,
ARCHITECTURE.md §2 "scale-out", decision 0029), so the data can later be split by clinic across
databases or sharded (Citus distributes by one column, and every unique or exclusion constraint
must contain it).

The check reads the indexes the migrations actually built, in SQLite and in PostgreSQL, not the
models' Meta, so a hand-written migration (the exclusion constraints) is held to the same rule.
A new model fails here until it is either clinic-owned or listed in SHARED_TABLES with a reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import ForeignKey, Model

# Tables that no single clinic owns, and why. Reference data is small and copied to every shard;
# people's own rows follow the person, who may work in or attend several clinics of a group.
SHARED_TABLES = {
    "core.AuditEvent": "append-only log across clinics; clinic_id column leads its indexes",
    "core.AuditSeal": "the hash chain seals the whole log, one chain per database",
    "accounts.User": "a person may belong to several clinics of a group",
    "accounts.Clinic": "the clinic itself: the split key",
    "accounts.Technique": "reference list of massage techniques, the same for every clinic",
    "accounts.Therapist": "a therapist's profile is the person's, whatever their clinics",
    "accounts.Licence": "a licence belongs to the therapist, and lapses for every clinic at once",
    "outcomes.InstrumentText": "reference text of free questionnaires, the same for every clinic",
    "plans.HomeCareAdvice": "reference list of home-care advice, the same for every clinic",
}

# Indexes on clinic-owned tables deliberately not led by clinic_id, and why. Keep this short:
# each entry is a query that must work across clinics.
CROSS_CLINIC_INDEXES = {
    "appointment_therapist_time": "a therapist's calendar spans every clinic they work at",
    "appointment_no_therapist_overlap": "nobody is double-booked across a group's clinics",
    "timeoff_therapist_time": "a therapist's time off applies at every clinic",
    "notification_pending_due": "the sender's work list, pending rows only, across clinics",
    "webhook_delivery_pending_due": "the webhook sender's work list, pending rows only",
}


# Single-column unique keys looked up before the clinic is known, and why. Each is globally unique
# by construction, so it stays unique within any split by clinic.
GLOBAL_KEYS = {
    ("accounts_apitoken", "token_sha256"): "an API token is found by its hash, then its clinic",
    ("scheduling_calendarfeed", "token_sha256"): "a calendar link is found by its hash",
    ("scheduling_notification", "key"): "a message's idempotency key embeds its row's UUID",
    ("outcomes_checkin", "visit_ref"): "one check-in per visit, a UUID link to the visit",
}


def _our_models() -> list[type[Model]]:
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("backcare.") and not model._meta.auto_created
    ]


def _clinic_owned() -> list[type[Model]]:
    return [m for m in _our_models() if m._meta.label not in SHARED_TABLES]


def _single_column_fk_indexes(model: type[Model]) -> set[str]:
    """Columns Django indexes on its own for a foreign key or a one-to-one link: they serve joins
    from the parent row, which lives with its children in any split by clinic."""
    return {
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, ForeignKey) and field.db_index
    }


def _exclusion_constraints(cursor: Any, table: str) -> dict[str, dict[str, Any]]:
    """PostgreSQL exclusion constraints with their leading column (Django's introspection
    leaves them out)."""
    if connection.vendor != "postgresql":
        return {}
    cursor.execute(
        "SELECT c.conname, a.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'x' AND c.conrelid = %s::regclass",
        [table],
    )
    return {
        name: {"columns": [lead], "unique": True, "index": True, "primary_key": False}
        | {"foreign_key": None, "check": False}
        for name, lead in cursor.fetchall()
    }


def _indexes_not_led_by_clinic(model: type[Model]) -> list[str]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        constraints: dict[str, Any] = dict(connection.introspection.get_constraints(cursor, table))
        constraints |= _exclusion_constraints(cursor, table)
    fk_columns = _single_column_fk_indexes(model)
    offenders = []
    for name, info in constraints.items():
        columns = [c for c in info["columns"] or [] if c]
        if info["primary_key"] or info["foreign_key"] or info["check"] or not columns:
            continue
        if not (info["index"] or info["unique"]):
            continue
        if len(columns) == 1 and (columns[0] in fk_columns or (table, columns[0]) in GLOBAL_KEYS):
            continue
        if columns[0] != "clinic_id" and name not in CROSS_CLINIC_INDEXES:
            offenders.append(f"{table}.{name} on {columns}")
    return offenders


def test_every_model_is_either_clinic_owned_or_a_listed_shared_table() -> None:
    labels = {m._meta.label for m in _our_models()}
    assert not set(SHARED_TABLES) - labels, "SHARED_TABLES names a model that no longer exists"
    missing = [
        m._meta.label
        for m in _clinic_owned()
        if "clinic_id" not in {f.column for f in m._meta.concrete_fields}
    ]
    assert not missing, f"clinic-owned models without a clinic_id column: {missing}"


def test_clinic_id_is_required_on_every_clinic_owned_table() -> None:
    nullable = [
        m._meta.label
        for m in _clinic_owned()
        for f in m._meta.concrete_fields
        if f.column == "clinic_id" and f.null
    ]
    assert not nullable, f"clinic_id may be empty on: {nullable}"


@pytest.mark.django_db
def test_every_index_of_a_clinic_owned_table_is_led_by_clinic_id() -> None:
    offenders = [o for m in _clinic_owned() for o in _indexes_not_led_by_clinic(m)]
    assert not offenders, "indexes not led by clinic_id:\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_every_listed_cross_clinic_index_exists() -> None:
    """An exception that no longer matches an index is stale and would hide a new one."""
    names: set[str] = set()
    with connection.cursor() as cursor:
        for model in _clinic_owned():
            names |= set(connection.introspection.get_constraints(cursor, model._meta.db_table))
    expected = set(CROSS_CLINIC_INDEXES)
    if connection.vendor != "postgresql":
        expected.discard("appointment_no_therapist_overlap")  # PostgreSQL-only constraint
    assert expected <= names, f"stale exceptions: {sorted(expected - names)}"


@pytest.mark.django_db
def test_the_check_catches_an_index_not_led_by_clinic_id() -> None:
    """The rule itself can fail: a clinic-owned table with a patient-led index is reported."""
    model = apps.get_model("scheduling", "Course")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX probe_patient_first ON {model._meta.db_table} (patient_id, clinic_id)"
        )
    offenders = _indexes_not_led_by_clinic(model)
    assert any("probe_patient_first" in o for o in offenders)
