"""Applying a service's field changes to a model instance."""

from collections.abc import Collection, Mapping
from typing import Any

from django.db.models import Model

from backcare.core.errors import InvalidInputError


def apply_changes(
    instance: Model, values: Mapping[str, Any], allowed: Collection[str]
) -> list[str]:
    """Set `values` on `instance` and return the sorted names of the fields that changed.

    Raises `InvalidInputError` naming any field outside `allowed`, before changing anything.
    The names feed audit events (never the values, which may be clinical).
    """
    unknown = set(values) - set(allowed)
    if unknown:
        raise InvalidInputError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}."
        )
    changed = sorted(name for name, value in values.items() if getattr(instance, name) != value)
    for name, value in values.items():
        setattr(instance, name, value)
    return changed
