"""Apply the retention rules (daily, from cron): remove what each rule allows, nothing else."""

from typing import Any

from django.core.management.base import BaseCommand

from backcare.core.retention import AUDIT_YEARS, apply_retention, rules


class Command(BaseCommand):
    help = "Remove what the retention rules allow (never clinical records or audit events)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = apply_retention()
        for rule in rules():
            self.stdout.write(f"{rule.name}: {report.removed[rule.name]} removed. {rule.rule}")
        self.stdout.write(
            f"Audit events older than {AUDIT_YEARS} years: "
            f"{report.audit_events_past_retention} (kept: docs/security.md says why)."
        )
