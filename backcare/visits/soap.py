"""The structured parts of a SOAP visit note (RULES.md §4.1 and the session documentation
fields of §4.2): palpation findings per muscle and side with tension and tenderness graded 0-3,
coded posture observations, the treatment position, body-map regions, and adverse events with
their severity.

Pure Python, no Django: the visit services validate a note's structured fields with these
functions before storing them as JSON, so that what feeds reports is never free text.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from backcare.clinical.body import MUSCLE_CODES, WORK_SIDES, body_map_codes

VOCABULARY_VERSION = "visit-note-1"

# Palpation grades (⚙ project convention, descriptive only: no validated scale is implied).
GRADES: tuple[tuple[int, str], ...] = (
    (0, "0 · none"),
    (1, "1 · mild"),
    (2, "2 · moderate"),
    (3, "3 · marked"),
)
POSITIONS: tuple[tuple[str, str], ...] = (
    ("prone", "Prone (face down)"),
    ("side_lying", "Side-lying"),
    ("supine", "Supine (face up)"),
    ("seated", "Seated"),
)
# RULES.md §4.1, "Posture / observation": coded, not scored.
POSTURE_FINDINGS: tuple[tuple[str, str], ...] = (
    ("lateral_shift", "Lateral shift"),
    ("lordosis_increased", "Lumbar lordosis increased"),
    ("lordosis_decreased", "Lumbar lordosis decreased"),
    ("scoliosis", "Visible scoliosis"),
    ("guarding", "Guarding"),
    ("pelvic_asymmetry", "Pelvic asymmetry"),
)
# RULES.md §4.2, session documentation fields: soreness > 48 h, bruising, dizziness, new
# neurological symptoms; "other" needs a few words saying what.
ADVERSE_KINDS: tuple[tuple[str, str], ...] = (
    ("soreness", "Soreness"),
    ("bruising", "Bruising"),
    ("dizziness", "Dizziness"),
    ("new_neurological", "New neurological symptoms"),
    ("other", "Other"),
)
SEVERITIES: tuple[tuple[str, str], ...] = (
    ("mild", "Mild"),
    ("moderate", "Moderate"),
    ("severe", "Severe"),
)
MAX_NOTE_CHARS = 300
MAX_PALPATION_FINDINGS = 24


class NoteFieldError(ValueError):
    """A structured field of a note that breaks the vocabulary; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PalpationFinding:
    """Tension and tenderness of one muscle on one side, each graded 0-3."""

    muscle: str
    side: str
    tension: int
    tenderness: int


@dataclass(frozen=True)
class AdverseEvent:
    """An adverse event after or during the session, with its severity."""

    kind: str
    severity: str
    note: str = ""


def _grade(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
        raise NoteFieldError("palpation", f"Grade {name} from 0 to 3.")
    return value


def palpation_findings(rows: Iterable[Mapping[str, Any]]) -> tuple[PalpationFinding, ...]:
    """The palpation findings of `rows` ({muscle, side, tension, tenderness}), in order.
    Raises `NoteFieldError` for an unknown muscle or side, a grade outside 0-3, the same muscle
    and side twice, or more than `MAX_PALPATION_FINDINGS` rows."""
    found: list[PalpationFinding] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        muscle, side = row.get("muscle"), row.get("side")
        if muscle not in MUSCLE_CODES:
            raise NoteFieldError("palpation", "Choose each palpated muscle from the list.")
        if side not in WORK_SIDES:
            raise NoteFieldError("palpation", "Choose left, right or both for each muscle.")
        assert isinstance(muscle, str)
        assert isinstance(side, str)
        if (muscle, side) in seen:
            raise NoteFieldError("palpation", "Give each muscle and side once.")
        seen.add((muscle, side))
        found.append(
            PalpationFinding(
                muscle,
                side,
                _grade(row.get("tension"), "tension"),
                _grade(row.get("tenderness"), "tenderness"),
            )
        )
    if len(found) > MAX_PALPATION_FINDINGS:
        raise NoteFieldError(
            "palpation", f"Record at most {MAX_PALPATION_FINDINGS} palpation findings."
        )
    return tuple(found)


def adverse_events(rows: Iterable[Mapping[str, Any]]) -> tuple[AdverseEvent, ...]:
    """The adverse events of `rows` ({kind, severity, note}), one per kind. Raises
    `NoteFieldError` for an unknown kind or severity, a kind given twice, "other" without a
    note saying what, or a note longer than `MAX_NOTE_CHARS`."""
    kinds = dict(ADVERSE_KINDS)
    severities = dict(SEVERITIES)
    found: list[AdverseEvent] = []
    for row in rows:
        kind, severity = row.get("kind"), row.get("severity")
        note = str(row.get("note") or "").strip()
        if kind not in kinds:
            raise NoteFieldError("adverse_events", "Choose each adverse event from the list.")
        if severity not in severities:
            raise NoteFieldError(
                "adverse_events", f"Give the severity of {kinds[str(kind)].lower()}."
            )
        if any(event.kind == kind for event in found):
            raise NoteFieldError("adverse_events", "Give each kind of adverse event once.")
        if kind == "other" and not note:
            raise NoteFieldError("adverse_events", "Say what the other adverse event was.")
        if len(note) > MAX_NOTE_CHARS:
            raise NoteFieldError(
                "adverse_events", f"Keep the adverse event note to {MAX_NOTE_CHARS} characters."
            )
        found.append(AdverseEvent(str(kind), str(severity), note))
    return tuple(found)


def coded(field: str, values: Sequence[str], vocabulary: Iterable[tuple[str, str]]) -> list[str]:
    """The codes of `values` in the order of `vocabulary`, without repeats (so that the same
    choice is always stored the same way); raises `NoteFieldError` naming `field` for a value
    that is not a code of `vocabulary`."""
    order = [code for code, _ in vocabulary]
    unknown = [value for value in values if value not in order]
    if unknown:
        raise NoteFieldError(field, "Choose from the list.")
    return [code for code in order if code in values]


def body_map_regions(field: str, values: Sequence[str]) -> list[str]:
    """Body-map codes ("piriformis:left") of `values`, as `coded` does."""
    return coded(field, values, body_map_codes())


def as_json(items: Iterable[PalpationFinding | AdverseEvent]) -> list[dict[str, Any]]:
    """The findings or events as the JSON stored on the note."""
    return [asdict(item) for item in items]


def label_of(code: str, vocabulary: Iterable[tuple[str, str]]) -> str:
    """The label of `code` in `vocabulary`, or the code itself when it is not one."""
    return dict(vocabulary).get(code, code)
