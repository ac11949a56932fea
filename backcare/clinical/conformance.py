"""Run RULES.md §8 test vectors through the real clinical modules and report mismatches.

A vector is {"instrument", "input", "expected", "source", "note"}; its id is the "[XX-nn]" at the
start of the note. Only the keys present in "expected" are compared. An expected whole number
must equal the exact value; an expected decimal (RULES.md §8: 2 dp, half-up) must equal the exact
value rounded half-up to 2 places (or more if the vector shows more). An expected
{"error": code} passes when the module raises `ClinicalInputError` with that code.
`ConformanceSettings` lets a clinic run the vectors with its own thresholds.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from backcare.clinical import change, contraindications, instruments, red_flags
from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.numbers import fraction_text, half_up


@dataclass(frozen=True)
class ConformanceSettings:
    """The settings to run the vectors with: the defaults, or a clinic's."""

    triage_settings: red_flags.TriageSettings = red_flags.DEFAULT_SETTINGS
    contraindication_settings: contraindications.ContraindicationSettings = (
        contraindications.DEFAULT_SETTINGS
    )
    thresholds: Mapping[str, change.Thresholds] = field(default_factory=dict)

    def thresholds_for(self, instrument: str) -> change.Thresholds | None:
        """The clinic's thresholds for `instrument`, or None for the cited defaults."""
        return self.thresholds.get(instrument)


@dataclass(frozen=True)
class Mismatch:
    """One expected key whose actual value differs."""

    key: str
    expected: object
    actual: object


@dataclass(frozen=True)
class Outcome:
    """The result of one vector: its id, its kind and every mismatch (none when it passed)."""

    vector_id: str
    instrument: str
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        """True when every expected key matched."""
        return not self.mismatches


def vector_id(vector: Mapping[str, Any], index: int) -> str:
    """The "[ODI-04]"-style id at the start of the vector's note, else its position ("#5")."""
    match = re.match(r"\s*\[([^\]]+)\]", str(vector.get("note", "")))
    return match.group(1) if match else f"#{index + 1}"


def run(
    vectors: Iterable[Mapping[str, Any]], settings: ConformanceSettings | None = None
) -> list[Outcome]:
    """Run every vector; return one `Outcome` per vector, in order. Never raises for a vector:
    an unexpected error or an unknown instrument is reported as a mismatch."""
    chosen = settings or ConformanceSettings()
    return [_run_one(vector, index, chosen) for index, vector in enumerate(vectors)]


def _run_one(vector: Mapping[str, Any], index: int, settings: ConformanceSettings) -> Outcome:
    name = str(vector.get("instrument"))
    expected = vector.get("expected", {})
    runner = RUNNERS.get(name)
    if runner is None:
        return Outcome(
            vector_id(vector, index), name, (Mismatch("instrument", "a known kind", name),)
        )
    try:
        actual = runner(vector.get("input", {}), settings)
    except ClinicalInputError as error:
        actual = {"error": error.code, "message": error.message}
    except (KeyError, TypeError, AttributeError) as error:  # a malformed vector, not a rule
        actual = {"error": "malformed_vector", "message": f"{type(error).__name__}: {error}"}
    mismatches = tuple(
        Mismatch(key, want, actual.get(key, "<missing>"))
        for key, want in expected.items()
        if not _same(want, actual.get(key, _MISSING))
    )
    return Outcome(vector_id(vector, index), name, mismatches)


