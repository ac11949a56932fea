"""The drawing behind the body map: a plain front and back figure and one area per muscle and
side, in SVG user units. Our own simple shapes, not an anatomical atlas: each area is a tile
placed where the muscle lies and big enough to tap (at least 26 units square; the widget never
draws a unit smaller than a CSS pixel on a 390 px phone, so over the 24 px of WCAG 2.5.8).
Deep and overlapping muscles (multifidus under erector spinae, piriformis under gluteus
maximus) get tiles of their own beside each other, so every tile can be chosen.

Shapes are drawn once, for the half of the figure on the viewer's left, and mirrored for the
other half. On the back view the viewer's left is the patient's left; on the front view it is
the patient's right, as when facing someone.

Nothing clinical here: the keys are the muscle codes of the treated-muscle vocabulary, as text.
"""

import re
from dataclasses import dataclass
from typing import Literal

View = Literal["back", "front"]

WIDTH = 240
HEIGHT = 600
MIDLINE = WIDTH // 2
VIEWS: tuple[View, ...] = ("back", "front")
VIEW_LABELS: dict[View, str] = {"back": "Back", "front": "Front"}
# Which of the patient's sides is drawn on the viewer's left in each view.
SIDE_ON_VIEWERS_LEFT: dict[View, str] = {"back": "left", "front": "right"}

_TOKEN = re.compile(r"[MLQCZ]|-?\d+(?:\.\d+)?")


def rect(x: float, y: float, width: float, height: float, radius: float = 6) -> str:
    """A rounded rectangle as an absolute SVG path (so that it mirrors like any other path)."""
    r = radius
    right, bottom = x + width, y + height
    return (
        f"M {x + r} {y} L {right - r} {y} Q {right} {y} {right} {y + r} "
        f"L {right} {bottom - r} Q {right} {bottom} {right - r} {bottom} "
        f"L {x + r} {bottom} Q {x} {bottom} {x} {bottom - r} "
        f"L {x} {y + r} Q {x} {y} {x + r} {y} Z"
    )


def mirror(path: str) -> str:
    """`path` reflected across the figure's midline. Paths here use only absolute M, L, Q, C
    and Z commands, so every number pair is an x, y point."""
    out: list[str] = []
    numbers: list[str] = []
    for token in _TOKEN.findall(path):
        if token.isalpha():
            out.append(token)
            continue
        numbers.append(token)
        if len(numbers) == 2:
            x, y = numbers
            out.append(f"{_number(WIDTH - float(x))} {y}")
            numbers = []
    if numbers or "".join(_TOKEN.findall(path)) != re.sub(r"[\s,]", "", path):
        raise ValueError(f"not an absolute M/L/Q/C/Z path: {path!r}")
    return " ".join(out)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


@dataclass(frozen=True)
class Area:
    """Where a muscle is drawn: its view and its outline on the viewer's left half."""

    view: View
    path: str

    def path_for(self, side: str) -> str:
        """The outline of this muscle on the patient's `side` ("left" or "right")."""
        if side not in ("left", "right"):
            raise ValueError(f"side must be left or right, not {side!r}")
        return self.path if SIDE_ON_VIEWERS_LEFT[self.view] == side else mirror(self.path)


AREAS: dict[str, Area] = {
    # Back view, from the shoulders down. Columns on each half: beside the spine (x 92-118),
    # the middle of the back (x 62-90) and its outer edge.
    "trapezius_upper": Area("back", "M 108 74 L 108 112 L 48 118 Q 42 102 58 94 Z"),
    "trapezius_middle": Area("back", rect(62, 122, 56, 28)),
    "rhomboids": Area("back", rect(92, 154, 26, 34)),
    "latissimus_dorsi": Area("back", "M 46 158 L 88 158 L 88 228 L 64 244 L 48 230 Z"),
    "trapezius_lower": Area("back", rect(92, 192, 26, 34)),
    "erector_spinae": Area("back", rect(92, 230, 26, 56)),
    "serratus_posterior_inferior": Area("back", rect(62, 248, 26, 28)),
    "multifidus": Area("back", rect(92, 290, 26, 30)),
    "quadratus_lumborum": Area("back", rect(62, 280, 26, 40)),
    "thoracolumbar_fascia": Area("back", rect(62, 324, 56, 26)),
    "gluteus_medius": Area("back", rect(50, 354, 40, 28)),
    "gluteus_minimus": Area("back", rect(44, 386, 26, 28)),
    "piriformis": Area("back", rect(74, 386, 44, 26)),
    "gluteus_maximus": Area("back", "M 56 418 L 118 418 L 118 446 Q 86 456 60 444 Z"),
    "hamstrings": Area("back", rect(62, 464, 44, 96, 14)),
    # Front view.
    "iliopsoas": Area(
        "front", "M 92 316 L 116 316 L 116 374 Q 112 398 98 406 L 82 400 Q 86 356 92 316 Z"
    ),
    "tensor_fasciae_latae": Area("front", rect(48, 356, 28, 44, 10)),
    "adductors": Area("front", rect(86, 434, 28, 90, 12)),
}

# The silhouette, shared by both views: pieces for the viewer's left half (mirrored), then
# pieces on the midline. Drawn as one outline (see the widget's template).
_HALF_BODY = (
    "M 120 80 L 72 86 Q 44 90 40 114 L 42 180 Q 46 250 58 300 Q 48 330 44 370 L 46 440 L 120 450 Z",
    "M 46 98 Q 26 104 24 140 L 16 250 L 12 320 Q 10 340 22 340 Q 28 338 28 326 L 34 256 L 44 176 Z",
    "M 48 420 L 118 420 L 116 470 L 110 560 L 106 640 L 112 660 L 78 660 L 78 630 "
    "L 68 560 L 54 470 Z",
)
_MIDLINE_BODY = (
    rect(108, 56, 24, 30, 4),
    "M 120 6 Q 146 6 146 36 Q 146 68 120 68 Q 94 68 94 36 Q 94 6 120 6 Z",
)
BODY: tuple[str, ...] = (*_HALF_BODY, *(mirror(p) for p in _HALF_BODY), *_MIDLINE_BODY)

# Landmarks that tell the views apart at a glance: the spine and sacrum behind, the collarbones
# and navel in front.
_COLLARBONE = "M 76 100 Q 98 92 114 98"
LANDMARKS: dict[View, tuple[str, ...]] = {
    "back": ("M 120 90 L 120 346", "M 106 354 L 134 354 L 120 382 Z"),
    "front": (
        _COLLARBONE,
        mirror(_COLLARBONE),
        "M 117 300 Q 117 297 120 297 Q 123 297 123 300 Q 123 303 120 303 Q 117 303 117 300 Z",
    ),
}
