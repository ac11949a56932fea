"""Check the audit log's hash chain: prints each event changed, deleted, added or moved since
it was sealed, and exits 1 when there is any."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backcare.core.audit_chain import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit status 1 when it was tampered with."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        for problem in report.problems:
            self.stdout.write(problem)
        self.stdout.write(
            f"{report.checked} events verified, {len(report.problems)} problems, "
            f"{report.unsealed} not sealed yet."
        )
        if not report.ok:
            raise CommandError("The audit log was tampered with.")
