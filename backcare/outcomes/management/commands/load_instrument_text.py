import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backcare.core.errors import DomainError
from backcare.outcomes.services import load_instrument_text


class Command(BaseCommand):
    help = (
        "Load the licensed wording of an instrument (ODI, STarT Back, RMDQ, PEG) from a JSON file "
        "your organisation supplies. BackCare never ships this wording. Format: "
        "docs/instrument-text.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Could not read {path}: {error}") from error
        if not isinstance(document, dict):
            raise CommandError(f"{path}: expected one JSON object (see docs/instrument-text.md).")
        try:
            count = load_instrument_text(document=document)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {count} items of {document['instrument']}."))
