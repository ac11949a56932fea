import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backcare.accounts.models import Role
from backcare.outcomes.services import save_outcome_settings
from tests.factories import make_clinic, make_member

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "backcare" / "clinical" / "vectors" / "examples.json"


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("clinical_conformance", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_clinical_conformance_reports_zero_failed_on_the_project_vectors():
    code, output = run(str(VECTORS))
    assert code == 0
    assert output.strip().endswith("63 passed, 0 failed")


def test_clinical_conformance_prints_each_mismatch_and_exits_non_zero(tmp_path):
    vectors = json.loads(VECTORS.read_text())
    vectors[0]["expected"]["band"] = "severe"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(vectors))
    code, output = run(str(bad))
    assert code == 1
    assert "FAIL [ODI-01] ODI band: expected 'severe', got 'minimal'" in output
    assert output.strip().endswith("62 passed, 1 failed")


def test_clinical_conformance_uses_a_clinics_thresholds():
    clinic = make_clinic()
    save_outcome_settings(
        actor=make_member(clinic, Role.CLINIC_ADMIN),
        clinic=clinic,
        odi_max_missing=1,
        thresholds={"pain_nrs": {"pct": 40}},
    )
    code, output = run(str(VECTORS), "--clinic", str(clinic.pk))
    assert code == 1
    assert "FAIL [NRS-01] NRS_change meets_pct_30" in output


@pytest.mark.parametrize("content", ["not json", '{"a": 1}'])
def test_clinical_conformance_refuses_an_unreadable_file(tmp_path, content):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(CommandError):
        call_command("clinical_conformance", str(path))


def test_load_instrument_text_command_loads_the_documented_example():
    out = StringIO()
    call_command(
        "load_instrument_text",
        str(ROOT / "docs" / "examples" / "odi-text.example.json"),
        stdout=out,
    )
    assert "Loaded 10 items of odi." in out.getvalue()


def test_load_instrument_text_command_explains_a_bad_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"instrument": "odi", "version": "wrong"}))
    with pytest.raises(CommandError, match="version must be"):
        call_command("load_instrument_text", str(path))
