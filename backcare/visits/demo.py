"""Demo visits: Maria's past sessions documented and signed, so the visit, progress and outcome
pages show a course under way (pain falling from 7 to 3)."""

from backcare.core.demo import State
from backcare.visits import services
from backcare.visits.models import NoteStatus

# pain before, pain after, days with pain medicine of the last 7, what she said
NOTES = [
    (7, 5, 5, "Stiff after long days at the desk; the right side of the lower back is worst."),
    (5, 4, 3, "Better for two days after the last session; gardening still hard."),
    (4, 3, 1, "Sat through a film without getting up. Less medicine this week."),
]


def build(state: State) -> None:
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
