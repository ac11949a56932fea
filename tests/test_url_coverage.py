"""Every named URL of BackCare's apps is exercised by some test (a light guard until the
generated access walk of the security issue covers every URL with every role)."""

from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent


def _our_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name and pattern.callback.__module__.startswith("backcare."):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_of_ours_is_named_in_a_test():
    sources = "\n".join(
        path.read_text()
        for path in [*ROOT.glob("backcare/*/tests/test_*.py"), *ROOT.glob("tests/**/test_*.py")]
    )
    untested = sorted(name for name in _our_url_names() if f'"{name}"' not in sources)
    assert untested == []
