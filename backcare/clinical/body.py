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


@dataclass(frozen=True)
class Muscle:
    """A muscle or tissue of the treated-muscle vocabulary (RULES.md §4.2) and its region."""

    code: str
    label: str
    region: str  # a plain-words region heading for the body map


# RULES.md §4.2 (with its optional leg muscles); laterality is recorded beside the code.
MUSCLES: tuple[Muscle, ...] = (
    Muscle("trapezius_upper", "Upper trapezius (top of the shoulders)", "Neck and shoulders"),
    Muscle("trapezius_middle", "Middle trapezius (between the shoulder blades)", "Upper back"),
    Muscle("trapezius_lower", "Lower trapezius (below the shoulder blades)", "Upper back"),
    Muscle("rhomboids", "Rhomboids (between the shoulder blades)", "Upper back"),
    Muscle("latissimus_dorsi", "Latissimus dorsi (side of the back)", "Upper back"),
    Muscle("serratus_posterior_inferior", "Serratus posterior inferior (lower ribs)", "Upper back"),
    Muscle("erector_spinae", "Erector spinae (muscles beside the spine)", "Lower back"),
    Muscle("multifidus", "Multifidus (deep muscles of the lower spine)", "Lower back"),
    Muscle("quadratus_lumborum", "Quadratus lumborum (between ribs and hip)", "Lower back"),
    Muscle("thoracolumbar_fascia", "Thoracolumbar fascia (lower back)", "Lower back"),
    Muscle("gluteus_maximus", "Gluteus maximus (buttock)", "Hips and buttocks"),
    Muscle("gluteus_medius", "Gluteus medius (side of the hip)", "Hips and buttocks"),
    Muscle("gluteus_minimus", "Gluteus minimus (deep side of the hip)", "Hips and buttocks"),
    Muscle("piriformis", "Piriformis (deep in the buttock)", "Hips and buttocks"),
    Muscle("iliopsoas", "Iliopsoas (front of the hip)", "Hips and buttocks"),
    Muscle("tensor_fasciae_latae", "Tensor fasciae latae (outer hip)", "Legs"),
    Muscle("hamstrings", "Hamstrings (back of the thigh)", "Legs"),
    Muscle("adductors", "Adductors (inner thigh)", "Legs"),
)
MUSCLE_CODES = frozenset(m.code for m in MUSCLES)
SIDES = (("left", "Left"), ("right", "Right"))


def body_map_codes() -> list[tuple[str, str]]:
    """(code, label) of every muscle and side, e.g. ("piriformis:left", "Piriformis ..., left")."""
    return [
        (f"{m.code}:{side}", f"{m.label}, {label.lower()}")
        for m in MUSCLES
        for side, label in SIDES
    ]


def body_map_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """`body_map_codes()` grouped under each muscle's region heading, in vocabulary order:
    [("Neck and shoulders", [("trapezius_upper:left", ...), ...]), ...] (Django's grouped
    choices)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for m in MUSCLES:
        groups.setdefault(m.region, []).extend(
            (f"{m.code}:{side}", f"{m.label}, {label.lower()}") for side, label in SIDES
        )
    return list(groups.items())


# The clinical regions (CLINICAL_REGIONS) each muscle lies in, from the region column of RULES.md
# §4.2; "{side}" is the side worked. Used to keep planned and recorded work out of regions the
# contraindication result says to avoid.
_MUSCLE_REGIONS: dict[str, tuple[str, ...]] = {
    "trapezius_upper": ("neck", "shoulder_{side}"),
    "trapezius_middle": ("thoracic",),
    "trapezius_lower": ("thoracic",),
    "rhomboids": ("thoracic",),
    "latissimus_dorsi": ("thoracic", "lumbar"),
    "serratus_posterior_inferior": ("thoracic",),
    "erector_spinae": ("thoracic", "lumbar"),
    "multifidus": ("lumbar",),
    "quadratus_lumborum": ("lumbar",),
    "thoracolumbar_fascia": ("lumbar",),
    "gluteus_maximus": ("gluteal_{side}",),
    "gluteus_medius": ("gluteal_{side}",),
    "gluteus_minimus": ("gluteal_{side}",),
    "piriformis": ("gluteal_{side}",),
    "iliopsoas": ("abdominal",),
    "tensor_fasciae_latae": ("gluteal_{side}", "leg_{side}"),
    "hamstrings": ("leg_{side}",),
    "adductors": ("leg_{side}",),
}
WORK_SIDES = ("left", "right", "both")


def regions_of(muscle: str, side: str) -> frozenset[str]:
    """The clinical region codes that work on `muscle` on `side` (left, right or both) touches.
    Raises ValueError for an unknown muscle or side."""
    if muscle not in _MUSCLE_REGIONS:
        raise ValueError(f"unknown muscle {muscle!r}")
    if side not in WORK_SIDES:
        raise ValueError(f"side must be one of {', '.join(WORK_SIDES)}")
    sides = ("left", "right") if side == "both" else (side,)
    return frozenset(
        template.format(side=each) for template in _MUSCLE_REGIONS[muscle] for each in sides
    )
