"""Seed a BackCare database with a clinic group of a chosen size (issue 10).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/backcare_bench_s \
        .venv/bin/python bench/generate.py --tier S --seed 1

Tiers: S (demo size), M (100 clinics, 2,000 therapists, 1,320,000 appointments of which about
1,000,000 completed visits with signed notes, 2,000,000 outcome answers), L (10,000,000
appointments, no visits). The database is migrated first and must hold no clinics. Rows go
through the real schema (table and column names from each model's `_meta`): clinics with rooms,
services, scheduling settings, an admin and a front-desk person; one group admin who administers
every clinic; therapists with verified licences and weekday hours; patients with portal logins;
appointments spread over the past (completed, each with pain answers and, but in L, a visit with
its note inserted signed, under a treatment plan: each patient's sessions make courses of 6, 8
or 10, the latest one possibly under way) and the next eight weeks (booked, about half the
slots). PostgreSQL is written with COPY in batches; SQLite with bulk_create. The same seed and
anchor day give the same rows. Every person's password is `bench-password`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time as clock
import uuid
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PASSWORD = "bench-password"  # noqa: S105 - the benchmark's sign-in, never a real account
BATCH = 50_000
SLOT_STARTS = (9, 10, 11, 12, 13, 14, 15, 16)  # local hours; 50 min + 10 min turnover
FUTURE_WEEKS = 8
ZONES = ("Europe/London", "America/Toronto", "Europe/Berlin", "Australia/Sydney")


@dataclass(frozen=True)
class Tier:
    clinics: int
    therapists: int
    appointments: int
    patients: int
    answers_per_visit: int = 3
    visits: bool = True  # completed appointments get visits, signed notes and plans


TIERS = {
    "S": Tier(clinics=4, therapists=40, appointments=20_000, patients=2_000),
    # About 76 % of the appointments are in the past: 1,000,000 completed visits.
    "M": Tier(
        clinics=100,
        therapists=2_000,
        appointments=1_320_000,
        patients=100_000,
        answers_per_visit=2,
    ),
    "L": Tier(
        clinics=100,
        therapists=2_000,
        appointments=10_000_000,
        patients=1_000_000,
        answers_per_visit=2,
        visits=False,
    ),
}
GROUP_ADMIN = "group@bench.example"
COURSE_SESSIONS = (6, 8, 10)
ADVERSE_SHARE = 0.03  # notes reporting mild soreness
MILD_SORENESS = [{"kind": "soreness", "severity": "mild", "note": ""}]


class Writer:
    """Rows for one model's table: the `varying` columns per row, every other column fixed
    (given, or the field's default), written in batches."""

    def __init__(self, model: Any, varying: Sequence[str], fixed: dict[str, Any] | None = None):
        from django.db import connection

        self.model = model
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        fields = {f.attname: f for f in model._meta.concrete_fields}
        fixed = dict(fixed or {})
        self.varying = list(varying)
        self.constant_names = [name for name in fields if name not in self.varying]
        self.constants = tuple(
            self._plain(fields[n], fixed[n] if n in fixed else fields[n].get_default())
            for n in self.constant_names
        )
        self.json_positions = [
            i
            for i, name in enumerate(self.varying)
            if fields[name].get_internal_type() == "JSONField"
        ]
        self.columns = [fields[n].column for n in self.varying + self.constant_names]
        self.attnames = self.varying + self.constant_names
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def _plain(self, field: Any, value: Any) -> Any:
        if field.get_internal_type() == "JSONField" and self.postgres:
            return json.dumps(value)
        return value

    def add(self, *values: Any) -> None:
        if self.postgres and self.json_positions:
            values = tuple(
                json.dumps(v) if i in self.json_positions else v for i, v in enumerate(values)
            )
        self.rows.append(values + self.constants)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.postgres:
            self._copy()
        else:
            objs = [self.model(**dict(zip(self.attnames, row, strict=True))) for row in self.rows]
            self.model.objects.bulk_create(objs, batch_size=500)
        self.written += len(self.rows)
        self.rows = []

    def _copy(self) -> None:
        table = self.connection.ops.quote_name(self.model._meta.db_table)
        names = ", ".join(self.connection.ops.quote_name(c) for c in self.columns)
        with self.connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3's cursor, for its COPY API
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row)


