"""The structured parts of a note: palpation findings, adverse events and coded choices are
checked against their vocabulary and stored one way."""

import pytest

from backcare.visits import soap


def test_palpation_findings_keep_their_order_and_grades():
    rows = [
        {"muscle": "piriformis", "side": "left", "tension": 2, "tenderness": 3},
        {"muscle": "erector_spinae", "side": "both", "tension": 0, "tenderness": 1},
    ]
    assert soap.as_json(soap.palpation_findings(rows)) == rows


@pytest.mark.parametrize(
    "row",
    [
        {"muscle": "heart", "side": "left", "tension": 1, "tenderness": 1},
        {"muscle": "piriformis", "side": "up", "tension": 1, "tenderness": 1},
        {"muscle": "piriformis", "side": "left", "tension": 4, "tenderness": 1},
        {"muscle": "piriformis", "side": "left", "tension": True, "tenderness": 1},
        {"muscle": "piriformis", "side": "left", "tension": "2", "tenderness": 1},
        {"muscle": "piriformis", "side": "left", "tension": 1},
    ],
)
def test_a_palpation_finding_outside_the_vocabulary_is_refused(row):
    with pytest.raises(soap.NoteFieldError) as refused:
        soap.palpation_findings([row])
    assert refused.value.field == "palpation"


def test_the_same_muscle_and_side_is_palpated_once():
    row = {"muscle": "piriformis", "side": "left", "tension": 1, "tenderness": 1}
    with pytest.raises(soap.NoteFieldError, match="once"):
        soap.palpation_findings([row, row])


def test_adverse_events_need_a_known_kind_and_severity_and_other_needs_words():
    events = soap.adverse_events(
        [
            {"kind": "soreness", "severity": "mild"},
            {"kind": "other", "severity": "moderate", "note": " Headache "},
        ]
    )
    assert events == (
        soap.AdverseEvent("soreness", "mild"),
        soap.AdverseEvent("other", "moderate", "Headache"),
    )
    for bad in (
        {"kind": "nausea", "severity": "mild"},
        {"kind": "bruising", "severity": "awful"},
        {"kind": "other", "severity": "mild"},
        {"kind": "dizziness", "severity": "mild", "note": "x" * 301},
    ):
        with pytest.raises(soap.NoteFieldError):
            soap.adverse_events([bad])
    with pytest.raises(soap.NoteFieldError, match="once"):
        soap.adverse_events([{"kind": "bruising", "severity": "mild"}] * 2)


def test_coded_choices_are_stored_in_vocabulary_order_without_repeats():
    assert soap.coded("posture", ["guarding", "scoliosis", "guarding"], soap.POSTURE_FINDINGS) == [
        "scoliosis",
        "guarding",
    ]
    with pytest.raises(soap.NoteFieldError):
        soap.coded("posture", ["slouching"], soap.POSTURE_FINDINGS)
    assert soap.body_map_regions("treated_regions", ["piriformis:right"]) == ["piriformis:right"]
    with pytest.raises(soap.NoteFieldError):
        soap.body_map_regions("treated_regions", ["piriformis:both"])


def test_a_label_falls_back_to_the_code():
    assert soap.label_of("prone", soap.POSITIONS) == "Prone (face down)"
    assert soap.label_of("handstand", soap.POSITIONS) == "handstand"
