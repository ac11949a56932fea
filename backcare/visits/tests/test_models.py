"""A signed visit note is immutable in the database too (migration 0003's trigger): raw UPDATEs
that bypass `VisitNote.save()` cannot change its clinical content, its signature or its status
back to draft; marking it entered in error still works, and drafts stay writable."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from backcare.visits import services
from backcare.visits.models import NOTE_FIELDS, NoteStatus, VisitNote
from backcare.visits.tests.factories import VisitWorld

pytestmark = pytest.mark.django_db

# A value for each clinical field that differs from what `_signed` stores.
CHANGED: dict[str, Any] = {
    "subjective": "Rewritten",
    "changes_since_last": "Rewritten",
    "pain_regions": ["neck"],
    "pain_before": 1,
    "analgesic_days": 7,
    "palpation": [{"muscle": "erector_spinae", "side": "left", "tension": 3}],
    "posture": ["flat_back"],
    "posture_note": "Rewritten",
    "schober_span_cm": Decimal("30.0"),
    "fingertip_floor_cm": Decimal("40.0"),
    "position": "seated",
    "treated_regions": ["neck"],
    "assessment": "Rewritten",
    "pain_after": 9,
    "adverse_events": [{"kind": "bruising", "severity": "mild"}],
    "next_focus": "Rewritten",
    "home_care": "Rewritten",
    "plan_changes": "Rewritten",
}


@pytest.fixture
def world() -> VisitWorld:
    return VisitWorld()


def _signed(world: VisitWorld) -> VisitNote:
    visit = world.open()
    services.save_note_draft(
        actor=world.user,
        note_id=visit.note.pk,
        subjective="As signed",
        pain_before=6,
        pain_after=3,
        analgesic_days=2,
        schober_span_cm="21.5",
        fingertip_floor_cm="12.0",
        position="prone",
    )
    return services.sign_note(actor=world.user, note_id=visit.note.pk)


def _refused(note: VisitNote, **values: Any) -> bool:
    """Whether the database refuses an UPDATE that bypasses the model's own guard."""
    try:
        with transaction.atomic():
            VisitNote.objects.filter(pk=note.pk).update(**values)
    except DatabaseError:
        return True
    return False


def test_every_clinical_field_has_a_changed_value_here():
    assert set(CHANGED) == set(NOTE_FIELDS)


@pytest.mark.parametrize("field", NOTE_FIELDS)
def test_the_database_refuses_to_change_a_signed_notes_clinical_field(world, field):
    note = _signed(world)
    assert _refused(note, **{field: CHANGED[field]})
    assert VisitNote.objects.get(pk=note.pk).subjective == "As signed"


def test_the_database_refuses_to_change_a_signed_notes_signature_or_measurements(world):
    note = _signed(world)
    assert _refused(note, signed_at=timezone.now())
    assert _refused(note, signed_by=world.admin)
    assert _refused(note, measurement_ids={})


def test_the_database_refuses_to_turn_a_signed_note_back_into_a_draft(world):
    note = _signed(world)
    assert _refused(note, status=NoteStatus.DRAFT)
    assert VisitNote.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_the_database_refuses_to_change_a_note_entered_in_error(world):
    note = _signed(world)
    services.mark_entered_in_error(actor=world.user, note_id=note.pk, reason="Wrong patient here")
    assert _refused(note, status=NoteStatus.SIGNED)
    assert _refused(note, subjective="Rewritten")


def test_a_signed_note_may_still_be_entered_in_error_and_touched(world):
    note = _signed(world)
    assert not _refused(note, updated_at=timezone.now())
    marked = services.mark_entered_in_error(
        actor=world.user, note_id=note.pk, reason="Wrong patient here"
    )
    assert marked.status == NoteStatus.ENTERED_IN_ERROR
    assert VisitNote.objects.get(pk=note.pk).subjective == "As signed"


def test_a_draft_stays_writable_in_the_database(world):
    note = world.open().note
    assert not _refused(note, subjective="Still typing", pain_before=4)
    assert VisitNote.objects.get(pk=note.pk).subjective == "Still typing"
