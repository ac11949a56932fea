"""The conformance runner reports 0 failures on the project's vectors, and reports mismatches
precisely when a vector and the rules disagree."""

import copy
import json
from pathlib import Path

import pytest

from backcare.clinical import change, conformance

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "examples.json"


@pytest.fixture
def vectors():
    return json.loads(VECTORS.read_text())


def test_every_vector_passes(vectors):
    outcomes = conformance.run(vectors)
    assert conformance.report(outcomes)[-1] == f"{len(vectors)} passed, 0 failed"
    assert {o.instrument for o in outcomes} >= {
        "red_flag_triage",
        "massage_contraindications",
        "ODI",
        "STarT_Back",
    }


def test_a_wrong_expectation_is_reported_with_its_id_and_values(vectors):
    changed = copy.deepcopy([v for v in vectors if v["note"].startswith("[ODI-04]")])
    changed[0]["expected"]["percent"] = 35.55
    lines = conformance.report(conformance.run(changed))
    assert lines == [
        "FAIL [ODI-04] ODI percent: expected 35.55, got 320/9 (= 35.5556)",
        "0 passed, 1 failed",
    ]


def test_an_expected_error_must_be_the_same_error(vectors):
    wrong = copy.deepcopy([v for v in vectors if v["note"].startswith("[ODI-23]")])
    wrong[0]["expected"] = {"error": "wrong_number_of_sections"}
    [outcome] = conformance.run(wrong)
    assert outcome.mismatches[0].actual == "value_out_of_range"


def test_unknown_kinds_and_malformed_vectors_are_failures_not_crashes():
    outcomes = conformance.run(
        [
            {"instrument": "MYSTERY", "input": {}, "expected": {"x": 1}, "note": "[X-1]"},
            {"instrument": "ODI", "input": {}, "expected": {"valid": True}, "note": "[X-2]"},
        ]
    )
    assert [o.passed for o in outcomes] == [False, False]
    assert outcomes[1].mismatches[0].actual == "<missing>"


def test_a_clinics_thresholds_change_the_outcome(vectors):
    nrs = [v for v in vectors if v["instrument"] == "NRS_change"]
    strict = conformance.ConformanceSettings(
        thresholds={"pain_nrs": change.thresholds_with("pain_nrs", pct=40)}
    )
    failed = [o.vector_id for o in conformance.run(nrs, strict) if not o.passed]
    assert failed == ["NRS-01", "NRS-03"]


def test_lists_of_codes_compare_as_sets_and_invalid_scores_report_none():
    outcomes = conformance.run(
        [
            {
                "instrument": "massage_contraindications",
                "input": {"osteoporosis": True},
                "expected": {"excluded_techniques": ["tapotement", "spinal_mobilisation"]},
                "note": "[X-1]",
            },
            {
                "instrument": "ODI",
                "input": {"sections": [1, 1, None, None, 1, 1, 1, 1, 1, 1], "max_missing": 1},
                "expected": {"valid": False, "percent": None, "band": None},
                "note": "[X-2]",
            },
        ]
    )
    assert [o.passed for o in outcomes] == [True, True]