_MISSING = object()


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int) and isinstance(actual, Fraction | int | Decimal):
        return Fraction(actual) == expected
    if isinstance(expected, float) and isinstance(actual, Fraction | int | Decimal):
        places = max(2, _places(expected))
        return half_up(Fraction(repr(expected)), places) == half_up(Fraction(actual), places)
    if isinstance(expected, list) and isinstance(actual, list | tuple):
        if all(isinstance(v, str) for v in [*expected, *actual]):
            return sorted(expected) == sorted(actual)  # sets of codes: order carries no meaning
        return len(expected) == len(actual) and all(
            _same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    return expected == actual


def _places(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 2


# --- One runner per vector kind -------------------------------------------------------------------


def _odi(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = instruments.score_odi(data["sections"], max_missing=data.get("max_missing", 1))
    details = result.details
    if not result.valid:
        return {
            "valid": False,
            "reason": result.reason,
            "answered": details["answered"],
            "percent": None,
            "percent_int": None,
            "percent_fraction": None,
            "band": None,
        }
    assert result.value is not None
    return {
        "valid": True,
        "answered": details["answered"],
        "raw_total": details["raw_total"],
        "max_possible": details["max_possible"],
        "percent": result.value,
        "percent_int": half_up(result.value, 0),
        "percent_fraction": fraction_text(result.value),
        "band": result.band,
    }


def _change_common(result: change.Change) -> dict[str, object]:
    return {"abs_improvement": result.improvement, "pct_improvement": result.pct_improvement}


def _odi_change(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = change.change("odi", data["baseline"], data["followup"], s.thresholds_for("odi"))
    return _change_common(result) | {
        "meets_abs_mic": result.meets_abs,
        "meets_pct_mic_30": result.meets_pct,
    }


def _rmdq(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = instruments.score_rmdq(data["ticked_items"])
    return {"valid": True, "score": result.value}


def _rmdq_change(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = change.change("rmdq", data["baseline"], data["followup"], s.thresholds_for("rmdq"))
    return _change_common(result) | {
        "meets_abs_mic_5": result.meets_abs,
        "meets_pct_mic_30": result.meets_pct,
        "recovered_followup_le_2": result.recovered,
    }


def _start_back(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = instruments.score_start_back(data["items"])
    if not result.valid:
        return {
            "valid": False,
            "reason": result.reason,
            "total": None,
            "psychosocial": None,
            "risk": None,
        }
    return {"valid": True, **result.details}


def _nrs_change(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = change.change(
        "pain_nrs", data["baseline"], data["followup"], s.thresholds_for("pain_nrs")
    )
    return _change_common(result) | {
        "meets_abs_2": result.meets_abs,
        "meets_pct_30": result.meets_pct,
        "meets_pct_50": result.meets_substantial,
    }


def _psfs(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    thresholds = s.thresholds_for("psfs")
    if "single_activity_baseline" in data:
        result = change.psfs_change(
            [data["single_activity_baseline"]], [data["single_activity_followup"]], thresholds
        )
        return {"change": result.activity_changes[0], "meets_single_3": result.meets_single[0]}
    result = change.psfs_change(data["baseline"], data["followup"], thresholds)
    return {
        "baseline_mean": result.baseline_mean,
        "followup_mean": result.followup_mean,
        "mean_change": result.mean_change,
        "meets_avg_2": result.meets_average,
    }


def _peg(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = instruments.score_peg(
        pain=data["pain"], enjoyment=data["enjoyment"], general_activity=data["general_activity"]
    )
    return {"score": result.value}


def _peg_change(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    result = change.change("peg", data["baseline"], data["followup"], s.thresholds_for("peg"))
    return _change_common(result) | {"meets_pct_30": result.meets_pct}


def _red_flags(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    answers = dict(data)
    unknown = answers.pop("unknown", [])
    result = red_flags.triage(
        red_flags.TriageAnswers.from_mapping(answers, unknown=unknown), s.triage_settings
    )
    return {
        "action": result.action.value,
        "triggered": list(result.triggered),
        "referral": result.referral,
    }


def _contraindications(data: Mapping[str, Any], s: ConformanceSettings) -> dict[str, object]:
    answers = contraindications.ContraindicationAnswers.from_mapping(data)
    result = contraindications.assess(answers, s.contraindication_settings)
    clearances = list(result.clearance_required)
    return {
        "massage": result.massage.value,
        "medical": result.medical.value,
        "region_restrictions": list(result.region_restrictions),
        "clearance_required": clearances[0] if len(clearances) == 1 else (clearances or None),
        "max_pressure_level": result.max_pressure_level,
        "excluded_techniques": list(result.excluded_techniques),
        "regional_pressure_caps": [list(pair) for pair in result.regional_pressure_caps],
        "positions": list(result.positions),
        "conditions": list(result.conditions),
    }


RUNNERS: Mapping[str, Callable[[Mapping[str, Any], ConformanceSettings], dict[str, object]]] = {
    "ODI": _odi,
    "ODI_change": _odi_change,
    "RMDQ": _rmdq,
    "RMDQ_change": _rmdq_change,
    "STarT_Back": _start_back,
    "NRS_change": _nrs_change,
    "PSFS": _psfs,
    "PEG": _peg,
    "PEG_change": _peg_change,
    "red_flag_triage": _red_flags,
    "massage_contraindications": _contraindications,
}


def report(outcomes: list[Outcome]) -> list[str]:
    """Readable lines: one per mismatch, then "N passed, M failed"."""
    lines = [
        f"FAIL [{o.vector_id}] {o.instrument} {m.key}: "
        f"expected {m.expected!r}, got {_show(m.actual)}"
        for o in outcomes
        for m in o.mismatches
    ]
    failed = sum(1 for o in outcomes if not o.passed)
    return [*lines, f"{len(outcomes) - failed} passed, {failed} failed"]


def _show(value: object) -> str:
    if isinstance(value, Fraction):
        return f"{fraction_text(value)} (= {half_up(value, 4)})"
    return repr(value)
