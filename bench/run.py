"""Measure BackCare under gunicorn with production settings (issue 10; docs/performance.md).

    .venv/bin/python bench/run.py --tier M            # make bench
    .venv/bin/python bench/run.py --tier S --quick    # make bench-quick
    .venv/bin/python bench/run.py --tier S --sqlite   # make bench-sqlite

Generates the tier's database when it is missing (bench/generate.py), starts two gunicorn servers
(DEBUG off, full middleware, PostgreSQL or SQLite; the second with the audit log off, for the
audit figure only), and for each figure interleaves runs of the hello-world baseline and of the
target with wrk, so that a busy machine slows both alike. Reports medians, p95 and the ratio to
the baseline; figures that are not pages (availability over many therapists, reminders) are timed
in a Django process on the same database; at the M tier, the availability across 200 therapists
is also timed on the L tier's database (generated when missing) for the L/M figure. Writes
bench/results/latest.json and prints a table; figures that miss their goal are flagged, and the
exit status stays 0 (a report, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
PG_SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PORTS = (8781, 8782)  # audit on, audit off
MARK = "BENCH "
WRK = shutil.which("wrk") or "/usr/bin/wrk"


@dataclass
class Figure:
    id: str
    value: float | None
    unit: str
    goal: str
    met: bool | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Settings:
    tier: str
    sqlite: bool
    rounds: int
    seconds: int
    connections: int

    @property
    def database_url(self) -> str:
        if self.sqlite:
            return f"sqlite:///{BENCH / 'results' / f'bench_{self.tier.lower()}.sqlite3'}"
        return f"{PG_SERVER}/backcare_bench_{self.tier.lower()}"


def server_env(settings: Settings, *, audit: bool = True) -> dict[str, str]:
    """Production settings (DEBUG off) for a server on 127.0.0.1 over plain HTTP."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HTTPS": "0",
        "DATABASE_URL": settings.database_url,
        "BACKCARE_BENCH": "1",
        "BACKCARE_AUDIT": "1" if audit else "0",
        "BACKCARE_API_RATE": "100000000/min",  # the limiter stays on; its budget is not the test
        "BACKCARE_PUBLIC_RATE": "100000000/min",  # likewise for the public pages (booking)
        "LOG_LEVEL": "WARNING",
    }


SECRET_KEY = secrets.token_urlsafe(50)


# --- Database --------------------------------------------------------------------------------


def database_ready(settings: Settings) -> bool:
    if settings.sqlite:
        return Path(settings.database_url.removeprefix("sqlite:///")).exists()
    import psycopg

    name = f"backcare_bench_{settings.tier.lower()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found:
            return True
        conn.execute(f'CREATE DATABASE "{name}"')
    return False


def ensure_database(settings: Settings) -> None:
    """Generate the tier's database when it is missing; else bring its schema up to date (a
    database generated before a later migration would otherwise fail the figures that use it)."""
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": settings.database_url}
    if database_ready(settings):
        subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
        )
        return
    Path(BENCH / "results").mkdir(exist_ok=True)
    print(f"Generating tier {settings.tier} into {settings.database_url} ...", flush=True)
    subprocess.run(  # noqa: S603
        [PYTHON, str(BENCH / "generate.py"), "--tier", settings.tier], env=env, check=True
    )


def django_step(settings: Settings, step: str) -> dict[str, Any]:
    """Run a step of bench/steps.py in its own Django process with the server's settings."""
    result = subprocess.run(  # noqa: S603
        [PYTHON, str(BENCH / "steps.py"), step],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench/steps.py {step} failed:\n{result.stderr[-3000:]}")
    line = [row for row in result.stdout.splitlines() if row.startswith(MARK)][-1]
    return json.loads(line.removeprefix(MARK))


# --- Servers ---------------------------------------------------------------------------------


@contextmanager
def servers(settings: Settings) -> Iterator[None]:
    """Both gunicorn servers (three sync workers each, as for two cores) while the block runs."""
    started = []
    for port, audit in zip(PORTS, (True, False), strict=True):
        started.append(
            subprocess.Popen(  # noqa: S603
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "3",
                    "--log-level",
                    "warning",
                ],
                env=server_env(settings, audit=audit),
                cwd=ROOT,
            )
        )
    try:
        for port in PORTS:
            wait_until_up(port)
        yield
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer on port {port}")


def settle(*, quick_s: float = 0.1, in_a_row: int = 6, limit_s: float = 180) -> None:
    """Wait until both servers answer hello-world quickly several times in a row: when a run
    of a slow page ends, its requests still queued keep the workers busy, and would slow the
    next figure instead."""
    deadline = time.monotonic() + limit_s
    for port in PORTS:
        quick = 0
        while quick < in_a_row and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/hello", timeout=limit_s)
            except (urllib.error.URLError, OSError):
                quick = 0
                time.sleep(0.2)
                continue
            quick = quick + 1 if time.perf_counter() - started < quick_s else 0


