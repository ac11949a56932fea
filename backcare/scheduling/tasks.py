"""Background work of scheduling (django.tasks): sending the outbox, offering freed times to
the waitlist. `manage.py run_scheduling_jobs` runs the periodic part from cron."""

import uuid
from datetime import datetime

from django.tasks import task

from backcare.scheduling import services


@task
def deliver_notifications() -> int:
    """Send what is due in the outbox; returns how many were sent."""
    return services.deliver_due_notifications().sent


@task
def offer_freed_time(clinic_id: str, therapist_id: str, starts_at: str) -> bool:
    """Offer a freed time to the first suited waitlist entry; True when one was offered."""
    offer = services.offer_freed_time(
        clinic_id=uuid.UUID(clinic_id),
        therapist_id=uuid.UUID(therapist_id),
        starts_at=datetime.fromisoformat(starts_at),
    )
    return offer is not None
