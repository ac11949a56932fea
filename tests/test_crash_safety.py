"""Crash safety: the real app runs as a separate process on 127.0.0.1 against the test
database; a burst of concurrent bookings (JSON API, with a token) and note saves and signs (the
pages, with a session) is cut short by SIGKILL; after a restart nothing is half-written.

Each write is one transaction with its audit event (ARCHITECTURE.md §4), so a kill at any
moment leaves either the whole write or none of it: every appointment has its `appointment.create`
event and every such event its appointment; every visit its note and `visit.open` event; every
signed note its signature, its recorded measurements, its signed visit and its `visit.note.sign`
event. The restarted server then answers and books again.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backcare.accounts.services import create_api_token
from backcare.core.models import AuditEvent
from backcare.outcomes.models import OutcomeMeasurement
from backcare.scheduling.models import Appointment
from backcare.scheduling.tests.test_services import World
from backcare.triage.tests.factories import make_screening
from backcare.visits.models import NoteStatus, Visit, VisitNote, VisitStatus
from backcare.visits.tests.factories import VisitWorld, make_appointment
from tests.factories import make_patient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("migration_seeds")]

ROOT = Path(__file__).resolve().parents[1]
BOOKING_WEEKS = 4
BOOKING_HOURS = range(9, 16)
NOTES = 12
# The kill comes once this many writes have answered, while the rest are still in flight.
KILL_AFTER_WRITES = 12
START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    """The test database, as the server process must reach it (committed rows only)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host = db["HOST"] or "127.0.0.1"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class Server:
    """`manage.py runserver --noreload` in its own process: one process, so SIGKILL ends every
    request it is serving at once."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = os.environ | {
            "DEBUG": "1",
            "DATABASE_URL": _database_url(),
            "BACKCARE_REQUIRE_STAFF_MFA": "0",
            "SITE_URL": self.url,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (our own manage.py)
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    f"127.0.0.1:{self.port}",
                    "--noreload",
                    "--skip-checks",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=5)  # noqa: S310
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(_free_port(), tmp_path / "server.log")
    yield running
    running.stop()


class Burst:
    """Writes sent from threads; counts the answers and stops sending once the server is dead."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.answered = 0
        self.lock = threading.Lock()
        self.enough = threading.Event()

    def send(self, path: str, *, data: bytes, headers: dict[str, str]) -> int | None:
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
            self.server.url + path, data=data, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            return None
        with self.lock:
            self.answered += 1
            if self.answered >= KILL_AFTER_WRITES:
                self.enough.set()
        return status


def _session_headers(user: Any) -> dict[str, str]:
    """A signed-in session (stored in the shared database) and its CSRF token, as headers."""
    client = Client()
    client.force_login(user)
    token = "a" * 32
    return {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={token}",
        "X-CSRFToken": token,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _seed_bookings() -> tuple[World, str, list[dict[str, str]]]:
    world = World()
    patients = [world.patient, world.other_patient]
    for _ in range(3):
        patient = make_patient(world.clinic)
        make_screening(world.desk, patient)
        patients.append(patient)
    token = create_api_token(
        actor=world.desk, clinic=world.clinic, name="burst", scopes=["read", "write"]
    )[1]
    bookings = [
        {
            "patient_id": str(patients[(week * 7 + hour) % len(patients)].pk),
            "therapist_id": str(world.therapist.pk),
            "service_id": str(world.service.pk),
            "starts_at": world.at(hour, days=7 * week).isoformat(),
        }
        for week in range(BOOKING_WEEKS)
        for hour in BOOKING_HOURS
    ]
    return world, token, bookings


def _seed_notes() -> tuple[VisitWorld, list[Visit]]:
    world = VisitWorld()
    start = timezone.now() - timedelta(days=1)
    visits = [world.open()]
    for n in range(1, NOTES):
        appointment = make_appointment(world, starts_at=start - timedelta(hours=2 * n))
        visits.append(world.open(appointment=appointment))
    return world, visits


def _note_form(n: int) -> bytes:
    return urllib.parse.urlencode(
        {
            "subjective": f"Burst note {n}: " + "stiff in the morning. " * 20,
            "assessment": "Less guarding after the session.",
            "pain_before": "6",
            "pain_after": str(n % 5),
            "analgesic_days": "2",
            "next_focus": "Gluteals",
        }
    ).encode()


def _fire(
    burst: Burst,
    token: str,
    bookings: list[dict[str, str]],
    visits: list[Visit],
    headers: dict[str, str],
) -> None:
    api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    book = reverse("api-v1:appointment_book")
    jobs: list[tuple[str, bytes, dict[str, str]]] = [
        (book, json.dumps(body).encode(), api) for body in bookings
    ]
    for n, visit in enumerate(visits):
        jobs.append((reverse("visit_note_autosave", args=[visit.note.pk]), _note_form(n), headers))
        jobs.append((reverse("visit_note_sign", args=[visit.pk]), _note_form(n), headers))
    # Interleave bookings and notes so both are in flight when the kill comes.
    jobs = jobs[::2] + jobs[1::2]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(burst.send, path, data=data, headers=h) for path, data, h in jobs]
        burst.enough.wait(timeout=60)
        burst.server.kill()
        for future in futures:
            future.result()


