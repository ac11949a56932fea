"""Every named URL of BackCare's apps is exercised by some test (a light guard until the
generated access walk of the security issue covers every URL with every role).

The JSON API's operations are django-ninja views (their callbacks live in `ninja`), so they are
found by namespace instead: each is named as `reverse()` takes it, e.g. "api-v1:patient_list",
the schema and docs pages included."""

from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent


OUR_NAMESPACES = ("api-v1",)


def _our_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
                walk(pattern.url_patterns, inner)
            elif pattern.name and namespace in OUR_NAMESPACES:
                names.add(f"{namespace}:{pattern.name}")
            elif pattern.name and pattern.callback.__module__.startswith("backcare."):
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_the_api_operations_are_among_the_urls_checked():
    assert {"api-v1:patient_list", "api-v1:openapi-json"} <= _our_url_names()


def test_every_url_of_ours_is_named_in_a_test():
    sources = "\n".join(
        path.read_text()
        for path in [*ROOT.glob("backcare/*/tests/test_*.py"), *ROOT.glob("tests/**/test_*.py")]
    )
    untested = sorted(name for name in _our_url_names() if f'"{name}"' not in sources)
    assert untested == []
