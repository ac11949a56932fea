"""The body vocabulary: each muscle's clinical regions (RULES.md §4.2)."""

import pytest

from backcare.clinical import body

# --- regions_of: the region column of RULES.md §4.2 ---------------------------------------------


@pytest.mark.parametrize(
    ("muscle", "side", "regions"),
    [
        ("erector_spinae", "left", {"thoracic", "lumbar"}),  # §4.2: thoracic and lumbar
        ("quadratus_lumborum", "right", {"lumbar"}),  # §4.2: lumbar
        ("piriformis", "both", {"gluteal_left", "gluteal_right"}),  # §4.2: hip
        ("iliopsoas", "left", {"abdominal"}),  # §4.2: abdominal / anterior hip
        ("trapezius_upper", "right", {"neck", "shoulder_right"}),  # §4.2: neck
        ("hamstrings", "left", {"leg_left"}),  # §4.2 optional legs
    ],
)
def test_work_on_a_muscle_touches_the_regions_of_its_row(muscle, side, regions):
    assert body.regions_of(muscle, side) == frozenset(regions)


def test_every_muscle_has_regions_that_are_clinical_regions():
    for muscle in body.MUSCLE_CODES:
        assert body.regions_of(muscle, "both") <= body.CLINICAL_REGION_CODES


@pytest.mark.parametrize(("muscle", "side"), [("biceps", "left"), ("piriformis", "middle")])
def test_an_unknown_muscle_or_side_is_refused(muscle, side):
    with pytest.raises(ValueError, match=r"unknown muscle|side must be"):
        body.regions_of(muscle, side)


# --- body-map choices ------------------------------------------------------------------------


def test_body_map_groups_hold_every_code_once_under_its_muscles_region():
    groups = body.body_map_groups()
    flat = [choice for _, choices in groups for choice in choices]
    assert sorted(flat) == sorted(body.body_map_codes())
    region = {m.code: m.region for m in body.MUSCLES}
    assert all(region[code.split(":")[0]] == title for title, ch in groups for code, _ in ch)
    assert [title for title, _ in groups] == [
        "Neck and shoulders",
        "Upper back",
        "Lower back",
        "Hips and buttocks",
        "Legs",
    ]
