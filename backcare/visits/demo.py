"""Demo visits: Maria's past sessions documented and signed, so the visit, progress and outcome
pages show a course under way (pain falling from 7 to 3); and the signed notes of the past
courses of `outcomes.demo.ANALYTICS_COURSES` (one with soreness, one with bruising)."""

from datetime import timedelta

from backcare.core.demo import State
from backcare.visits import services
from backcare.visits.models import NoteStatus, Visit, VisitNote, VisitStatus

# pain before, pain after, days with pain medicine of the last 7, what she said
NOTES = [
    (7, 5, 5, "Stiff after long days at the desk; the right side of the lower back is worst."),
    (5, 4, 3, "Better for two days after the last session; gardening still hard."),
    (4, 3, 1, "Sat through a film without getting up. Less medicine this week."),
]


def build(state: State) -> None:
    _analytics_notes(state)
    therapist = state["users"]["therapist"]
    for appointment, (before, after, days, words) in zip(
        state.get("past_sessions", []), NOTES, strict=False
    ):
        visit = services.open_visit(actor=therapist, appointment_id=appointment.pk)
        if visit.note.status != NoteStatus.DRAFT:
            continue
        services.save_note_draft(
            actor=therapist,
            note_id=visit.note.pk,
            subjective=words,
            pain_before=before,
            pain_after=after,
            analgesic_days=days,
            treated_regions=[
                "erector_spinae:left",
                "erector_spinae:right",
                "quadratus_lumborum:right",
            ],
            assessment="Tone eased in the right quadratus lumborum; moves more freely.",
            next_focus="Keep working the thoracolumbar fascia; add hip flexor stretches.",
        )
        services.sign_note(actor=therapist, note_id=visit.note.pk)


ADVERSE = {
    "swedish": [{"kind": "soreness", "severity": "moderate", "note": ""}],
    "deep_tissue": [{"kind": "bruising", "severity": "mild", "note": ""}],
}


def _analytics_notes(state: State) -> None:
    """Signed notes of the past courses' sessions, written straight to the database."""
    for course, number, appointment in state.get("analytics_sessions", []):
        user = state["users"][course.therapist]
        visit, _ = Visit.objects.get_or_create(
            appointment=appointment,
            defaults={
                "clinic": appointment.clinic,
                "patient": appointment.patient,
                "therapist": appointment.therapist,
                "plan": state["analytics_plans"][course.patient],
                "status": VisitStatus.SIGNED,
                "opened_by": user,
            },
        )
        VisitNote.objects.get_or_create(
            visit=visit,
            defaults={
                "clinic": appointment.clinic,
                "status": NoteStatus.SIGNED,
                "signed_at": appointment.ends_at + timedelta(minutes=10),
                "signed_by": user,
                "subjective": "Back pain as before; some days better.",
                "treated_regions": ["erector_spinae:left", "erector_spinae:right"],
                "adverse_events": ADVERSE.get(course.technique, [])
                if number == course.adverse_at_session
                else [],
            },
        )
