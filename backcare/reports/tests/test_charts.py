"""Progress charts: SVG from the series, the same bytes for the same data."""

from datetime import date
from fractions import Fraction

import pytest

from backcare.reports import charts

SERIES = charts.Series(
    title="Pain numeric rating scale (0-10)",
    unit="0-10",
    low=0,
    high=10,
    points=(
        charts.Point(date(2026, 1, 5), Fraction(7)),
        charts.Point(date(2026, 2, 2), Fraction(4)),
    ),
    important_change=Fraction(2),
    sessions=(date(2026, 1, 12), date(2026, 1, 19)),
)


def test_a_chart_is_svg_with_its_title_and_the_same_each_time():
    svg = charts.chart_svg(SERIES)
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert "Pain numeric rating scale (0-10)" in svg
    assert charts.chart_svg(SERIES) == svg


def test_the_band_and_sessions_change_the_drawing():
    plain = charts.Series(title=SERIES.title, unit="0-10", low=0, high=10, points=SERIES.points)
    assert charts.chart_svg(plain) != charts.chart_svg(SERIES)


def test_a_chart_without_points_is_refused():
    empty = charts.Series(title="x", unit="", low=0, high=10, points=())
    with pytest.raises(ValueError, match="at least one point"):
        charts.chart_svg(empty)
