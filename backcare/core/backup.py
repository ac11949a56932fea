"""Backups and restores of the database and the uploaded files, as one bundle (decision 0026).

A bundle is a gzip'd tar holding `manifest.json`, the database (`database.sqlite3`, a copy made
with SQLite's online backup API, or `database.dump`, PostgreSQL's `pg_dump --format=custom`) and
`media/` (every file under MEDIA_ROOT). The manifest records, per table, the number of rows and a
SHA-256 over the table's rows (order-independent), the database file's SHA-256, and each media
file's SHA-256. Both are taken from one consistent state while the application runs: the SQLite
copy, or the snapshot pg_dump reads (exported by the transaction that counts the rows).

`restore_backup` refuses a database that holds tables unless forced, restores, and then checks
everything against the manifest and verifies the audit hash chain of the restored copy.
"""

import hashlib
import json
import os
import shutil
import sqlite3

# pg_dump and pg_restore run with argument lists, never through a shell.
import subprocess  # nosec B404
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend

from backcare.core.audit_chain import ChainReport, verify_chain

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DB_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class RestoreReport:
    """What a restore found: tables whose rows differ from the manifest, media files missing
    or changed, and the audit chain of the restored copy."""

    tables: int = 0
    media_files: int = 0
    problems: list[str] = field(default_factory=list)
    chain: ChainReport = field(default_factory=ChainReport)

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain.ok


# --- Fingerprints ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def _row_digest(row: tuple[Any, ...]) -> bytes:
    text = json.dumps([_plain(v) for v in row], separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).digest()


def _table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return sorted(name for (name,) in cursor.fetchall())


def fingerprints(cursor: Any, vendor: str) -> dict[str, dict[str, Any]]:
    """Per table: its row count and the SHA-256 of its rows' sorted digests, each row dumped
    as canonical JSON (so the order rows come back in does not matter)."""
    result = {}
    for table in _table_names(cursor, vendor):
        quoted = '"' + table.replace('"', '""') + '"'
        # Table names come from the database's own catalogue, quoted.
        cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608  # nosec B608
        digests: list[bytes] = []
        while rows := cursor.fetchmany(1000):
            digests.extend(_row_digest(tuple(row)) for row in rows)
        total = hashlib.sha256(b"".join(sorted(digests))).hexdigest()
        result[table] = {"rows": len(digests), "sha256": total}
    return result


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- Database access without Django's type conversions (the same on both ends) ---------------


def _vendor(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in DB_FILES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def pg_conninfo(alias: str) -> dict[str, Any]:
    """psycopg connection arguments for the PostgreSQL database behind `alias`."""
    params = connections[alias].settings_dict
    info = {
        "dbname": params["NAME"],
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
    }
    return {key: value for key, value in info.items() if value}


def _pg_env(alias: str) -> tuple[list[str], dict[str, str]]:
    """Connection flags for pg_dump/pg_restore; the password travels in the environment."""
    info = pg_conninfo(alias)
    flags = [f"--dbname={info['dbname']}"]
    for key, flag in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        if key in info:
            flags.append(f"{flag}={info[key]}")
    env = dict(os.environ)
    if "password" in info:
        env["PGPASSWORD"] = str(info["password"])
    return flags, env


def _pg_connect(alias: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(**pg_conninfo(alias))
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} was not found. Install the PostgreSQL client of the server's "
            "version (Debian: postgresql-client)."
        )
    done = subprocess.run(  # noqa: S603  # nosec B603
        command, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def database_fingerprints(alias: str = "default") -> dict[str, dict[str, Any]]:
    """The fingerprints of the database behind `alias`, read now."""
    vendor = _vendor(alias)
    if vendor == "sqlite":
        with closing(sqlite3.connect(connections[alias].settings_dict["NAME"])) as lite:
            return fingerprints(lite.cursor(), vendor)
    with _pg_connect(alias) as conn, conn.cursor() as cursor:
        return fingerprints(cursor, vendor)


# --- Backup -------------------------------------------------------------------------------------


def _dump_sqlite(alias: str, target: Path) -> dict[str, dict[str, Any]]:
    source_path = connections[alias].settings_dict["NAME"]
    with closing(sqlite3.connect(source_path)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return fingerprints(copy.cursor(), "sqlite")


def _dump_postgresql(alias: str, target: Path) -> dict[str, dict[str, Any]]:
    flags, env = _pg_env(alias)
    with _pg_connect(alias) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot is not None
        # pg_dump reads the same snapshot this transaction counts, while it stays open.
        _run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot[0]}", f"--file={target}", *flags],
            env,
        )
        with conn.cursor() as cursor:
            tables = fingerprints(cursor, "postgresql")
        conn.execute("COMMIT")
    return tables


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix(), path