class Seeder:
    """Builds the clinic group for one tier, deterministically from `seed` and `anchor`."""

    def __init__(self, tier: Tier, seed: int, anchor: date, progress: Callable[[int], None]):
        self.tier = tier
        self.rng = random.Random(seed)
        self.anchor = anchor - timedelta(days=anchor.weekday())  # the Monday of that week
        self.advance = progress
        self.now = datetime.combine(self.anchor, time(0), tzinfo=UTC)
        self._offsets: dict[tuple[str, date], timedelta] = {}
        self.screened: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def run(self, password_hash: str) -> dict[str, int]:
        from backcare.accounts.models import Clinic, Licence, Membership, Room, Therapist, User
        from backcare.outcomes.models import OutcomeMeasurement
        from backcare.patients.models import Patient
        from backcare.plans.models import TreatmentPlan
        from backcare.scheduling.models import (
            Appointment,
            SchedulingSettings,
            Service,
            WorkingHours,
        )
        from backcare.visits.models import Visit, VisitNote

        now = self.now
        self.w = {
            "clinic": Writer(
                Clinic, ["id", "name", "time_zone", "city"], {"created_at": now, "updated_at": now}
            ),
            "room": Writer(
                Room, ["id", "clinic_id", "name"], {"created_at": now, "updated_at": now}
            ),
            "service": Writer(
                Service,
                ["id", "clinic_id", "name", "duration_minutes", "buffer_minutes"],
                {"created_at": now, "updated_at": now, "price": Decimal("60.00")},
            ),
            "settings": Writer(
                SchedulingSettings, ["id", "clinic_id"], {"created_at": now, "updated_at": now}
            ),
            "user": Writer(
                User,
                ["id", "email", "full_name"],
                {"password": password_hash, "date_joined": now, "last_login": None},
            ),
            "membership": Writer(
                Membership,
                ["id", "clinic_id", "user_id", "role"],
                {"created_at": now, "updated_at": now, "accepted_at": now},
            ),
            "therapist": Writer(
                Therapist,
                ["id", "user_id", "gender", "years_of_experience"],
                {"created_at": now, "updated_at": now, "languages": "English"},
            ),
            "licence": Writer(
                Licence,
                ["id", "therapist_id", "number", "verified_by_id"],
                {
                    "created_at": now,
                    "updated_at": now,
                    "issuing_board": "Bench Board of Massage",
                    "jurisdiction": "Bench",
                    "licence_type": "Registered Massage Therapist (RMT)",
                    "expires_on": self.anchor + timedelta(days=730),
                    "verified_at": now,
                },
            ),
            "hours": Writer(
                WorkingHours,
                ["id", "clinic_id", "therapist_id", "weekday"],
                {"created_at": now, "updated_at": now, "starts": time(9), "ends": time(17)},
            ),
            "patient": Writer(
                Patient,
                [
                    "id",
                    "clinic_id",
                    "user_id",
                    "given_name",
                    "family_name",
                    "date_of_birth",
                    "email",
                    "created_by_id",
                ],
                {"created_at": now, "updated_at": now},
            ),
            "appointment": Writer(
                Appointment,
                [
                    "id",
                    "clinic_id",
                    "patient_id",
                    "therapist_id",
                    "room_id",
                    "service_id",
                    "starts_at",
                    "ends_at",
                    "blocked_until",
                    "status",
                    "booked_by_id",
                ],
                {"created_at": now, "updated_at": now},
            ),
            "measurement": Writer(
                OutcomeMeasurement,
                [
                    "id",
                    "clinic_id",
                    "patient_id",
                    "measured_at",
                    "entered_by_id",
                    "answers",
                    "score_exact",
                    "score_display",
                    "band",
                    "details",
                    "policy",
                ],
                {
                    "created_at": now,
                    "updated_at": now,
                    "instrument": "pain_nrs",
                    "method": "therapist",
                    "valid": True,
                },
            ),
        }
        self.w["plan"] = Writer(
            TreatmentPlan,
            [
                "id",
                "clinic_id",
                "patient_id",
                "status",
                "sessions_planned",
                "created_by_id",
                "created_at",
                "ended_at",
            ],
            {"updated_at": now},
        )
        self.w["visit"] = Writer(
            Visit,
            [
                "id",
                "clinic_id",
                "patient_id",
                "appointment_id",
                "therapist_id",
                "plan_id",
                "opened_by_id",
            ],
            {"created_at": now, "updated_at": now, "status": "signed"},
        )
        self.w["note"] = Writer(
            VisitNote,
            ["id", "clinic_id", "visit_id", "signed_at", "signed_by_id", "adverse_events"],
            {"created_at": now, "updated_at": now, "status": "signed"},
        )
        self.pain = self._pain_scores()
        self.group_admin = self.new_id()
        self.w["user"].add(self.group_admin, GROUP_ADMIN, "Group Admin")
        per_clinic = self._split(self.tier.therapists, self.tier.clinics)
        patients = self._split(self.tier.patients, self.tier.clinics)
        for index in range(self.tier.clinics):
            self._clinic(index, per_clinic[index], patients[index], password_hash)
        for writer in self.w.values():
            writer.flush()
        self.w["screening"] = self._screenings()
        return {name: writer.written for name, writer in self.w.items()}

    def _screenings(self) -> Writer:
        """Every patient screened clear, so that they may be booked: one screening through the
        real service (`record_triage`), copied for the others."""

        from backcare.accounts.models import User
        from backcare.clinical.red_flags import BOOLEAN_ITEMS
        from backcare.triage.models import TriageAssessment
        from backcare.triage.services import record_triage

        clinic_id, patient_id, desk = self.screened[0]
        template = record_triage(
            actor=User.objects.get(pk=desk),
            patient_id=patient_id,
            answers={
                **dict.fromkeys(BOOLEAN_ITEMS, False),
                "ng65_criteria": [],
                "lbp_onset_age": 40,
                "lbp_duration_months": 2,
            },
            assessed_at=self.now - timedelta(days=400),
        )
        values = {
            f.attname: getattr(template, f.attname) for f in TriageAssessment._meta.concrete_fields
        }
        writer = Writer(
            TriageAssessment, ["id", "clinic_id", "patient_id", "entered_by_id"], values
        )
        for clinic_id, patient_id, desk in self.screened[1:]:
            writer.add(self.new_id(), clinic_id, patient_id, desk)
        writer.flush()
        writer.written += 1
        return writer

    def _pain_scores(self) -> dict[int, tuple[Any, ...]]:
        from backcare.clinical import instruments
        from backcare.clinical.numbers import half_up
        from backcare.core.jsonable import to_json

        found = {}
        for value in range(11):
            result = instruments.score("pain_nrs", {"now": value})
            assert result.value is not None
            found[value] = (
                str(result.value),
                half_up(result.value, 2),
                result.band or "",
                to_json(result.details),
                to_json(result.policy),
                result.version,
            )
        self.w["measurement"].constants = tuple(
            found[0][5] if n == "instrument_version" else c
            for n, c in zip(
                self.w["measurement"].constant_names, self.w["measurement"].constants, strict=True
            )
        )
        return found

    @staticmethod
    def _split(total: int, parts: int) -> list[int]:
        return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]

    def _person(self, clinic_id: uuid.UUID, role: str, email: str, name: str) -> uuid.UUID:
        user_id = self.new_id()
        self.w["user"].add(user_id, email, name)
        self.w["membership"].add(self.new_id(), clinic_id, user_id, role)
        return user_id

    def _clinic(self, index: int, therapists: int, patients: int, password_hash: str) -> None:
        clinic_id = self.new_id()
        zone = ZONES[index % len(ZONES)]
        self.w["clinic"].add(clinic_id, f"Bench clinic {index:03d}", zone, "Bench")
        self.w["settings"].add(self.new_id(), clinic_id)
        service_id = self.new_id()
        self.w["service"].add(service_id, clinic_id, "Back massage", 50, 10)
        self.w["service"].add(self.new_id(), clinic_id, "Short back massage", 20, 10)
        admin = self._person(
            clinic_id, "clinic_admin", f"admin{index}@bench.example", f"Admin {index}"
        )
        desk = self._person(clinic_id, "front_desk", f"desk{index}@bench.example", f"Desk {index}")
        self.w["membership"].add(self.new_id(), clinic_id, self.group_admin, "clinic_admin")
        staff = []
        for t in range(therapists):
            self.w["room"].add(self.new_id(), clinic_id, f"Room {t + 1}")
            user_id = self._person(
                clinic_id,
                "therapist",
                f"therapist{index}-{t}@bench.example",
                f"Therapist {index}-{t}",
            )
            therapist_id = self.new_id()
            self.w["therapist"].add(
                therapist_id, user_id, self.rng.choice(("female", "male")), self.rng.randint(1, 30)
            )
            self.w["licence"].add(self.new_id(), therapist_id, f"RMT-{index}-{t}", admin)
            for weekday in range(5):
                self.w["hours"].add(self.new_id(), clinic_id, therapist_id, weekday)
            staff.append((therapist_id, user_id))
        panel = []
        for p in range(patients):
            user_id = self._person(
                clinic_id, "patient", f"patient{index}-{p}@bench.example", f"Patient {index}-{p}"
            )
            patient_id = self.new_id()
            born = date(1940, 1, 1) + timedelta(days=self.rng.randrange(365 * 60))
            self.w["patient"].add(
                patient_id,
                clinic_id,
                user_id,
                f"Given{p}",
                f"Family{index}-{p}",
                born,
                f"patient{index}-{p}@bench.example",
                desk,
            )
            panel.append(patient_id)
            self.screened.append((clinic_id, patient_id, desk))
        share = self._split(
            self.tier.appointments * therapists // self.tier.therapists, max(therapists, 1)
        )
        for t, (therapist_id, user_id) in enumerate(staff):
            # Each therapist sees their own slice of the clinic's patients, so no patient is ever
            # booked twice at once (the exclusion constraints hold).
            mine = panel[t::therapists] or panel
            courses = Courses(self, clinic_id, user_id)
            self._appointments(
                clinic_id, zone, (therapist_id, user_id), service_id, desk, mine, share[t], courses
            )
            courses.close_all()
        self.advance(sum(share))

    def _utc(self, zone: str, day: date, hour: int) -> datetime:
        key = (zone, day)
        if key not in self._offsets:
            local = datetime.combine(day, time(12), tzinfo=zoneinfo.ZoneInfo(zone))
            self._offsets[key] = local.utcoffset() or timedelta(0)
        return datetime.combine(day, time(hour), tzinfo=UTC) - self._offsets[key]

    def _days(self) -> Iterator[tuple[date, bool]]:
        """Working days: the next FUTURE_WEEKS weeks (future), then backwards from yesterday."""
        for offset in range(FUTURE_WEEKS * 7):
            day = self.anchor + timedelta(days=offset)
            if day.weekday() < 5:
                yield day, True
        day = self.anchor
        while True:
            day -= timedelta(days=1)
            if day.weekday() < 5:
                yield day, False

    def _appointments(
        self,
        clinic_id: uuid.UUID,
        zone: str,
        therapist: tuple[uuid.UUID, uuid.UUID],
        service_id: uuid.UUID,
        desk: uuid.UUID,
        panel: list[uuid.UUID],
        count: int,
        courses: Courses,
    ) -> None:
        made = 0
        therapist_id = therapist[0]
        write, measure = self.w["appointment"].add, self.w["measurement"].add
        for day, future in self._days():
            if made >= count:
                return
            for hour in SLOT_STARTS:
                if made >= count or self.rng.random() > (0.5 if future else 0.8):
                    continue
                starts = self._utc(zone, day, hour)
                patient = panel[self.rng.randrange(len(panel))]
                status = "booked" if future else "completed"
                appointment_id = self.new_id()
                write(
                    appointment_id,
                    clinic_id,
                    patient,
                    therapist_id,
                    None,
                    service_id,
                    starts,
                    starts + timedelta(minutes=50),
                    starts + timedelta(minutes=60),
                    status,
                    desk,
                )
                made += 1
                if not future and self.tier.visits:
                    self._visit(clinic_id, patient, appointment_id, therapist, starts, courses)
                if not future:
                    for n in range(self.tier.answers_per_visit):
                        value = self.rng.randint(0, 10)
                        exact, shown, band, details, policy, _ = self.pain[value]
                        measure(
                            self.new_id(),
                            clinic_id,
                            patient,
                            starts + timedelta(minutes=n * 55),
                            desk,
                            {"now": value},
                            exact,
                            shown,
                            band,
                            details,
                            policy,
                        )

    def _visit(
        self,
        clinic_id: uuid.UUID,
        patient: uuid.UUID,
        appointment_id: uuid.UUID,
        therapist: tuple[uuid.UUID, uuid.UUID],
        starts: datetime,
        courses: Courses,
    ) -> None:
        """The visit of a completed appointment and its note, inserted signed (the database
        refuses any update of a signed note), under the patient's course."""
        therapist_id, user_id = therapist
        plan_id = courses.session(patient, starts)
        visit_id = self.new_id()
        self.w["visit"].add(
            visit_id, clinic_id, patient, appointment_id, therapist_id, plan_id, user_id
        )
        adverse = MILD_SORENESS if self.rng.random() < ADVERSE_SHARE else []
        self.w["note"].add(
            self.new_id(), clinic_id, visit_id, starts + timedelta(minutes=50), user_id, adverse
        )


