"""The condition table of RULES.md §2.2, one row per condition with its source; combination
rules; clinic settings shown against their defaults."""

import pytest

from backcare.clinical import contraindications
from backcare.clinical.contraindications import (
    DEFAULT_SETTINGS,
    ContraindicationAnswers,
    Massage,
    Medical,
    assess,
    describe,
    settings_with,
)
from backcare.clinical.errors import ClinicalInputError

# (answers, massage, medical, expected attributes, source)
CONDITION_TABLE = [
    ({}, Massage.PROCEED, Medical.NONE, {"conditions": ()}, "no condition"),
    (
        {"suspected_dvt": True},
        Massage.POSTPONE,
        Medical.URGENT_MEDICAL,
        {"conditions": ("CI-DVT-SUSPECTED",)},
        "NCCIH (no massage with blood clots); Ernst 2003",
    ),
    (
        {"suspected_dvt": True, "dvt_chest_pain_or_breathless": True},
        Massage.POSTPONE,
        Medical.EMERGENCY,
        {},
        "Possible PE: emergency (RULES.md §2.2)",
    ),
    (
        {"diagnosed_dvt_on_treatment": True, "dvt_limb": "leg_left"},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {
            "clearance_required": ("physician",),
            "regional_pressure_caps": (("leg_left", 0),),
            "max_pressure_level": 3,
        },
        "Walton (affected limb level 0; anticoagulant rules apply)",
    ),
    (
        {"anticoagulant_or_bleeding_disorder": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {
            "max_pressure_level": 3,
            "excluded_techniques": (
                "cupping",
                "deep_tissue",
                "instrument_assisted",
                "tapotement",
                "trigger_point",
            ),
        },
        "NCCIH (avoid forceful and deep tissue massage); cap 3 ⚙",
    ),
    ({"fever": True}, Massage.POSTPONE, Medical.NONE_UNLESS_RED_FLAG, {}, "Multiple lists ⚙"),
    (
        {"skin_lesion_regions": frozenset({"thoracic"})},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"region_restrictions": ("thoracic",)},
        "NCCIH (local: avoid the area)",
    ),
    (
        {"recent_fracture_region": "arm_right", "weeks_since_fracture": 2},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"region_restrictions": ("arm_right",), "clearance_required": ()},
        "NCCIH (fractures); 6 weeks ⚙",
    ),
    (
        {"recent_fracture_region": "lumbar", "weeks_since_fracture": 2},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"region_restrictions": ("lumbar",), "clearance_required": ("physician",)},
        "NCCIH (fractures; refer if spinal)",
    ),
    (
        {"recent_fracture_region": "arm_right", "weeks_since_fracture": 6},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"region_restrictions": ("arm_right",)},
        "The ⚙ 6-week window is inclusive (safe side)",
    ),
    (
        {"recent_fracture_region": "arm_right", "weeks_since_fracture": 7},
        Massage.PROCEED,
        Medical.NONE,
        {"region_restrictions": ()},
        "After the ⚙ 6-week window",
    ),
    (
        {"recent_surgery_region": "lumbar", "weeks_since_surgery": 3},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"region_restrictions": ("lumbar",), "clearance_required": ("surgeon",)},
        "NCCIH (recent surgery); 6 weeks ⚙",
    ),
    (
        {"osteoporosis": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"max_pressure_level": 3, "excluded_techniques": ("spinal_mobilisation", "tapotement")},
        "NCCIH (weakened bones); cap 3 ⚙",
    ),
    (
        {"severe_osteoporosis": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"max_pressure_level": 2},
        "Severe osteoporosis cap 2 ⚙",
    ),
    (
        {
            "active_cancer": True,
            "tumour_region": "thoracic",
            "irradiated_regions": frozenset({"chest"}),
        },
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {
            "clearance_required": ("oncologist",),
            "max_pressure_level": 3,
            "region_restrictions": ("chest", "thoracic"),
        },
        "NCCIH; Walton cancer guidelines",
    ),
    (
        {"active_cancer": True, "bone_metastasis": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"max_pressure_level": 1},
        "Walton (bone metastasis: when in doubt level 1)",
    ),
    (
        {"active_cancer": True, "unknown_primary": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"max_pressure_level": 2},
        "Walton (unknown primary: levels 1-2)",
    ),
    (
        {"lymphoedema_limb": "arm_left"},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"regional_pressure_caps": (("arm_left", 2),)},
        "Walton (gentle pressure on that limb)",
    ),
    (
        {"pregnant": True, "gestation_weeks": 24},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {
            "positions": ("seated", "side_lying"),
            "regional_pressure_caps": (("leg_left", 2), ("leg_right", 2)),
        },
        "Mueller & Grunwald 2021; positioning after 20 weeks ⚙",
    ),
    (
        {"pregnant": True, "gestation_weeks": 12},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"positions": ()},
        "Before 20 weeks no positioning rule ⚙",
    ),
    (
        {"pregnant": True, "gestation_weeks": 30, "reduced_fetal_movement": True},
        Massage.POSTPONE,
        Medical.URGENT_MEDICAL,
        {"region_restrictions": ()},
        "Pregnancy warning signs (common practice lists ⚙)",
    ),
    (
        {"disc_herniation_with_radiculopathy": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"conditions": ("CI-RADICULOPATHY",)},
        "NICE NG59 1.2.7; KNGF 2021",
    ),
    (
        {"known_aaa": True},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"region_restrictions": ("abdominal",), "excluded_techniques": ("deep_abdominal_work",)},
        "RF-AAA-2 (mechanical caution ⚙)",
    ),
    (
        {"pulsatile_abdominal_mass": True},
        Massage.POSTPONE,
        Medical.EMERGENCY,
        {},
        "BMJ Best Practice AAA",
    ),
    (
        {"known_aaa": True, "new_or_changed_pain": True},
        Massage.POSTPONE,
        Medical.EMERGENCY,
        {},
        "RF-AAA-1 (known AAA with new pain)",
    ),
    (
        {"collapse_or_faintness": True},
        Massage.POSTPONE,
        Medical.EMERGENCY,
        {},
        "RF-AAA-1 (collapse)",
    ),
    (
        {"calf_pain_or_swelling": True},
        Massage.POSTPONE,
        Medical.URGENT_MEDICAL,
        {},
        "Warning sign without the pregnancy flag still postpones (also a DVT sign)",
    ),
    (
        {"varicose_vein_regions": frozenset({"leg_right"})},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"regional_pressure_caps": (("leg_right", 2),), "region_restrictions": ("leg_right",)},
        "Common lists (no deep pressure over varicose veins; region restricted)",
    ),
    ({"uncontrolled_hypertension": True}, Massage.POSTPONE, Medical.GP_REVIEW, {}, "Common lists"),
    ({"unstable_cardiac_disease": True}, Massage.POSTPONE, Medical.GP_REVIEW, {}, "Common lists"),
    (
        {"neuropathy_regions": frozenset({"foot_left", "foot_right"})},
        Massage.PROCEED_WITH_PRECAUTIONS,
        Medical.NONE,
        {"regional_pressure_caps": (("foot_left", 2), ("foot_right", 2))},
        "Reduce pressure where sensation is lost ⚙",
    ),
]


