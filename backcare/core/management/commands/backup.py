"""Write a backup bundle: the database (SQLite online backup or pg_dump) and MEDIA_ROOT, with a
manifest of row counts and checksums. Safe while the application runs."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backcare.core.backup import BackupError, write_backup


class Command(BaseCommand):
    help = "Back up the database and uploaded files into one bundle (.tar.gz)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", type=Path, help="Where to write the bundle (.tar.gz).")
        parser.add_argument("--database", default="default", help="The database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        bundle: Path = options["bundle"]
        if bundle.exists():
            raise CommandError(f"{bundle} exists already; choose a new name.")
        try:
            manifest = write_backup(bundle, alias=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.stdout.write(
            f"Backed up {len(manifest['tables'])} tables ({rows} rows) and "
            f"{len(manifest['media'])} uploaded files to {bundle}."
        )
