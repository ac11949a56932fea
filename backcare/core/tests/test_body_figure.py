"""The body-map drawing: one area per muscle of the treated-muscle vocabulary, each big enough
to tap, none on top of another, the right half the mirror of the left."""

import re

import pytest

from backcare.clinical.body import MUSCLE_CODES
from backcare.core import body_figure

MIN_TARGET = 26  # SVG units; the widget draws a unit at least a CSS pixel wide: over 24 px


def bounds(path: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def drawn(view: str) -> list[tuple[str, str]]:
    return [
        (f"{muscle}:{side}", area.path_for(side))
        for muscle, area in body_figure.AREAS.items()
        if area.view == view
        for side in ("left", "right")
    ]


def test_every_muscle_of_the_vocabulary_has_an_area_and_nothing_else_does():
    assert set(body_figure.AREAS) == MUSCLE_CODES


@pytest.mark.parametrize("view", body_figure.VIEWS)
def test_every_area_is_at_least_a_touch_target_and_inside_the_drawing(view):
    boxes = [(code, bounds(path)) for code, path in drawn(view)]
    too_small = [code for code, (x0, y0, x1, y1) in boxes if min(x1 - x0, y1 - y0) < MIN_TARGET]
    outside = [
        code
        for code, (x0, y0, x1, y1) in boxes
        if min(x0, y0) < 0 or x1 > body_figure.WIDTH or y1 > body_figure.HEIGHT
    ]
    assert too_small == []
    assert outside == []


@pytest.mark.parametrize("view", body_figure.VIEWS)
def test_no_two_areas_of_a_view_overlap(view):
    boxes = [(code, bounds(path)) for code, path in drawn(view)]
    overlapping = [
        (a, b)
        for i, (a, (al, at, ar, ab)) in enumerate(boxes)
        for b, (bl, bt, br, bb) in boxes[i + 1 :]
        if al < br and bl < ar and at < bb and bt < ab
    ]
    assert overlapping == []


def test_the_back_view_shows_the_patients_left_on_the_viewers_left():
    area = body_figure.AREAS["piriformis"]
    left, right = bounds(area.path_for("left")), bounds(area.path_for("right"))
    assert area.view == "back"
    assert left[2] <= body_figure.MIDLINE <= right[0]


def test_the_front_view_shows_the_patients_left_on_the_viewers_right():
    area = body_figure.AREAS["iliopsoas"]
    left, right = bounds(area.path_for("left")), bounds(area.path_for("right"))
    assert area.view == "front"
    assert right[2] <= body_figure.MIDLINE <= left[0]


def test_mirror_reflects_each_point_across_the_midline_and_back():
    path = "M 10 20 L 30.5 40 Q 50 60 70 80 C 1 2 3 4 5 6 Z"
    assert body_figure.mirror(path) == "M 230 20 L 209.5 40 Q 190 60 170 80 C 239 2 237 4 235 6 Z"
    assert body_figure.mirror(body_figure.mirror(path)) == path


@pytest.mark.parametrize("path", ["m 10 20 l 5 5 z", "M 10 20 H 30 Z", "M 10 20 L 30 Z"])
def test_mirror_refuses_a_path_it_cannot_reflect_point_by_point(path):
    with pytest.raises(ValueError, match="absolute M/L/Q/C/Z path"):
        body_figure.mirror(path)


def test_an_area_is_drawn_only_for_left_or_right():
    with pytest.raises(ValueError, match="side must be left or right"):
        body_figure.AREAS["piriformis"].path_for("both")
