"""Change from baseline and responder status (RULES.md §3.8, §5).

Improvement is positive when the patient is better: baseline - follow-up for scales where lower
is better (ODI, RMDQ, NRS, PEG), follow-up - baseline where higher is better (PSFS, Schober).
Percent improvement is 100 x improvement / baseline, and None when the baseline is 0 (never a
division by zero). Every threshold is inclusive (>=) and compared exactly on fractions, which is
integer arithmetic: 100 x (b - f) >= 30 x b, never floats (RULES.md §0.3).

Defaults are cited in `DEFAULT_THRESHOLDS`; a clinic may change them (`thresholds_with`), and
each result carries the thresholds it used.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from fractions import Fraction

from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.instruments import Direction, get_instrument, odi_percent, score_psfs
from backcare.clinical.numbers import exact, whole

CHANGE_VERSION = "backcare-change-1 (RULES.md §3.8)"


@dataclass(frozen=True)
class Thresholds:
    """Clinically important change for one instrument. None: no such threshold."""

    abs_points: Fraction | None = None  # minimal important change, in scale points
    pct: int | None = None  # minimal important change, percent of baseline
    substantial_pct: int | None = None  # e.g. IMMPACT "substantial" 50 % for pain
    recovered_at_or_below: int | None = None  # RMDQ: recovered when the follow-up is <= 2
    single_item_points: int | None = None  # PSFS: one activity
    real_change: Fraction | None = None  # smallest detectable change (ROM)
    source: str = ""


DEFAULT_THRESHOLDS: Mapping[str, Thresholds] = {
    "odi": Thresholds(Fraction(10), 30, source="Ostelo 2008 (10 points or 30 %)"),
    "rmdq": Thresholds(
        Fraction(5),
        30,
        recovered_at_or_below=2,
        source="Ostelo 2008 (5 points or 30 %); Kamper 2010 (<= 2)",
    ),
    "pain_nrs": Thresholds(
        Fraction(2),
        30,
        substantial_pct=50,
        source="Ostelo 2008; Farrar 2001; IMMPACT (Dworkin 2008)",
    ),
    "psfs": Thresholds(
        Fraction(2), single_item_points=3, source="Stratford 1995 form (MDC90: 2 mean, 3 single)"
    ),
    "peg": Thresholds(
        pct=30, source="Krebs 2009 (no MCID); 30 % by analogy with IMMPACT (project decision)"
    ),
    "schober": Thresholds(
        real_change=Fraction(18, 10), source="Robinson & Mengshoel 2014 (SDC 1.8 cm)"
    ),
    "fingertip_floor": Thresholds(
        real_change=Fraction(98, 10), source="Robinson & Mengshoel 2014 (SDC 9.8 cm)"
    ),
    "stress_nrs": Thresholds(source="No established threshold (reported only)"),
    "sleep_nrs": Thresholds(source="No established threshold (reported only)"),
    "analgesic_days": Thresholds(source="No established threshold (reported only)"),
}


@dataclass(frozen=True)
class Change:
    """Change between two scores of one instrument. `meets_*` are None when the instrument has
    no such threshold."""

    instrument: str
    baseline: Fraction
    followup: Fraction
    improvement: Fraction
    pct_improvement: Fraction | None
    meets_abs: bool | None
    meets_pct: bool | None
    meets_substantial: bool | None
    recovered: bool | None
    real_change: bool | None
    thresholds: Thresholds
    version: str = CHANGE_VERSION

    @property
    def responder(self) -> bool:
        """The primary responder definition: the percent threshold where one exists (RULES.md
        §3.4, ⚙ primary = percent), else the absolute one; False when neither exists."""
        primary = self.meets_pct if self.meets_pct is not None else self.meets_abs
        return bool(primary)


def change(
    instrument: str,
    baseline: object,
    followup: object,
    thresholds: Thresholds | None = None,
) -> Change:
    """Change from `baseline` to `followup` on `instrument` (a code of `instruments`), with the
    instrument's default thresholds unless `thresholds` is given.

    Scores are checked against the instrument's range; NRS, RMDQ and day counts must be whole
    numbers (raises "non_integer" for 4.5). ODI values may also be {"raw_total", "answered"},
    computed exactly (vector ODIC-06). Source: RULES.md §3.8.
    """
    definition = get_instrument(instrument)
    rules = thresholds or DEFAULT_THRESHOLDS.get(instrument, Thresholds())
    first = _score_value(instrument, baseline, "baseline")
    last = _score_value(instrument, followup, "followup")
    lower_better = definition.direction == Direction.LOWER_IS_BETTER
    improvement = first - last if lower_better else last - first
    pct = None if first == 0 else 100 * improvement / first
    return Change(
        instrument=instrument,
        baseline=first,
        followup=last,
        improvement=improvement,
        pct_improvement=pct,
        meets_abs=None if rules.abs_points is None else improvement >= rules.abs_points,
        meets_pct=None if rules.pct is None else _meets_pct(improvement, first, rules.pct),
        meets_substantial=None
        if rules.substantial_pct is None
        else _meets_pct(improvement, first, rules.substantial_pct),
        recovered=None
        if rules.recovered_at_or_below is None
        else last <= rules.recovered_at_or_below,
        real_change=None if rules.real_change is None else abs(improvement) >= rules.real_change,
        thresholds=rules,
    )


def _meets_pct(improvement: Fraction, baseline: Fraction, pct: int) -> bool:
    # 100 x improvement >= pct x baseline, exactly; never met from a zero baseline.
    return baseline > 0 and 100 * improvement >= pct * baseline


_WHOLE = {"pain_nrs", "rmdq", "stress_nrs", "sleep_nrs", "analgesic_days", "pgic"}


def _score_value(instrument: str, value: object, item: str) -> Fraction:
    definition = get_instrument(instrument)
    if instrument == "odi" and isinstance(value, Mapping):
        raw = whole(value.get("raw_total"), item=f"{item}.raw_total", low=0, high=50)
        answered = whole(value.get("answered"), item=f"{item}.answered", low=8, high=10)
        if raw > 5 * answered:
            raise ClinicalInputError(
                "value_out_of_range", f"{item}: raw_total exceeds 5 x answered.", item=item
            )
        return odi_percent(raw, answered)
    if instrument in _WHOLE:
        low, high = int(definition.score_low), int(definition.score_high)
        return Fraction(whole(value, item=item, low=low, high=high))
    number = exact(value, item=item)
    if not definition.score_low <= number <= definition.score_high:
        raise ClinicalInputError(
            "value_out_of_range",
            f"{item}: {value} is outside {definition.score_low} to {definition.score_high}.",
            item=item,
        )
    return number


@dataclass(frozen=True)
class PsfsChange:
    """PSFS change: mean of the same activities at baseline and follow-up, the mean change and
    whether it reaches the average threshold; per-activity changes and whether any reaches the
    single-activity threshold."""

    baseline_mean: Fraction
    followup_mean: Fraction
    mean_change: Fraction
    meets_average: bool
    activity_changes: tuple[int, ...]
    meets_single: tuple[bool, ...]
    thresholds: Thresholds
    version: str = CHANGE_VERSION


def psfs_change(
    baseline: list[object], followup: list[object], thresholds: Thresholds | None = None
) -> PsfsChange:
    """Change on the PSFS, re-rating the same activities in the same order (Stratford 1995:
    2 points on the mean, 3 points on one activity; inclusive). Raises when the lists differ in
    length or a rating is outside 0-10."""
    rules = thresholds or DEFAULT_THRESHOLDS["psfs"]
    if not isinstance(baseline, list | tuple) or not isinstance(followup, list | tuple):
        raise ClinicalInputError(
            "not_a_list", "PSFS: give the activity ratings as lists.", item="activities"
        )
    if len(baseline) != len(followup):
        raise ClinicalInputError(
            "wrong_number_of_items",
            "PSFS: re-rate the same activities at follow-up.",
            item="activities",
        )
    before, after = score_psfs(baseline), score_psfs(followup)
    assert before.value is not None
    assert after.value is not None
    deltas = tuple(
        a - b for a, b in zip(after.details["ratings"], before.details["ratings"], strict=True)
    )
    single = rules.single_item_points
    assert rules.abs_points is not None
    assert single is not None
    return PsfsChange(
        baseline_mean=before.value,
        followup_mean=after.value,
        mean_change=after.value - before.value,
        meets_average=after.value - before.value >= rules.abs_points,
        activity_changes=deltas,
        meets_single=tuple(d >= single for d in deltas),
        thresholds=rules,
    )


def thresholds_with(instrument: str, **changes: object) -> Thresholds:
    """The default thresholds of `instrument` with a clinic's overrides (percentages 1-100,
    points within the scale). Raises `ClinicalInputError` naming a bad setting."""
    base = DEFAULT_THRESHOLDS.get(instrument)
    if base is None:
        raise ClinicalInputError("unknown_instrument", f"No change thresholds for {instrument!r}.")
    known = {f.name for f in fields(Thresholds)} - {"source"}
    values: dict[str, object] = {}
    for name, value in changes.items():
        if name not in known:
            raise ClinicalInputError("unknown_item", f"Unknown threshold {name}.", item=name)
        if value is None:
            values[name] = None
        elif name in {"abs_points", "real_change"}:
            values[name] = _positive(value, name, high=100)
        else:
            values[name] = whole(value, item=name, low=1, high=100)
    return replace(base, **values, source=f"{base.source}; changed by the clinic")  # type: ignore[arg-type]


def _positive(value: object, name: str, *, high: int) -> Fraction:
    number = exact(value, item=name)
    if not 0 < number <= high:
        raise ClinicalInputError(
            "value_out_of_range", f"{name}: expected more than 0 and at most {high}.", item=name
        )
    return number


EDITABLE = (
    "abs_points",
    "pct",
    "substantial_pct",
    "recovered_at_or_below",
    "single_item_points",
    "real_change",
)


def describe(
    overrides: Mapping[str, Thresholds] | None = None,
) -> list[tuple[str, str, object, object, str]]:
    """(instrument, threshold, value in use, default, source) for every default threshold, so a
    page can show which values a clinic changed."""
    chosen = overrides or {}
    rows = []
    for code, default in DEFAULT_THRESHOLDS.items():
        in_use = chosen.get(code, default)
        for name in EDITABLE:
            if getattr(default, name) is not None:
                rows.append(
                    (code, name, getattr(in_use, name), getattr(default, name), default.source)
                )
    return rows