@pytest.mark.parametrize(("answers", "massage", "medical", "attributes", "source"), CONDITION_TABLE)
def test_each_condition_gives_its_decision(answers, massage, medical, attributes, source):
    result = assess(ContraindicationAnswers(**answers))
    assert (result.massage, result.medical) == (massage, medical), source
    for name, value in attributes.items():
        assert getattr(result, name) == value, f"{name}: {source}"


def test_conditions_combine_to_the_most_restrictive():
    result = assess(
        ContraindicationAnswers(
            osteoporosis=True,
            anticoagulant_or_bleeding_disorder=True,
            active_cancer=True,
            bone_metastasis=True,
            recent_surgery_region="lumbar",
            weeks_since_surgery=1,
        )
    )
    assert result.max_pressure_level == 1
    assert result.clearance_required == ("oncologist", "surgeon")
    assert set(result.excluded_techniques) >= {"spinal_mobilisation", "deep_tissue", "tapotement"}


def test_a_postponed_session_reports_no_restriction_details():
    result = assess(
        ContraindicationAnswers(
            fever=True, osteoporosis=True, skin_lesion_regions=frozenset({"lumbar"})
        )
    )
    assert result.massage == Massage.POSTPONE
    assert (result.max_pressure_level, result.region_restrictions, result.excluded_techniques) == (
        None,
        (),
        (),
    )


