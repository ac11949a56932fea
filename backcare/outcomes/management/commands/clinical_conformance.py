import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backcare.clinical import conformance
from backcare.outcomes.queries import outcome_settings
from backcare.triage.queries import rule_settings


class Command(BaseCommand):
    help = (
        "Run RULES.md §8 test vectors (a JSON list) through BackCare's clinical rules; print each "
        "mismatch and 'N passed, M failed'. Exits 1 when any vector fails. With --clinic, the "
        "clinic's own thresholds are used, to see what its changes alter."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Vectors, e.g. examples.json")
        parser.add_argument("--clinic", type=uuid.UUID, help="Use this clinic's settings")

    def handle(self, *args: Any, **options: Any) -> None:
        vectors = self._read(options["file"])
        outcomes = conformance.run(vectors, self._settings(options.get("clinic")))
        lines = conformance.report(outcomes)
        for line in lines[:-1]:
            self.stdout.write(self.style.ERROR(line))
        self.stdout.write(lines[-1])
        if any(not outcome.passed for outcome in outcomes):
            raise SystemExit(1)

    def _read(self, path: Path) -> list[dict[str, Any]]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Could not read {path}: {error}") from error
        if not isinstance(data, list) or not all(isinstance(v, dict) for v in data):
            raise CommandError(f"{path}: expected a JSON list of vectors (RULES.md §8).")
        return data

    def _settings(self, clinic_id: uuid.UUID | None) -> conformance.ConformanceSettings:
        if clinic_id is None:
            return conformance.ConformanceSettings()
        triage_settings, ci_settings = rule_settings(clinic_id)
        _, thresholds = outcome_settings(clinic_id)
        return conformance.ConformanceSettings(triage_settings, ci_settings, thresholds)
