"""What every outbox of ours shares (scheduling's notifications, core's webhooks): how long to
wait before the next try after a failed one (docs/decisions/0014, 0022)."""

from datetime import timedelta


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 2, 4, 8, 16... minutes after the first, second, third... failure."""
    return timedelta(minutes=2**attempts)
