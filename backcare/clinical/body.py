"""Body areas a patient can name in plain words, for "please do not touch" preferences.

A coarse, patient-facing vocabulary. The treated-muscle vocabulary of RULES.md §4.2 (body-map
codes with laterality) refines these areas for plans and visit notes.
"""

from dataclasses import dataclass

VOCABULARY_VERSION = "body-areas-1"


@dataclass(frozen=True)
class BodyArea:
    """A region code and its plain-words label."""

    code: str
    label: str


BODY_AREAS: tuple[BodyArea, ...] = (
    BodyArea("head_face", "Head and face"),
    BodyArea("neck", "Neck"),
    BodyArea("shoulders", "Shoulders"),
    BodyArea("upper_back", "Upper back"),
    BodyArea("lower_back", "Lower back"),
    BodyArea("chest", "Chest"),
    BodyArea("abdomen", "Abdomen (belly)"),
    BodyArea("buttocks", "Buttocks"),
    BodyArea("arms", "Arms"),
    BodyArea("hands", "Hands"),
    BodyArea("legs", "Legs"),
    BodyArea("feet", "Feet"),
)

BODY_AREA_CODES = frozenset(area.code for area in BODY_AREAS)


def unknown_areas(codes: list[str]) -> list[str]:
    """The codes in `codes` that are not body areas, in their given order."""
    return [code for code in codes if code not in BODY_AREA_CODES]


# Clinical regions for contraindications and plans (RULES.md §2 and the region column of §4.2),
# with laterality where the rules need it (an affected limb).
CLINICAL_REGIONS: tuple[BodyArea, ...] = (
    BodyArea("head", "Head and face"),
    BodyArea("neck", "Neck (cervical)"),
    BodyArea("shoulder_left", "Left shoulder"),
    BodyArea("shoulder_right", "Right shoulder"),
    BodyArea("thoracic", "Upper and mid back (thoracic)"),
    BodyArea("lumbar", "Lower back (lumbar)"),
    BodyArea("sacral", "Sacrum and pelvis (sacral)"),
    BodyArea("gluteal_left", "Left buttock and hip"),
    BodyArea("gluteal_right", "Right buttock and hip"),
    BodyArea("abdominal", "Abdomen and front of the hips"),
    BodyArea("chest", "Chest"),
    BodyArea("arm_left", "Left arm"),
    BodyArea("arm_right", "Right arm"),
    BodyArea("leg_left", "Left leg"),
    BodyArea("leg_right", "Right leg"),
    BodyArea("foot_left", "Left foot"),
    BodyArea("foot_right", "Right foot"),
)
CLINICAL_REGION_CODES = frozenset(region.code for region in CLINICAL_REGIONS)
SPINAL_REGIONS = frozenset({"neck", "thoracic", "lumbar", "sacral"})
