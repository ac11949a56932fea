"""Send the webhook outbox, for cron or a systemd timer every minute or two: first tries of
anything not sent yet and retries whose backoff has passed. Safe to run twice at once."""

from typing import Any

from django.core.management.base import BaseCommand

from backcare.core import webhooks


class Command(BaseCommand):
    help = "Send due webhook deliveries, retrying failures with backoff."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batches",
            type=int,
            default=50,
            help="Send at most this many batches in one run (default 50).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        totals = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
        for _ in range(options["batches"]):
            report = webhooks.deliver_due_webhooks()
            for name in totals:
                totals[name] += getattr(report, name)
            if not any(vars(report).values()):
                break
        self.stdout.write(
            "Webhooks delivered: {delivered}, to retry: {retrying}, failed: {failed}, "
            "skipped: {skipped}.".format(**totals)
        )
