"""Seal the audit events older than ten minutes into the hash chain (from cron, every few
minutes; safe to run twice at once)."""

from typing import Any

from django.core.management.base import BaseCommand

from backcare.core.audit_chain import seal_events


class Command(BaseCommand):
    help = "Add the audit events older than ten minutes to the tamper-evident hash chain."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Audit events sealed: {seal_events()}.")
