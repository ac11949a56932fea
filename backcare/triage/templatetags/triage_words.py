"""Filters that put the safety codes of stored screenings into words on pages and letters."""

from django import template

from backcare.triage import vocabulary
from backcare.triage.models import TriageAssessment
from backcare.triage.queries import overall_level

register = template.Library()


@register.filter
def readable(code: str) -> str:
    """An item, condition, region or technique code in words."""
    return vocabulary.readable(str(code))


@register.filter
def level_label(level: str) -> str:
    """An action level in plain words (the code is shown beside it by the template)."""
    return vocabulary.LEVEL_LABELS.get(str(level), str(level))


@register.filter
def massage_label(value: str) -> str:
    return vocabulary.MASSAGE_LABELS.get(str(value), str(value))


@register.filter
def medical_label(value: str) -> str:
    return vocabulary.MEDICAL_LABELS.get(str(value), str(value))


@register.filter
def position_label(value: str) -> str:
    return vocabulary.POSITION_LABELS.get(str(value), vocabulary.readable(str(value)))


@register.filter
def question(item: str) -> str:
    """The re-screen question that asks an item, or the item in words."""
    return vocabulary.question_for(str(item))


@register.filter
def screening_level(assessment: TriageAssessment) -> str:
    """A screening's overall level (red flags raised by the contraindications)."""
    return overall_level(assessment)


@register.simple_tag
def clearance_vocabulary() -> dict[str, object]:
    """The techniques and pressure levels a clearance may restrict (RULES.md §2.1)."""
    return {"techniques": vocabulary.TECHNIQUES, "pressure_levels": vocabulary.PRESSURE_LEVELS}