class Courses:
    """One therapist's patients' courses, built while their appointments are written from the
    newest back: a patient's newest sessions open a course of 6, 8 or 10; once it has them all,
    the next older session opens another. A course is written when it is full (ended at its
    last session) or when the therapist's appointments run out; only each patient's newest
    course may stay active, when it still misses sessions."""

    def __init__(self, seeder: Seeder, clinic_id: uuid.UUID, created_by: uuid.UUID):
        self.seeder = seeder
        self.clinic_id = clinic_id
        self.created_by = created_by
        # patient -> [plan id, planned, sessions so far, newest start, oldest start, newest?]
        self.open: dict[uuid.UUID, list[Any]] = {}
        self.seen: set[uuid.UUID] = set()

    def session(self, patient: uuid.UUID, starts: datetime) -> uuid.UUID:
        """The plan of the patient's session at `starts` (older than any seen before)."""
        course = self.open.get(patient)
        if course is not None and course[2] >= course[1]:
            self._write(patient, course)
            course = None
        if course is None:
            planned = self.seeder.rng.choice(COURSE_SESSIONS)
            course = [self.seeder.new_id(), planned, 0, starts, starts, patient not in self.seen]
            self.open[patient] = course
            self.seen.add(patient)
        course[2] += 1
        course[4] = starts
        return course[0]

    def _write(self, patient: uuid.UUID, course: list[Any]) -> None:
        plan_id, planned, sessions, newest, oldest, latest = course
        active = latest and sessions < planned
        self.seeder.w["plan"].add(
            plan_id,
            self.clinic_id,
            patient,
            "active" if active else "ended",
            planned,
            self.created_by,
            oldest - timedelta(hours=1),
            None if active else newest + timedelta(minutes=50),
        )

    def close_all(self) -> None:
        for patient, course in self.open.items():
            self._write(patient, course)
        self.open = {}


