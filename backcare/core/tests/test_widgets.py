"""BodyMapWidget: every choice is a checkbox with its area on the figure, selected values are
marked on both, groups become fieldsets, and a value the figure cannot draw is refused."""

from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms

from backcare.clinical.body import body_map_codes, body_map_groups
from backcare.core.widgets import BodyMapWidget


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each legend."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.legends: list[str] = []
        self._in_legend = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self._in_legend = tag == "legend"

    def handle_endtag(self, tag: str) -> None:
        self._in_legend = self._in_legend and tag != "legend"

    def handle_data(self, data: str) -> None:
        if self._in_legend and data.strip():
            self.legends.append(data.strip())

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Elements of `tag` with these attributes (for "class", one of its names)."""

        def matches(found: dict[str, str], key: str, wanted: str) -> bool:
            value = found.get(key, "")
            return wanted in value.split() if key == "class" else value == wanted

        return [
            found
            for name, found in self.elements
            if name == tag and all(matches(found, key, wanted) for key, wanted in attrs.items())
        ]


def render(choices: Any, value: list[str] | None = None, **form_options: Any) -> _Elements:
    class Form(forms.Form):
        places = forms.MultipleChoiceField(
            label="Where?", choices=choices, widget=BodyMapWidget, required=False
        )

    form = Form(initial={"places": value or []}, **form_options)
    parser = _Elements()
    parser.feed(str(form["places"].as_field_group()))
    return parser


def areas_by_checkbox(page: _Elements) -> dict[str, dict[str, str]]:
    return {area["data-for"]: area for area in page.all("g", **{"class": "body-map__area"})}


def test_every_choice_has_a_checkbox_and_an_area_that_clicks_it():
    page = render(body_map_groups())
    checkboxes = page.all("input", type="checkbox")
    areas = areas_by_checkbox(page)

    assert sorted(box["value"] for box in checkboxes) == sorted(c for c, _ in body_map_codes())
    assert len(areas) == len(checkboxes)
    for box in checkboxes:
        assert areas[box["id"]]["data-value"] == box["value"]


def test_selected_values_are_checked_in_the_list_and_marked_on_the_figure():
    chosen = ["piriformis:left", "iliopsoas:right"]
    page = render(body_map_groups(), value=chosen)

    checked = [box["value"] for box in page.all("input", type="checkbox") if "checked" in box]
    marked = [area["data-value"] for area in page.all("g", **{"class": "is-selected"})]
    assert sorted(checked) == sorted(chosen)
    assert sorted(marked) == sorted(chosen)


def test_each_group_of_choices_is_a_fieldset_named_by_its_heading():
    page = render(body_map_groups())
    assert page.legends == ["Where?", *(title for title, _ in body_map_groups())]


def test_flat_choices_on_other_codes_work_too():
    treated = [("hamstrings:left", "Hamstrings, left"), ("adductors:right", "Adductors, right")]
    page = render(treated, value=["adductors:right"])

    assert [box["value"] for box in page.all("input", type="checkbox")] == [
        "hamstrings:left",
        "adductors:right",
    ]
    assert [a["data-value"] for a in page.all("g", **{"class": "is-selected"})] == [
        "adductors:right"
    ]
    # Only the views that hold a choice are drawn.
    assert len(page.all("svg")) == 2


def test_the_figure_is_hidden_from_assistive_technology_and_until_the_script_shows_it():
    page = render(body_map_groups())
    figure = page.all("div", **{"class": "body-map__figure"})[0]
    views = page.all("div", **{"class": "body-map__views"})[0]
    assert "hidden" in figure
    assert views["aria-hidden"] == "true"
    assert all("tabindex" not in area for area in page.all("g", **{"class": "body-map__area"}))


def test_without_ids_only_the_checkbox_list_is_shown():
    page = render(body_map_groups(), auto_id=False)
    assert page.all("svg") == []
    assert len(page.all("input", type="checkbox")) == len(body_map_codes())


@pytest.mark.parametrize("value", ["biceps:left", "piriformis:both", "piriformis"])
def test_a_value_the_figure_cannot_draw_is_refused(value):
    with pytest.raises(ValueError, match="BodyMapWidget cannot draw"):
        render([(value, "Somewhere")])


def test_the_widget_brings_its_script_deferred():
    assert str(BodyMapWidget().media) == '<script src="/static/js/body-map.js" defer></script>'
