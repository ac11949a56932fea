"""Form widgets shared by every app."""

from dataclasses import dataclass
from typing import Any

from django import forms

from backcare.core import body_figure


@dataclass(frozen=True)
class _FigureArea:
    value: str
    label: str
    checkbox_id: str
    path: str
    selected: bool


class BodyMapWidget(forms.CheckboxSelectMultiple):
    """Checkboxes for places on the body, with a clickable front and back figure.

    Takes any choices whose values are "<muscle>:<side>", with a muscle drawn in
    `body_figure.AREAS` and a side of "left" or "right"; grouped choices (Django's
    `[(heading, [(value, label), ...]), ...]`) become one fieldset per group, with the heading
    as its legend. Rendering raises ValueError for a value the figure cannot show, so that no
    choice goes without its area.

    Accessibility: the checkbox list is the control. Without JavaScript it is all there is;
    with `js/body-map.js` the figure appears above it, and clicking or tapping an area clicks
    its checkbox (so change events, autosave and validation see the same input). The figure
    is hidden from assistive technology (`aria-hidden`) and is not in the tab order: keyboard
    and screen-reader users keep the one list, with native checkbox semantics, instead of
    meeting every choice twice. Focusing or hovering a checkbox outlines its area, so sighted
    keyboard users still see where it is. Selected areas are hatched and outlined, not only
    coloured. The page must render the form's media (`{{ form.media }}`), as
    `includes/form.html` does.
    """

    template_name = "widgets/body_map.html"

    class Media:
        js = [forms.Script("js/body-map.js", defer=True)]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        areas: dict[str, list[_FigureArea]] = {view: [] for view in body_figure.VIEWS}
        for _group, options, _index in widget["optgroups"]:
            for option in options:
                view, path = _drawing(str(option["value"]))
                areas[view].append(
                    _FigureArea(
                        value=str(option["value"]),
                        label=str(option["label"]),
                        checkbox_id=option["attrs"].get("id", ""),
                        path=path,
                        selected=bool(option["selected"]),
                    )
                )
        widget["figure"] = {
            "width": body_figure.WIDTH,
            "height": body_figure.HEIGHT,
            "body": body_figure.BODY,
            "views": [
                {
                    "code": view,
                    "label": body_figure.VIEW_LABELS[view],
                    "left_label": body_figure.SIDE_ON_VIEWERS_LEFT[view].title(),
                    "right_label": _other_side(body_figure.SIDE_ON_VIEWERS_LEFT[view]).title(),
                    "landmarks": body_figure.LANDMARKS[view],
                    "areas": areas[view],
                }
                for view in body_figure.VIEWS
                if areas[view]
            ],
        }
        # Areas point at checkboxes by id; without ids (auto_id=False) only the list is shown.
        widget["show_figure"] = bool(widget["attrs"].get("id"))
        return context


def _drawing(value: str) -> tuple[body_figure.View, str]:
    muscle, _, side = value.partition(":")
    area = body_figure.AREAS.get(muscle)
    if area is None or side not in ("left", "right"):
        raise ValueError(
            f"BodyMapWidget cannot draw {value!r}: choices must be '<muscle>:<left|right>' "
            "with a muscle in backcare.core.body_figure.AREAS"
        )
    return area.view, area.path_for(side)


def _other_side(side: str) -> str:
    return "right" if side == "left" else "left"
