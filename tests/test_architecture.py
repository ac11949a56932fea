"""The layout rules of ARCHITECTURE.md §3-4, checked on the source tree.

- An app imports only apps to its left in APP_ORDER; `clinical` imports nothing of ours and no
  Django.
- Another app's data is reached through its queries/services: no `<OtherModel>.objects`.
- Views and API routers make no ORM calls (`.objects` and queryset methods appear in no
  views.py and no api.py): they parse input, call one query or service, and render.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "backcare"
APP_ORDER = [
    "core",
    "accounts",
    "patients",
    "triage",
    "outcomes",
    "intake",
    "plans",
    "scheduling",
    "visits",
    "reports",
    "fhir",
    "api",
]
# The three right-most apps are peers: none imports another.
PEERS = {"reports", "fhir", "api"}


def _apps() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _modules(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def _imports(path: Path) -> list[str]:
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    return _imported_modules(path.read_text(), package)


def _imported_modules(source: str, package: list[str]) -> list[str]:
    """Absolute names of the modules `source` imports, relative imports resolved."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1]
            names.append(".".join([*base, *([node.module] if node.module else [])]))
    return names


def test_relative_imports_are_resolved_for_the_checks():
    source = "from ..scheduling import queries\nfrom . import forms\nfrom .models import Patient\n"
    assert _imported_modules(source, ["backcare", "patients"]) == [
        "backcare.scheduling",
        "backcare.patients",
        "backcare.patients.models",
    ]


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "backcare" else None


def test_every_app_is_placed_in_the_import_order():
    unknown = [app for app in _apps() if app != "clinical" and app not in APP_ORDER]
    assert unknown == [], f"add {unknown} to APP_ORDER (and to ARCHITECTURE.md §3)"


@pytest.mark.parametrize("app", [a for a in _apps() if a != "clinical"])
def test_app_imports_only_apps_to_its_left(app):
    rank = APP_ORDER.index(app)
    bad = []
    for path in _modules(app):
        if "tests" in path.parts:
            continue
        for module in _imports(path):
            target = _app_of(module)
            if target in (None, app, "clinical"):
                continue
            wrong_way = target not in APP_ORDER or APP_ORDER.index(target) >= rank
            peers = app in PEERS and target in PEERS
            if wrong_way or peers:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


def test_clinical_core_imports_nothing_of_ours_and_no_django():
    bad = []
    for path in _modules("clinical"):
        if "tests" in path.parts:
            continue
        for module in _imports(path):
            top = module.split(".")[0]
            if top == "django" or (top == "backcare" and _app_of(module) != "clinical"):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    assert bad == []


def _model_names_from_other_apps(path: Path, app: str) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            target = _app_of(node.module)
            if target not in (None, app) and node.module.endswith(".models"):
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def _objects_uses(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    return [
        (node.value.id, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "objects"
        and isinstance(node.value, ast.Name)
    ]


@pytest.mark.parametrize("app", [a for a in _apps() if a != "clinical"])
def test_no_app_queries_another_apps_models_directly(app):
    bad = []
    for path in _modules(app):
        if "tests" in path.parts:
            continue
        foreign = _model_names_from_other_apps(path, app)
        bad += [
            f"{path.relative_to(ROOT)}:{line} {name}.objects"
            for name, line in _objects_uses(path)
            if name in foreign
        ]
    assert bad == []


QUERYSET_METHODS = {
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "values",
    "values_list",
    "annotate",
    "aggregate",
}


def _queryset_calls(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    return [
        (node.func.attr, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in QUERYSET_METHODS
    ]


def _views_and_api_routers() -> list[Path]:
    return [*ROOT.rglob("views.py"), *ROOT.rglob("api.py")]


def test_views_and_api_routers_make_no_orm_calls():
    assert any(p.parent.name == "patients" for p in ROOT.rglob("api.py"))
    bad = [
        f"{path.relative_to(ROOT)}:{line} {name}.objects"
        for path in _views_and_api_routers()
        for name, line in _objects_uses(path)
    ]
    bad += [
        f"{path.relative_to(ROOT)}:{line} .{method}()"
        for path in _views_and_api_routers()
        for method, line in _queryset_calls(path)
    ]
    assert bad == []
