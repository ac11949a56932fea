"""Demo data: each app contributes a `demo.py` with `build(state)`, run in app order.

`state` carries what earlier apps built (the clinic, the users) to later ones, so that no app
reaches into another app's models. Every builder is idempotent: it looks rows up by stable keys
and updates them, so `load_demo` can run any number of times.
"""

import importlib
import uuid
from collections.abc import Callable
from typing import Any

from django.apps import apps

DEMO_PASSWORD = "backcare-demo"  # noqa: S105 (published demo login, DEBUG-only data)
DEMO_NAMESPACE = uuid.UUID("6f3b8f5e-2a41-4c0e-9d8e-4c1b6c0f7a10")

State = dict[str, Any]


def demo_id(label: str) -> uuid.UUID:
    """A stable primary key for a demo row, the same on every run and machine."""
    return uuid.uuid5(DEMO_NAMESPACE, label)


def builders() -> list[tuple[str, Callable[[State], None]]]:
    """(app label, build function) of every BackCare app with a demo module, in app order."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("backcare."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        build = getattr(module, "build", None)
        if build is not None:
            found.append((config.label, build))
    return found


def build_demo() -> State:
    """Run every app's demo builder in order; return the shared state."""
    state: State = {"logins": []}
    for _label, build in builders():
        build(state)
    return state