def test_a_clinic_may_change_the_numbers_and_the_defaults_stay_visible():
    stricter = settings_with(osteoporosis_max_pressure=2, surgery_weeks=8)
    assert assess(ContraindicationAnswers(osteoporosis=True), stricter).max_pressure_level == 2
    late = ContraindicationAnswers(recent_surgery_region="lumbar", weeks_since_surgery=7)
    assert assess(late).region_restrictions == ()
    assert assess(late, stricter).region_restrictions == ("lumbar",)
    rows = {name: (value, default) for name, value, default, _ in describe(stricter)}
    assert rows["osteoporosis_max_pressure"] == (2, 3)
    assert rows["fracture_weeks"] == (6, 6)
    assert all(source for *_, source in describe(DEFAULT_SETTINGS))


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"osteoporosis_max_pressure": 6}, "value_out_of_range"), ({"no_such": 1}, "unknown_item")],
)
def test_bad_settings_are_refused(changes, code):
    with pytest.raises(ClinicalInputError) as raised:
        settings_with(**changes)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("answers", "code", "item"),
    [
        ({"recent_surgery_region": "back"}, "unknown_region", "recent_surgery_region"),
        ({"recent_surgery_region": "lumbar"}, "missing_item", "weeks_since_surgery"),
        ({"gestation_weeks": 50}, "value_out_of_range", "gestation_weeks"),
        ({"fever": "yes"}, "not_a_boolean", "fever"),
        ({"skin_lesion_regions": frozenset({"elbow"})}, "unknown_region", "skin_lesion_regions"),
        ({"skin_lesion_regions": "lumbar"}, "not_a_list", "skin_lesion_regions"),
    ],
)
def test_invalid_answers_name_the_item(answers, code, item):
    with pytest.raises(ClinicalInputError) as raised:
        ContraindicationAnswers(**answers)
    assert (raised.value.code, raised.value.item) == (code, item)


@pytest.mark.parametrize(
    ("mapping", "code"),
    [
        ({"feverish": True}, "unknown_item"),
        ({"skin_lesion_regions": None}, "not_a_list"),
        ({"skin_lesion_regions": "lumbar"}, "not_a_list"),
        ({"skin_lesion_regions": [{"region": "lumbar"}]}, "unknown_region"),
        (None, "not_a_mapping"),
    ],
)
def test_building_from_a_vector_refuses_malformed_input_with_a_named_error(mapping, code):
    with pytest.raises(ClinicalInputError) as raised:
        ContraindicationAnswers.from_mapping(mapping)
    assert raised.value.code == code


# --- check_work: planned or applied work against the limits (RULES.md §2) -----------------------

LIMITS = contraindications.TreatmentLimits(
    max_pressure_level=3,
    regional_pressure_caps={"lumbar": 2},
    excluded_techniques=frozenset({"deep_tissue"}),
    avoid_regions=frozenset({"leg_left"}),
)


@pytest.mark.parametrize(
    ("technique", "regions", "pressure", "kinds"),
    [
        # Within every limit.
        ("swedish", {"thoracic"}, 3, []),
        # §2.1: a global pressure cap (e.g. osteoporosis, anticoagulants) is not exceeded.
        ("swedish", {"thoracic"}, 4, ["pressure_cap"]),
        # §2.2: a regional cap (e.g. over a bone-metastasis region) wins where it is lower.
        ("swedish", {"lumbar"}, 3, ["pressure_cap"]),
        ("swedish", {"lumbar"}, 2, []),
        # §2.2: avoid the affected limb (DVT, varicose veins); refused, not acknowledged.
        ("swedish", {"leg_left"}, 1, ["avoid_region"]),
        # §2.1: excluded techniques (deep tissue with anticoagulants) need an acknowledged reason.
        ("deep_tissue", {"thoracic"}, 2, ["excluded_technique"]),
        (
            "deep_tissue",
            {"leg_left", "lumbar"},
            5,
            ["avoid_region", "pressure_cap", "excluded_technique"],
        ),
    ],
)
def test_work_is_checked_against_caps_regions_and_excluded_techniques(
    technique, regions, pressure, kinds
):
    work = contraindications.Work(technique, frozenset(regions), pressure)
    problems = contraindications.check_work(work, LIMITS)
    assert [p.kind for p in problems] == kinds
    assert [p.acknowledgeable for p in problems] == [k == "excluded_technique" for k in kinds]


def test_a_pressure_above_the_cap_says_which_level_is_allowed():
    work = contraindications.Work("swedish", frozenset({"lumbar"}), 4)
    [problem] = contraindications.check_work(work, LIMITS)
    assert problem.message == (
        "Pressure level 4 is above the cap of 2 for this patient; choose level 2 or lower."
    )


def test_no_limits_ask_nothing():
    work = contraindications.Work("deep_tissue", frozenset({"lumbar"}), 5)
    assert contraindications.check_work(work, contraindications.TreatmentLimits()) == ()


@pytest.mark.parametrize("pressure", [0, 6, "3"])
def test_a_pressure_level_outside_one_to_five_is_an_error(pressure):
    work = contraindications.Work("swedish", frozenset(), pressure)
    with pytest.raises(ClinicalInputError):
        contraindications.check_work(work, LIMITS)
