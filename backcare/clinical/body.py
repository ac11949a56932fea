"""Body areas a patient can name in plain words, for "please do not touch" preferences.

A coarse, patient-facing vocabulary. The treated-muscle vocabulary of RULES.md §4.2 (body-map
codes with laterality) refines these areas for plans and visit notes.
"""

from dataclasses import dataclass

VOCABULARY_VERSION = "body-areas-1"


@dataclass(frozen=True)
class BodyArea:
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
