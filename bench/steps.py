"""The parts of `bench/run.py` that need Django, each run in its own process with the servers'
settings (`python bench/steps.py prepare|inprocess`); each prints one `BENCH {json}` line.

prepare: sessions for a clinic admin (with TOTP enrolled, as production requires of staff) and a
patient of the first clinic, an API token, and the slots the booking clients will take.
inprocess: figures that are not one page: availability over many therapists, its query count,
reminder enqueueing and the FHIR bulk export of the largest clinic (each in a transaction that is
rolled back, so the database stays as generated).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from backcare.accounts.models import ApiScope, Clinic, Membership, Role, Therapist, User  # noqa: E402
from backcare.accounts.services import create_api_token  # noqa: E402
from backcare.fhir.services import (  # noqa: E402
    EXPORT_PAGE_ROWS,
    export_folder,
    run_export,
    start_export,
)
from backcare.patients.models import Patient  # noqa: E402
from backcare.scheduling import queries as scheduling  # noqa: E402
from backcare.scheduling.models import Appointment, SchedulingSettings, Service  # noqa: E402
from backcare.scheduling.services import enqueue_due_reminders  # noqa: E402

GROUP_ADMIN = "group@bench.example"  # bench/generate.py's admin of every clinic
BOOKING_CLIENTS = 8
SLOTS_PER_CLIENT = 400
LOCAL_HOURS = (9, 10, 11, 12, 13, 14, 15, 16)


def session_for(user: User) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def first_clinic() -> Clinic:
    return Clinic.objects.order_by("name").first()  # type: ignore[return-value]


def member(clinic: Clinic, role: Role) -> User:
    return Membership.objects.filter(clinic=clinic, role=role).order_by("user__email")[0].user


def clinic_therapists(clinic: Clinic) -> list[Therapist]:
    ids = Membership.objects.filter(clinic=clinic, role=Role.THERAPIST).values("user_id")
    return list(Therapist.objects.filter(user_id__in=ids).order_by("user__email"))


def next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def prepare() -> dict[str, Any]:
    clinic = first_clinic()
    admin = member(clinic, Role.CLINIC_ADMIN)
    if not Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(admin, generate_totp_secret())
    patient_user = member(clinic, Role.PATIENT)
    patient = Patient.objects.get(clinic=clinic, user=patient_user)
    _, token = create_api_token(
        actor=admin, clinic=clinic, name="bench", scopes=[ApiScope.READ, ApiScope.WRITE]
    )
    service = Service.objects.filter(clinic=clinic, duration_minutes=50).first()
    assert service is not None
    therapists = clinic_therapists(clinic)
    week = next_monday(clinic.local_date())
    availability = (
        f"/portal/book/?service={service.pk}&therapist={therapists[0].pk}&week={week.isoformat()}"
    )
    group_admin = User.objects.filter(email=GROUP_ADMIN).first()
    if group_admin is not None and not Authenticator.objects.filter(user=group_admin).exists():
        TOTP.activate(group_admin, generate_totp_secret())
    return {
        "admin_session": session_for(admin),
        "group_session": session_for(group_admin) if group_admin else "",
        "patient_session": session_for(patient_user),
        "token": token,
        "patient_id": str(patient.pk),
        "availability_path": availability,
        "booking_clients": booking_clients(clinic, service, therapists),
    }


def booking_clients(
    clinic: Clinic, service: Service, therapists: list[Therapist]
) -> list[list[dict[str, str]]]:
    """Per client: one therapist, a few patients no other client uses, and working-hour slots
    after everything already booked with that therapist (so a second run finds them free too)."""
    patients = list(Patient.objects.filter(clinic=clinic).order_by("family_name")[:400])
    clients = []
    for n, therapist in enumerate(therapists[:BOOKING_CLIENTS]):
        mine = patients[n::BOOKING_CLIENTS]
        last = Appointment.objects.filter(therapist=therapist).aggregate(Max("starts_at"))
        day = (last["starts_at__max"] or timezone.now()).astimezone(clinic.zone).date()
        slots: list[dict[str, str]] = []
        while len(slots) < SLOTS_PER_CLIENT:
            day += timedelta(days=1)
            if day.weekday() >= 5:
                continue
            for hour in LOCAL_HOURS:
                starts = datetime(day.year, day.month, day.day, hour, tzinfo=clinic.zone)
                slots.append(
                    {
                        "patient_id": str(mine[len(slots) % len(mine)].pk),
                        "therapist_id": str(therapist.pk),
                        "service_id": str(service.pk),
                        "starts_at": starts.astimezone(UTC).isoformat(),
                    }
                )
        clients.append(slots)
    return clients


def timed(call: Any, repeat: int) -> tuple[float, float]:
    """Median and p95 (the largest of few) of `repeat` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def availability_across(therapist_count: int, weeks: int) -> Any:
    """Free starts of `therapist_count` therapists of the group (each clinic's in turn, as each
    clinic's admin sees them) for `weeks` weeks from next Monday, through the booking page's query
    (`get_week_availability`)."""
    groups: list[tuple[Clinic, User, Service, list[Therapist]]] = []
    left = therapist_count
    for clinic in Clinic.objects.order_by("name"):
        if left <= 0:
            break
        mine = clinic_therapists(clinic)[:left]
        service = Service.objects.filter(clinic=clinic, duration_minutes=50).first()
        groups.append((clinic, member(clinic, Role.CLINIC_ADMIN), service, mine))  # type: ignore[arg-type]
        left -= len(mine)
    found = therapist_count - max(left, 0)

    def call() -> None:
        now = timezone.now()
        for clinic, admin, service, therapists in groups:
            first = next_monday(clinic.local_date())
            scheduling.get_week_availability(
                admin,
                clinic,
                therapists=therapists,
                service_id=service.pk,
                first_day=first,
                last_day=first + timedelta(days=7 * weeks - 1),
                now=now,
            )

    return call, found