BIG_TABLES = (
    "scheduling_appointment",
    "outcomes_outcomemeasurement",
    "visits_visit",
    "visits_visitnote",
    "plans_treatmentplan",
)


@contextmanager
def indexes_deferred(tables: Sequence[str]) -> Iterator[None]:
    """On PostgreSQL, drop the tables' indexes and constraints (but the primary key) for the
    bulk load and build them again after it, in the same transaction: one build is much faster
    than keeping them up to date row by row, and every constraint is checked again."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        saved: list[str] = []
        for table in tables:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype <> 'p'",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint"
                " WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                saved.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for name, definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
                saved.append(definition)
    yield
    with connection.cursor() as cursor:
        for statement in saved:
            cursor.execute(statement)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tier", choices=sorted(TIERS), default="S")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--anchor",
        type=date.fromisoformat,
        default=None,
        help="the day the data is centred on (default: today, UTC)",
    )
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from rich.progress import Progress

    from backcare.accounts.models import Clinic

    call_command("migrate", "--noinput", verbosity=0)
    if Clinic.objects.exists():
        print(
            "The database already holds clinics; generate into an empty database.", file=sys.stderr
        )
        return 2
    tier = TIERS[args.tier]
    anchor = args.anchor or datetime.now(UTC).date()
    started = clock.monotonic()
    with Progress(auto_refresh=False) as bar, transaction.atomic():
        task = bar.add_task(f"tier {args.tier}: appointments", total=tier.appointments)

        def advance(n: int) -> None:
            bar.advance(task, n)
            bar.refresh()

        seeder = Seeder(tier, args.seed, anchor, advance)
        with indexes_deferred(BIG_TABLES):
            counts = seeder.run(make_password(PASSWORD))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    elapsed = clock.monotonic() - started
    print(json.dumps({"tier": args.tier, "seconds": round(elapsed, 1), "rows": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