def write_backup(bundle: Path, *, alias: str = "default") -> dict[str, Any]:
    """Write a bundle of the database behind `alias` and MEDIA_ROOT to `bundle`; return its
    manifest. Raises BackupError when the database is neither SQLite nor PostgreSQL or
    pg_dump is missing or fails."""
    vendor = _vendor(alias)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as work:
        db_file = Path(work) / DB_FILES[vendor]
        dump = _dump_sqlite if vendor == "sqlite" else _dump_postgresql
        tables = dump(alias, db_file)
        files = list(_media_files(media_root))  # one listing: the manifest names what is packed
        media = {name: _file_sha256(path) for name, path in files}
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "vendor": vendor,
            "database_file": {"name": db_file.name, "sha256": _file_sha256(db_file)},
            "tables": tables,
            "media": media,
        }
        manifest_file = Path(work) / MANIFEST
        manifest_file.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        partial = bundle.with_name(bundle.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest_file, MANIFEST)
            tar.add(db_file, db_file.name)
            for name, path in files:
                tar.add(path, f"{MEDIA}/{name}")
        partial.replace(bundle)  # a bundle that exists is complete
    return manifest


# --- Restore ------------------------------------------------------------------------------------


def _table_count(alias: str, vendor: str) -> int:
    if vendor == "sqlite":
        path = Path(connections[alias].settings_dict["NAME"])
        if not path.exists():
            return 0
        with closing(sqlite3.connect(path)) as lite:
            return len(_table_names(lite.cursor(), vendor))
    with _pg_connect(alias) as conn, conn.cursor() as cursor:
        return len(_table_names(cursor, vendor))


def _load_sqlite(alias: str, db_file: Path) -> None:
    target = connections[alias].settings_dict["NAME"]
    with closing(sqlite3.connect(db_file)) as source, closing(sqlite3.connect(target)) as dest:
        source.backup(dest)


def _load_postgresql(alias: str, db_file: Path, *, force: bool) -> None:
    flags, env = _pg_env(alias)
    clean = ["--clean", "--if-exists"] if force else []
    command = ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", *clean, *flags]
    _run([*command, str(db_file)], env)


def _safe_member(member: tarfile.TarInfo) -> bool:
    path = PurePosixPath(member.name)
    return member.isfile() and not path.is_absolute() and ".." not in path.parts


def _unpack(bundle: Path, work: Path) -> dict[str, Any]:
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            members = [m for m in tar.getmembers() if _safe_member(m)]
            tar.extractall(work, members=members, filter="data")  # members checked above
        manifest: dict[str, Any] = json.loads((work / MANIFEST).read_text())
    except (OSError, tarfile.TarError, ValueError, KeyError) as error:
        raise BackupError(f"{bundle} is not a readable BackCare backup: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{bundle} has backup format {manifest.get('format')}, not {FORMAT}.")
    return manifest


def _restore_media(work: Path, manifest: dict[str, Any], report: RestoreReport) -> None:
    media_root = Path(settings.MEDIA_ROOT)
    for name, expected in sorted(manifest["media"].items()):
        source = work / MEDIA / name
        if not source.is_file() or _file_sha256(source) != expected:
            report.problems.append(f"Media file {name} is missing or damaged in the backup.")
            continue
        target = media_root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        report.media_files += 1


def compare_tables(
    expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]
) -> list[str]:
    """Each difference between two sets of fingerprints, in words naming the table."""
    problems = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want is None or got is None:
            problems.append(f"Table {table} is {'missing' if got is None else 'unexpected'}.")
        elif want["rows"] != got["rows"]:
            problems.append(f"Table {table} has {got['rows']} rows, the backup {want['rows']}.")
        elif want["sha256"] != got["sha256"]:
            problems.append(f"Table {table} has the backup's row count but different rows.")
    return problems


def restore_backup(bundle: Path, *, alias: str = "default", force: bool = False) -> RestoreReport:
    """Restore `bundle` into the database behind `alias` and MEDIA_ROOT, then check row counts,
    table checksums and media against the manifest and verify the audit chain.

    Raises BackupError, before writing anything, when the bundle is unreadable or damaged, was
    made from another database system, or the database already holds tables and `force` is
    not set."""
    vendor = _vendor(alias)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        manifest = _unpack(bundle, work)
        if manifest["vendor"] != vendor:
            raise BackupError(f"This backup is of {manifest['vendor']}; the database is {vendor}.")
        db_file = work / manifest["database_file"]["name"]
        if not db_file.is_file() or _file_sha256(db_file) != manifest["database_file"]["sha256"]:
            raise BackupError("The database file in the backup is damaged (checksum differs).")
        if not force and _table_count(alias, vendor):
            raise BackupError(
                "The database is not empty. Restore into a new, empty database, or pass "
                "--force to replace what it holds."
            )
        connections[alias].close()
        if vendor == "sqlite":
            _load_sqlite(alias, db_file)
        else:
            _load_postgresql(alias, db_file, force=force)
        report = RestoreReport()
        _restore_media(work, manifest, report)
    found = database_fingerprints(alias)
    report.tables = len(found)
    report.problems.extend(compare_tables(manifest["tables"], found))
    report.chain = verify_chain(using=alias)
    return report


@contextmanager
def extra_database(alias: str, **changes: Any) -> Iterator[str]:
    """A connection alias, for this thread only, to another database like "default" with
    `changes` (drills restore into it)."""
    params = {**connections["default"].settings_dict, **changes}
    connections[alias] = load_backend(params["ENGINE"]).DatabaseWrapper(params, alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
