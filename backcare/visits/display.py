"""A visit note's fields in words, for the read-only note and its amendments."""

from collections.abc import Mapping
from typing import Any

from backcare.clinical.body import MUSCLES, body_map_codes
from backcare.visits import soap
from backcare.visits.forms import NoteForm

# The read-only note, section by section, in SOAP order.
SUMMARY_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "S · Subjective",
        ("subjective", "changes_since_last", "pain_regions", "pain_before", "analgesic_days"),
    ),
    (
        "O · Objective",
        ("palpation", "posture", "posture_note", "schober_span_cm", "fingertip_floor_cm"),
    ),
    ("Treatment", ("position", "treated_regions")),
    ("A · Assessment", ("assessment", "pain_after", "adverse_events")),
    ("P · Plan", ("next_focus", "home_care", "plan_changes")),
)
_EXTRA_LABELS = {"palpation": "Palpation findings", "adverse_events": "Adverse events"}


def label(name: str) -> str:
    """The label of a note field, as on the form."""
    if name in _EXTRA_LABELS:
        return _EXTRA_LABELS[name]
    return str(NoteForm.base_fields[name].label)


def value_text(name: str, value: Any) -> str:
    """A stored value of note field `name` in words; "—" when empty."""
    if value in (None, "", []):
        return "—"
    muscles = {m.code: m.label for m in MUSCLES}
    match name:
        case "pain_regions" | "treated_regions":
            return "; ".join(soap.label_of(code, body_map_codes()) for code in value)
        case "posture":
            return "; ".join(soap.label_of(code, soap.POSTURE_FINDINGS) for code in value)
        case "position":
            return soap.label_of(value, soap.POSITIONS)
        case "palpation":
            return "; ".join(
                f"{muscles.get(row['muscle'], row['muscle'])}, {row['side']}: tension "
                f"{row['tension']}, tenderness {row['tenderness']}"
                for row in value
            )
        case "adverse_events":
            return "; ".join(
                f"{soap.label_of(row['kind'], soap.ADVERSE_KINDS)} "
                f"({row['severity']}){': ' + row['note'] if row.get('note') else ''}"
                for row in value
            )
        case "pain_before" | "pain_after":
            return f"{value}/10"
        case "analgesic_days":
            return f"{value} of 7 days"
        case "schober_span_cm" | "fingertip_floor_cm":
            return f"{value} cm"
    return str(value)


def note_summary(values: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section title, [(label, value in words)]) for every section of the note."""
    return [
        (title, [(label(name), value_text(name, values[name])) for name in names])
        for title, names in SUMMARY_SECTIONS
    ]


def change_summary(changes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, new value in words) of an amendment's corrected fields, in the note's order."""
    order = [name for _, names in SUMMARY_SECTIONS for name in names]
    return [(label(name), value_text(name, changes[name])) for name in order if name in changes]
