"""Progress charts drawn on the server as SVG with matplotlib: the same drawing serves the page
and the PDF. No Django here: a chart is built from a `Series` and returns SVG text.

Pages show the SVG as an image (a data: URL), which keeps its own styles out of the page's
Content-Security-Policy, and always beside a table with the same numbers for screen readers.
"""

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction

import matplotlib

matplotlib.use("Agg")  # no display on a server

import matplotlib.dates as mdates  # after choosing the backend
from matplotlib.axes import Axes
from matplotlib.figure import Figure

# Stable SVG ids and text kept as text: the same data gives the same bytes (tests compare).
matplotlib.rcParams["svg.hashsalt"] = "backcare"
matplotlib.rcParams["svg.fonttype"] = "none"

INK = "#1f2933"
BRAND = "#0b6e4f"
BAND = "#c7ebd9"
SESSION = "#9aa5b1"
FLARE = "#b42318"


@dataclass(frozen=True)
class Point:
    measured_on: date
    value: Fraction


@dataclass(frozen=True)
class Series:
    """One measure over time. `lower_is_better` turns the important-change band below the
    baseline; `important_change` is the minimal important change in scale points (None: no
    band). `sessions` are the dates of the sessions, marked on the time axis; `flare_ups` the
    days a flare-up began, marked along the top."""

    title: str
    unit: str
    low: int
    high: int
    points: tuple[Point, ...]
    lower_is_better: bool = True
    important_change: Fraction | None = None
    sessions: tuple[date, ...] = field(default=())
    flare_ups: tuple[date, ...] = field(default=())

    @property
    def baseline(self) -> Fraction | None:
        return self.points[0].value if self.points else None


def chart_svg(series: Series) -> str:
    """The chart of `series` as SVG text: its points joined in time order, the baseline as a
    dashed line, the band of important change from the baseline (where the measure has one),
    the sessions as ticks along the time axis and flare-ups as marks along the top. Raises
    ValueError for a series without points."""
    if not series.points:
        raise ValueError("A chart needs at least one point.")
    figure = Figure(figsize=(6.4, 2.8), dpi=100)
    axes = figure.subplots()
    when = [_moment(p.measured_on) for p in series.points]
    values = [float(p.value) for p in series.points]
    _band(axes, series)
    axes.axhline(values[0], color=INK, linestyle="--", linewidth=1, label="Start")
    axes.plot(when, values, color=BRAND, marker="o", linewidth=2, label=series.title)
    for day in series.sessions:
        axes.axvline(_moment(day), ymax=0.06, color=SESSION, linewidth=2)
    for day in series.flare_ups:
        axes.axvline(_moment(day), ymin=0.9, color=FLARE, linewidth=3)
    axes.set_ylim(series.low, series.high)
    axes.set_ylabel(series.unit)
    axes.set_title(series.title, loc="left", fontsize=11, color=INK)
    axes.xaxis_date()
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=6))
    axes.grid(axis="y", color="#e4e7eb")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _band(axes: Axes, series: Series) -> None:
    start = series.baseline
    if series.important_change is None or start is None:
        return
    step = series.important_change
    edge = start - step if series.lower_is_better else start + step
    far = series.low if series.lower_is_better else series.high
    low, high = sorted((float(edge), float(far)))
    axes.axhspan(low, high, color=BAND, alpha=0.6, linewidth=0, label="Important change")


def _moment(day: date) -> float:
    return float(mdates.date2num(datetime.combine(day, time(12))))
