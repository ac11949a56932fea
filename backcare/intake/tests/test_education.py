"""The public patient education page about massage for back pain (`/learn/`)."""

import re
from html.parser import HTMLParser
from itertools import pairwise

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

SECTION_IDS = ["what-massage-can-do", "techniques", "course", "safety", "self-care", "sources"]


class _Outline(HTMLParser):
    """Collects the headings (level, id, text) and the text of the emergency block."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str, str]] = []
        self._heading: tuple[int, str] | None = None
        self._heading_text: list[str] = []
        self._alert_depth = 0
        self.emergency_text: list[str] = []
        self.inline_styles = 0
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes:
            self.inline_styles += 1
        if tag == "script" and not attributes.get("src"):
            self.inline_scripts += 1
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = (int(tag[1]), attributes.get("id") or "")
            self._heading_text = []
        if tag == "div":
            classes = (attributes.get("class") or "").split()
            if self._alert_depth:
                self._alert_depth += 1
            elif "learn-alert--emergency" in classes:
                self._alert_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self._heading and tag == f"h{self._heading[0]}":
            level, anchor = self._heading
            self.headings.append((level, anchor, " ".join("".join(self._heading_text).split())))
            self._heading = None
        if tag == "div" and self._alert_depth:
            self._alert_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._heading_text.append(data)
        if self._alert_depth:
            self.emergency_text.append(data)


@pytest.fixture
def page() -> str:
    response = Client().get(reverse("learn"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def outline(page: str) -> _Outline:
    parser = _Outline()
    parser.feed(page)
    parser.close()
    return parser


def test_anonymous_visitor_can_read_the_page():
    response = Client().get(reverse("learn"))
    assert response.status_code == 200
    assert "intake/learn.html" in [template.name for template in response.templates]
    assert "base.html" in [template.name for template in response.templates]


@pytest.mark.parametrize("section", SECTION_IDS)
def test_every_section_is_an_h2_with_its_anchor(outline: _Outline, section: str):
    assert (2, section) in [(level, anchor) for level, anchor, _ in outline.headings]


def test_there_is_exactly_one_h1_and_headings_do_not_skip_levels(page: str, outline: _Outline):
    assert len(re.findall(r"<h1[\s>]", page)) == 1
    levels = [level for level, _, _ in outline.headings]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(after - before <= 1 for before, after in pairwise(levels))


@pytest.mark.parametrize(
    "citation",
    [
        "CD001929",
        "10.1002/14651858.CD001929.pub3",
        "M16-2367",
        "https://doi.org/10.7326/M16-2367",
        "NG59",
    ],
)
def test_sources_are_cited(page: str, citation: str):
    sources = page[page.index('id="sources"') :]
    assert citation in sources


def test_bladder_or_bowel_changes_send_the_reader_to_emergency_care(outline: _Outline):
    headings = {anchor: text for _, anchor, text in outline.headings}
    assert "emergency" in headings["emergency"].lower()
    emergency = " ".join("".join(outline.emergency_text).split()).lower()
    assert "bladder" in emergency
    assert "bowel" in emergency
    assert "emergency department" in emergency
    assert "straight away" in emergency


def test_page_says_it_does_not_replace_medical_advice(page: str):
    assert "does not replace medical advice" in page


def test_page_is_honest_about_the_evidence(page: str):
    assert "low to very low certainty" in page
    assert "does not cure the cause" in page


def test_no_inline_styles_or_scripts_and_nothing_loaded_from_another_site(
    page: str, outline: _Outline
):
    assert outline.inline_styles == 0
    assert outline.inline_scripts == 0
    loaded = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", page)
    assert loaded
    assert all(url.startswith("/") and not url.startswith("//") for url in loaded)