def availability_figures() -> list[dict[str, Any]]:
    total = Therapist.objects.count()
    small = min(200, total // 2)
    runs = {}
    for count, weeks in ((small, 4), (small * 2, 4), (small, 8)):
        call, found = availability_across(count, weeks)
        call()  # warm the connection and caches, as a server would be
        runs[(count, weeks)] = (timed(call, 5), found)
    (median, p95), found = runs[(small, 4)]
    ratio_people = runs[(small * 2, 4)][0][0] / median
    ratio_weeks = runs[(small, 8)][0][0] / median
    return [
        {
            "id": f"availability_{found}_therapists_4_weeks",
            "value": round(p95, 1),
            "unit": "ms p95",
            "goal": "p95 <= 150 ms (goal stated for 200 therapists)",
            "met": p95 <= 150,
            "detail": {"median_ms": round(median, 1), "therapists": found},
        },
        {
            "id": "availability_twice_the_therapists_over_once",
            "value": round(ratio_people, 2),
            "unit": "ratio",
            "goal": "<= 2.2",
            "met": ratio_people <= 2.2,
            "detail": {"therapists": [small, small * 2]},
        },
        {
            "id": "availability_8_weeks_over_4_weeks",
            "value": round(ratio_weeks, 2),
            "unit": "ratio",
            "goal": "<= 2.2",
            "met": ratio_weeks <= 2.2,
            "detail": {},
        },
    ]


def availability_query_count() -> dict[str, Any]:
    """Queries of one therapist's free starts over 14 days (`free_starts`; a page over many
    therapists reads the same three kinds once for all of them, `free_starts_of`)."""
    clinic = first_clinic()
    therapist = clinic_therapists(clinic)[0]
    service = Service.objects.filter(clinic=clinic, duration_minutes=50).first()
    assert service is not None
    first = next_monday(clinic.local_date())
    with CaptureQueriesContext(connection) as queries:
        scheduling.free_starts(
            clinic,
            therapist_id=therapist.pk,
            service=service,
            first_day=first,
            last_day=first + timedelta(days=13),
            not_before=timezone.now(),
        )
    count = len(queries.captured_queries)
    return {
        "id": "availability_one_therapist_14_days_queries",
        "value": count,
        "unit": "queries",
        "goal": "<= 3",
        "met": count <= 3,
        "detail": {},
    }


def reminder_figures() -> list[dict[str, Any]]:
    """Every clinic reminds a week ahead (the longest allowed), so that as many appointments as
    the tier holds are due; rolled back at the end."""
    with transaction.atomic():
        SchedulingSettings.objects.update(reminder_hours_before=168)
        now = timezone.now()
        started = time.perf_counter()
        written = enqueue_due_reminders(now=now)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = enqueue_due_reminders(now=now)
        second = time.perf_counter() - started
        transaction.set_rollback(True)
    return [
        {
            "id": "reminder_enqueue",
            "value": round(first, 2),
            "unit": "s",
            "goal": "<= 5 s for 100,000 due appointments",
            "met": first <= 5 * max(written, 1) / 100_000 if written < 100_000 else first <= 5,
            "detail": {
                "reminders_written": written,
                "per_100000_s": round(first * 100_000 / max(written, 1), 2),
            },
        },
        {
            "id": "reminder_enqueue_rerun",
            "value": round(second, 2),
            "unit": "s",
            "goal": "adds nothing, <= 2 s",
            "met": again == 0 and second <= 2,
            "detail": {"reminders_written": again},
        },
    ]


def export_clinic(clinic: Clinic, *, traced: bool = False) -> tuple[int, float, int, int, int]:
    """Resources written, seconds, the job's `peak_rows`, the tracemalloc peak in bytes (0
    unless `traced`) and the bytes of NDJSON written, of one bulk export of `clinic`, run
    synchronously as the task would; the job is rolled back and its files removed."""
    with transaction.atomic():
        # Kicked off inside the transaction, so the queued task never commits: timed here.
        job = start_export(actor=member(clinic, Role.CLINIC_ADMIN), clinic=clinic)
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            done = run_export(job_id=job.pk, page_rows=EXPORT_PAGE_ROWS)
        finally:
            seconds = time.perf_counter() - started
            peak_bytes = tracemalloc.get_traced_memory()[1] if traced else 0
            tracemalloc.stop()
            written = sum(f.stat().st_size for f in export_folder(job).glob("*.ndjson"))
            shutil.rmtree(export_folder(job), ignore_errors=True)
        transaction.set_rollback(True)
    return sum(done.counts.values()), seconds, done.peak_rows, peak_bytes, written


def fhir_export_figure() -> dict[str, Any]:
    """The clinic with the most appointments, exported at full speed; then the smallest and
    the largest again under tracemalloc, whose peaks should follow neither the clinic's size
    nor the NDJSON written (at the S tier the clinics are about the same size)."""
    sizes = dict(Appointment.objects.values_list("clinic_id").annotate(rows=Count("pk")).order_by())
    by_size = sorted(Clinic.objects.all(), key=lambda c: (-sizes.get(c.pk, 0), c.name))
    largest, smallest = by_size[0], by_size[-1]
    resources, seconds, peak_rows, _, written = export_clinic(largest)
    rate = resources / seconds
    small_resources, _, _, small_bytes, _ = export_clinic(smallest, traced=True)
    large_bytes = export_clinic(largest, traced=True)[3]
    memory_ratio = large_bytes / max(small_bytes, 1)
    flat = peak_rows == EXPORT_PAGE_ROWS and memory_ratio <= 2
    return {
        "id": "fhir_bulk_export_one_clinic",
        "value": round(rate),
        "unit": "resources/s",
        "goal": ">= 5,000 resources/s with flat memory",
        "met": rate >= 5000 and flat,
        "detail": {
            "resources": resources,
            "seconds": round(seconds, 2),
            "peak_rows": peak_rows,
            "page_rows": EXPORT_PAGE_ROWS,
            "tracemalloc_peak_mb": [round(small_bytes / 2**20, 1), round(large_bytes / 2**20, 1)],
            "resources_small_large": [small_resources, resources],
            "ndjson_mb": round(written / 2**20, 1),
        },
    }


def availability_200() -> dict[str, Any]:
    """One timing of the 200-therapist, 4-week availability on this database: the tier figure
    (`availability_L_over_M`) runs it on the M and L databases in turn."""
    call, found = availability_across(200, 4)
    call()
    median, p95 = timed(call, 5)
    return {"median_ms": median, "p95_ms": p95, "therapists": found}


def inprocess() -> dict[str, Any]:
    figures = [
        availability_query_count(),
        *availability_figures(),
        *reminder_figures(),
        fhir_export_figure(),
    ]
    return {"figures": figures}


if __name__ == "__main__":
    step = {"prepare": prepare, "inprocess": inprocess, "availability_200": availability_200}[
        sys.argv[1]
    ]
    print("BENCH " + json.dumps(step()))