# --- Load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    path: str
    cookie: str = ""
    token: str = ""
    port: int = PORTS[0]

    def headers(self) -> dict[str, str]:
        found = {}
        if self.cookie:
            found["Cookie"] = self.cookie
        if self.token:
            found["Authorization"] = f"Bearer {self.token}"
        return found

    def check(self) -> None:
        """The page answers 200 once before it is measured (a redirect or 404 is no figure)."""
        connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", self.path, headers=self.headers())
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{self.path} answered {response.status}, not 200")


def wrk(target: Target, settings: Settings) -> dict[str, float]:
    env = {**os.environ, "BENCH_COOKIE": target.cookie, "BENCH_TOKEN": target.token}
    result = subprocess.run(  # noqa: S603
        [
            WRK,
            "-t1",
            f"-c{settings.connections}",
            f"-d{settings.seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "wrk.lua"),
            f"http://127.0.0.1:{target.port}{target.path}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = [row for row in result.stdout.splitlines() if row.startswith(MARK)][-1]
    run = json.loads(line.removeprefix(MARK))
    run["rps"] = run["requests"] / run["seconds"]
    return run


def interleaved(
    baseline: Target, target: Target, settings: Settings
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Alternate baseline and target runs, `rounds` of each."""
    target.check()
    base_runs, target_runs = [], []
    for _ in range(settings.rounds):
        base_runs.append(wrk(baseline, settings))
        target_runs.append(wrk(target, settings))
    return base_runs, target_runs


def page_figure(
    figure_id: str,
    baseline: Target,
    target: Target,
    settings: Settings,
    *,
    min_ratio: float | None = None,
    max_p95_ms: float | None = None,
) -> Figure:
    base_runs, runs = interleaved(baseline, target, settings)
    # A slow target keeps the workers busy after its run: a baseline run may then complete no
    # request at all, and that round gives no ratio (the figure still counts its errors).
    ratios = [t["rps"] / b["rps"] for b, t in zip(base_runs, runs, strict=True) if b["rps"]]
    rps = statistics.median(r["rps"] for r in runs)
    p95 = statistics.median(r["p95_ms"] for r in runs)
    ratio = statistics.median(ratios) if ratios else 0.0
    errors = sum(r["errors"] + r["non2xx"] for r in runs)
    # A run that completed no request (each took longer than the run) has no p95: not met.
    silent = sum(1 for r in runs if not r["requests"])
    goals, met = [], errors == 0 and not silent
    if min_ratio is not None:
        goals.append(f"throughput >= {min_ratio} x hello-world")
        met = met and ratio >= min_ratio
    if max_p95_ms is not None:
        goals.append(f"p95 <= {max_p95_ms:g} ms")
        met = met and p95 <= max_p95_ms
    figure = Figure(
        figure_id,
        round(rps, 1),
        "requests/s",
        ", ".join(goals) or "reference, no goal (errors only)",
        met,
        {
            "ratio_to_hello": round(ratio, 3),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 1),
            "p95_ms": round(p95, 1),
            "hello_rps": round(statistics.median(b["rps"] for b in base_runs), 1),
            "errors": errors,
            "path": target.path.split("?")[0],
        },
    )
    if silent:
        figure.detail["runs_without_a_response"] = silent
    return figure


def audit_figure(page: Target, settings: Settings) -> Figure:
    """The patient record page on the audit-on and the audit-off server, interleaved."""
    off = Target(page.path, cookie=page.cookie, port=PORTS[1])
    off_runs, on_runs = interleaved(off, page, settings)
    cost = 1 - statistics.median(
        on["rps"] / off_["rps"] for off_, on in zip(off_runs, on_runs, strict=True)
    )
    return Figure(
        "audit_overhead_patient_page",
        round(cost * 100, 1),
        "% throughput cost",
        "<= 15 %",
        cost <= 0.15,
        {
            "audit_on_rps": round(statistics.median(r["rps"] for r in on_runs), 1),
            "audit_off_rps": round(statistics.median(r["rps"] for r in off_runs), 1),
        },
    )


def booking_figure(plan: dict[str, Any], settings: Settings, *, sqlite: bool) -> Figure:
    """8 clients book through the API at once, each with its own therapist and patients; every
    tenth request repeats the client's previous time on purpose and must answer 409."""
    clients = plan["booking_clients"]
    counts = {"created": 0, "conflict": 0, "other": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + settings.seconds * 2

    def client(slots: list[dict[str, str]]) -> None:
        connection = HTTPConnection("127.0.0.1", PORTS[0], timeout=30)
        previous: dict[str, str] | None = None
        for n, slot in enumerate(slots):
            if time.monotonic() > stop_at:
                return
            body = previous if (n % 10 == 9 and previous) else slot
            connection.request(
                "POST",
                "/api/v1/appointments",
                body=json.dumps(body),
                headers={
                    "Authorization": f"Bearer {plan['token']}",
                    "Content-Type": "application/json",
                },
            )
            response = connection.getresponse()
            response.read()
            kind = {201: "created", 409: "conflict"}.get(response.status, "other")
            with lock:
                counts[kind] += 1
            previous = slot

    threads = [threading.Thread(target=client, args=(slots,)) for slots in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = counts["created"] / (time.monotonic() - started)
    goal = 30 if sqlite else 100
    return Figure(
        "booking_create_8_clients" + ("_sqlite" if sqlite else ""),
        round(rate, 1),
        "bookings/s",
        f">= {goal}/s, no errors but the intended 409s",
        rate >= goal and counts["other"] == 0,
        {**counts, "clients": len(clients)},
    )


# --- Report ----------------------------------------------------------------------------------


def tier_figure(m_tier: Settings) -> Figure:
    """Availability across 200 therapists for 4 weeks on the L tier (ten times the history) over
    the same on M: generates L when it is missing (about ten times M's time and disk), then
    times M and L in turn, `rounds` times each, and compares the medians."""
    l_tier = replace(m_tier, tier="L")
    ensure_database(l_tier)
    times: dict[str, list[float]] = {"M": [], "L": []}
    for _ in range(m_tier.rounds):
        for tier in (m_tier, l_tier):
            times[tier.tier].append(django_step(tier, "availability_200")["median_ms"])
    m_ms, l_ms = statistics.median(times["M"]), statistics.median(times["L"])
    ratio = l_ms / m_ms
    return Figure(
        "availability_L_over_M",
        round(ratio, 2),
        "ratio",
        "<= 1.3 (200 therapists, 4 weeks; L holds ten times M's history)",
        ratio <= 1.3,
        {"median_ms_M": round(m_ms, 1), "median_ms_L": round(l_ms, 1), "rounds": m_tier.rounds},
    )


def cold_page_figure(figure_id: str, target: Target, *, max_seconds: float) -> Figure:
    """The page's first request after the servers started (cold: no worker has served it, the
    database has not run its queries since the servers started), then three more (warm, each
    worker's first or second). The value is the cold time; a status other than 200, gunicorn's
    worker timeout included, misses the goal."""
    runs: list[tuple[float, int]] = []
    for _ in range(4):
        started = time.perf_counter()
        connection = HTTPConnection("127.0.0.1", target.port, timeout=900)
        try:
            connection.request("GET", target.path, headers=target.headers())
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        runs.append((time.perf_counter() - started, status))
    cold, status = runs[0]
    return Figure(
        figure_id,
        round(cold, 3),
        "s",
        f"<= {max_seconds:g} s cold",
        status == 200 and cold <= max_seconds,
        {
            "status": status,
            "warm_median_s": round(statistics.median(t for t, _ in runs[1:]), 3),
            "warm_statuses": sorted({s for _, s in runs[1:]}),
            "path": target.path,
        },
    )


def not_measured(figure_id: str, goal: str, reason: str) -> Figure:
    return Figure(figure_id, None, "", goal, None, {"not_measured": reason})


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "unit", "goal", "met", "detail")]
    for f in figures:
        met = "not measured" if f.met is None else ("yes" if f.met else "MISSED")
        value = "-" if f.value is None else f"{f.value:g}"
        detail = f.detail.get("not_measured") or ", ".join(
            f"{k}={v}" for k, v in f.detail.items() if k != "path"
        )
        rows.append((f.id, value, f.unit, f.goal, met, detail))
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(r[:5], widths, strict=False)) + "  " + r[5]
        for r in rows
    )


def measure(settings: Settings, *, tiers: bool = True) -> list[Figure]:
    plan = django_step(settings, "prepare")
    hello = Target("/bench/hello")
    admin = f"sessionid={plan['admin_session']}"
    patient = f"sessionid={plan['patient_session']}"
    figures: list[Figure] = []
    api = {"token": plan["token"]}
    group = f"sessionid={plan['group_session']}" if plan.get("group_session") else ""
    with servers(settings):
        hello.check()
        steps: list[Callable[[], Figure]] = [
            # First, so that its first request is the first the servers get for it (cold).
            lambda: (
                cold_page_figure(
                    "clinic_analytics_whole_group",
                    Target("/clinic/analytics/group/", cookie=group),
                    max_seconds=2,
                )
                if group
                else not_measured(
                    "clinic_analytics_whole_group",
                    "<= 2 s cold",
                    "the database has no group admin (generated before bench/generate.py made one)",
                )
            ),
            # Not a goal: one database round trip (SELECT 1), to tell the database's share.
            lambda: page_figure("healthz_one_query", hello, Target("/healthz"), settings),
            lambda: page_figure(
                "api_patient_list_50",
                hello,
                Target("/api/v1/patients?limit=50", **api),
                settings,
                min_ratio=0.25,
                max_p95_ms=50,
            ),
            lambda: page_figure(
                "api_patient_detail",
                hello,
                Target(f"/api/v1/patients/{plan['patient_id']}", **api),
                settings,
                min_ratio=0.25,
                max_p95_ms=50,
            ),
            lambda: page_figure(
                "api_appointment_list_50",
                hello,
                Target(f"/api/v1/patients/{plan['patient_id']}/appointments?limit=50", **api),
                settings,
                min_ratio=0.25,
                max_p95_ms=50,
            ),
            lambda: page_figure(
                "patient_booking_page",
                hello,
                Target("/portal/book/", cookie=patient),
                settings,
                min_ratio=0.10,
            ),
            lambda: page_figure(
                "availability_one_therapist_page",
                hello,
                Target(plan["availability_path"], cookie=patient),
                settings,
                min_ratio=0.15,
            ),
            lambda: page_figure(
                "clinic_analytics_one_clinic",
                hello,
                Target("/clinic/analytics/", cookie=admin),
                settings,
                max_p95_ms=200,
            ),
            lambda: audit_figure(
                Target(f"/patients/{plan['patient_id']}/", cookie=admin), settings
            ),
            lambda: booking_figure(plan, settings, sqlite=settings.sqlite),
        ]
        for step in steps:
            try:
                figures.append(step())
            except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
                figures.append(not_measured(f"step_{len(figures) + 1}", "", f"failed: {error}"))
            print(table(figures[-1:]).splitlines()[-1], flush=True)
            settle()
    for row in django_step(settings, "inprocess")["figures"]:
        figures.append(Figure(**row))
        print(table(figures[-1:]).splitlines()[-1], flush=True)
    if tiers and settings.tier == "M" and not settings.sqlite:
        figures.append(tier_figure(settings))
        print(table(figures[-1:]).splitlines()[-1], flush=True)
    return figures


def report_tier_figure(settings: Settings) -> int:
    """Measure the L/M figure alone and put it in the last results (replacing an older one)."""
    out = BENCH / "results" / "latest.json"
    report = json.loads(out.read_text())
    figure = tier_figure(settings)
    kept = [f for f in report["figures"] if f["id"] != figure.id]
    report["figures"] = [*kept, asdict(figure)]
    report["tier_figure_commit"] = commit()
    out.write_text(json.dumps(report, indent=2) + "\n")
    figures = [Figure(**f) for f in report["figures"]]
    (BENCH / "results" / "latest.txt").write_text(table(figures) + "\n")
    print(table([figure]))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", choices=("S", "M", "L"), default="M")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    parser.add_argument(
        "--tiers",
        choices=("with", "without", "only"),
        default="with",
        help="the L/M figure (M tier): with the rest (default), without it, or only it, added to "
        "the last results (L takes long to generate: the two parts can run apart)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: `make bench-deps` installs it from Debian.", file=sys.stderr)
        return 2
    settings = Settings(
        tier=args.tier,
        sqlite=args.sqlite,
        rounds=3 if args.quick else 5,
        seconds=2 if args.quick else 8,
        connections=4,
    )
    ensure_database(settings)
    if args.tiers == "only":
        return report_tier_figure(settings)
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env=server_env(settings),
        cwd=ROOT,
        check=True,
    )
    about = {
        **machine(),
        "tier": settings.tier,
        "database": "sqlite" if args.sqlite else "postgresql",
    }
    figures = measure(settings, tiers=args.tiers == "with")
    report = {"machine": about, "commit": commit(), "figures": [asdict(f) for f in figures]}
    out = BENCH / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    text = table(figures)
    (BENCH / "results" / "latest.txt").write_text(text + "\n")
    print()
    print(f"BackCare bench, tier {settings.tier} on {about['database']}, commit {report['commit']}")
    print(text)
    missed = [f.id for f in figures if f.met is False]
    print(f"\n{len(missed)} figure(s) missed their goal: {', '.join(missed) or 'none'}")
    print(f"Written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
