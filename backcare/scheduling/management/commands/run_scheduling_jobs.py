"""The periodic work of scheduling, for cron or a systemd timer every few minutes: write due
reminders, check-ins after visits and follow-ups after courses to the outbox, end expired
waitlist offers (offering their times to the next in line), and send everything due. Safe to
run twice at once."""

from typing import Any

from django.core.management.base import BaseCommand

from backcare.scheduling import services


class Command(BaseCommand):
    help = "Queue due reminders, end expired waitlist offers, and send the outbox."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batches",
            type=int,
            default=50,
            help="Send at most this many batches of the outbox in one run (default 50).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reminders = services.enqueue_due_reminders()
        check_ins = services.enqueue_check_ins()
        follow_ups = services.enqueue_follow_ups()
        expired = services.expire_waitlist_offers()
        sent = skipped = failed = 0
        for _ in range(options["batches"]):
            report = services.deliver_due_notifications()
            sent, skipped, failed = (
                sent + report.sent,
                skipped + report.skipped,
                failed + report.failed,
            )
            if not (report.sent or report.skipped or report.failed):
                break
        self.stdout.write(
            f"Reminders queued: {reminders}; check-ins queued: {check_ins}; "
            f"follow-ups queued: {follow_ups}; "
            f"waitlist offers ended: {expired}; "
            f"sent: {sent}, skipped: {skipped}, failed: {failed}."
        )
