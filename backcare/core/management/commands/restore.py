"""Restore a backup bundle into an empty database (or, with --force, over one), then check
row counts, checksums and uploaded files against its manifest and verify the audit chain."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backcare.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a bundle written by `manage.py backup`; exit status 1 if any check fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", type=Path, help="The bundle written by `manage.py backup`.")
        parser.add_argument("--database", default="default", help="The database alias.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even though the database already holds tables (replaces them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = restore_backup(
                options["bundle"], alias=options["database"], force=options["force"]
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        for problem in [*report.problems, *report.chain.problems]:
            self.stdout.write(problem)
        self.stdout.write(
            f"Restored {report.tables} tables and {report.media_files} uploaded files; "
            f"{len(report.problems)} differences from the backup. Audit chain: "
            f"{report.chain.checked} events verified, {len(report.chain.problems)} problems, "
            f"{report.chain.unsealed} not sealed yet."
        )
        if not report.ok:
            raise CommandError("The restored copy does not match the backup.")