def _events(action: str) -> set[str]:
    return set(
        AuditEvent.objects.filter(action=action, outcome="allowed").values_list(
            "object_id", flat=True
        )
    )


def _half_written(seeded: set[str]) -> list[str]:
    """Every broken invariant, in words (empty when the database is whole). `seeded` are the
    appointments the test wrote straight to the database, without an audit event."""
    problems = []
    appointments = {str(pk) for pk in Appointment.objects.values_list("pk", flat=True)} - seeded
    created = _events("appointment.create")
    problems += [f"appointment {pk} without its audit event" for pk in appointments - created]
    problems += [f"audit event for a missing appointment {pk}" for pk in created - appointments]
    for visit in Visit.objects.all():
        note = VisitNote.objects.filter(visit=visit).first()
        if note is None:
            problems.append(f"visit {visit.pk} without its note")
            continue
        if str(visit.pk) not in _events("visit.open"):
            problems.append(f"visit {visit.pk} without its visit.open event")
        if (note.status == NoteStatus.SIGNED) != (visit.status == VisitStatus.SIGNED):
            problems.append(f"note {note.pk} is {note.status} but its visit is {visit.status}")
        if note.status == NoteStatus.SIGNED:
            problems += _unsigned_parts(note)
    return problems


def _unsigned_parts(note: VisitNote) -> list[str]:
    problems = []
    if note.signed_at is None or note.signed_by_id is None:
        problems.append(f"signed note {note.pk} without who and when")
    recorded = {str(pk) for pk in note.measurement_ids.values()}
    found = {
        str(pk)
        for pk in OutcomeMeasurement.objects.filter(pk__in=recorded).values_list("pk", flat=True)
    }
    if not recorded or recorded != found:
        problems.append(f"signed note {note.pk} without its measurements")
    if str(note.pk) not in _events("visit.note.sign"):
        problems.append(f"signed note {note.pk} without its visit.note.sign event")
    return problems


def test_killing_the_server_mid_burst_leaves_nothing_half_written(server):
    booking_world, token, bookings = _seed_bookings()
    note_world, visits = _seed_notes()
    headers = _session_headers(note_world.user)
    seeded = {str(pk) for pk in Appointment.objects.values_list("pk", flat=True)}
    server.start()
    burst = Burst(server)

    _fire(burst, token, bookings, visits, headers)

    written = (
        Appointment.objects.count()
        - len(seeded)
        + VisitNote.objects.filter(status="signed").count()
    )
    assert written > 0, "the burst wrote nothing before the kill"
    assert written < len(bookings) + len(visits), "the kill came after the burst had finished"
    server.start()
    assert _half_written(seeded) == []
    retry = Burst(server).send(
        reverse("api-v1:appointment_book"),
        data=json.dumps(
            bookings[-1] | {"starts_at": booking_world.at(9, days=35).isoformat()}
        ).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert retry == 201
    assert _half_written(seeded) == []
