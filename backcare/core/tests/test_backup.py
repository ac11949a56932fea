"""The backup drill: a seeded clinic is backed up, restored into a new empty database (another
SQLite file, or another PostgreSQL database), and the copy matches row for row, file for file,
with an intact audit chain. Runs on the database of DATABASE_URL."""

import io
import json
import tarfile
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from backcare.core.audit_chain import seal_events
from backcare.core.backup import (
    BackupError,
    database_fingerprints,
    extra_database,
    pg_conninfo,
    restore_backup,
)
from backcare.core.demo import build_demo

# Real commits: pg_dump reads them from another session.
pytestmark = pytest.mark.django_db(transaction=True)

LETTER = b"%PDF-1.4 a clinician's clearance letter"


@pytest.fixture
def seeded_clinic(migration_seeds) -> int:
    """The demo clinic, an uploaded letter, and every audit event sealed; returns the seals."""
    with transaction.atomic():
        build_demo()
    default_storage.save("clearances/letter.pdf", ContentFile(LETTER))
    return seal_events(now=timezone.now() + timedelta(hours=1))


@pytest.fixture
def empty_database(tmp_path):
    """An alias to a new database holding nothing, dropped afterwards."""
    if connection.vendor == "sqlite":
        with extra_database("restored", NAME=str(tmp_path / "restored.sqlite3")) as alias:
            yield alias
        return
    name = f"backcare_restore_{uuid.uuid4().hex[:12]}"
    server = {**pg_conninfo("default"), "dbname": "postgres"}
    with psycopg.connect(**server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            with extra_database("restored", NAME=name) as alias:
                yield alias
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def bundle(seeded_clinic, tmp_path) -> Path:
    path = tmp_path / "clinic.tar.gz"
    call_command("backup", str(path), stdout=io.StringIO())
    return path


def _restore(bundle: Path, alias: str, *extra: str) -> str:
    out = io.StringIO()
    call_command("restore", str(bundle), f"--database={alias}", *extra, stdout=out)
    return out.getvalue()


def _rewrite_manifest(bundle: Path, change) -> Path:
    """A copy of `bundle` whose manifest was edited by `change`."""
    copy = bundle.with_name("edited.tar.gz")
    with tarfile.open(bundle) as source, tarfile.open(copy, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return copy


def test_a_restored_backup_matches_the_clinic_row_for_row(
    seeded_clinic, bundle, empty_database, settings, tmp_path
):
    source = database_fingerprints("default")
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    output = _restore(bundle, empty_database)
    restored = database_fingerprints(empty_database)
    assert restored == source
    assert source["patients_patient"]["rows"] > 0
    assert source["core_auditevent"]["rows"] == seeded_clinic > 0
    assert f"Audit chain: {seeded_clinic} events verified, 0 problems, 0 not sealed" in output
    assert "0 differences from the backup" in output
    assert (tmp_path / "restored-media" / "clearances" / "letter.pdf").read_bytes() == LETTER


def test_the_manifest_counts_rows_and_files(bundle):
    with tarfile.open(bundle) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert {
        "manifest.json",
        "media/clearances/letter.pdf",
        manifest["database_file"]["name"],
    } <= names
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"] == database_fingerprints("default")
    assert set(manifest["media"]) == {"clearances/letter.pdf"}


def test_restore_refuses_a_database_that_is_not_empty(bundle):
    with pytest.raises(CommandError, match="The database is not empty"):
        _restore(bundle, "default")


def test_restore_with_force_replaces_what_the_database_holds(bundle, empty_database):
    _restore(bundle, empty_database)
    output = _restore(bundle, empty_database, "--force")
    assert "0 differences from the backup" in output
    assert database_fingerprints(empty_database) == database_fingerprints("default")


def test_a_restore_that_differs_from_the_manifest_fails_naming_the_table(bundle, empty_database):
    def one_patient_fewer(manifest):
        manifest["tables"]["patients_patient"]["rows"] += 1

    edited = _rewrite_manifest(bundle, one_patient_fewer)
    with pytest.raises(CommandError, match="does not match the backup"):
        _restore(edited, empty_database)
    report = restore_backup(edited, alias=empty_database, force=True)
    assert any(problem.startswith("Table patients_patient has") for problem in report.problems)


def test_a_damaged_database_file_is_refused_before_anything_is_written(bundle, empty_database):
    def damaged(manifest):
        manifest["database_file"]["sha256"] = "0" * 64

    with pytest.raises(BackupError, match="damaged"):
        restore_backup(_rewrite_manifest(bundle, damaged), alias=empty_database)
    assert database_fingerprints(empty_database) == {}


def test_backup_refuses_to_overwrite_a_bundle(bundle):
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(bundle))
