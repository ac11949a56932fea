"""The settings file refuses unsafe production configurations and passes Django's deploy checks.

Each case starts a fresh `manage.py check --deploy --fail-level WARNING` with only the
variables it names (plus PATH), because settings are read once per process.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET = secrets.token_urlsafe(64)


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY and ALLOWED_HOSTS"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "backcare.example.org"}, "SECRET_KEY must"),
        ({"DEBUG": "0", "SECRET_KEY": SECRET}, "ALLOWED_HOSTS must"),
        ({}, "SECRET_KEY and ALLOWED_HOSTS"),  # DEBUG defaults to off
    ],
)
def test_refuses_to_start_without_secret_key_and_allowed_hosts_when_debug_is_off(env, missing):
    result = run_check(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_deploy_check_passes_with_only_secret_key_and_allowed_hosts(tmp_path):
    # Any warning fails the check (--fail-level WARNING), not only errors.
    result = run_check(
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="backcare.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_on_a_warning(tmp_path):
    result = run_check(
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="backcare.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        HSTS_SECONDS="0",
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_relaxing_staff_mfa_is_refused_outside_debug():
    result = run_check(
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="backcare.example.org",
        BACKCARE_REQUIRE_STAFF_MFA="0",
    )
    assert result.returncode != 0
    assert "allowed only for the demo" in result.stderr


def test_production_settings_are_secure_by_default():
    script = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS > 0, s.BACKCARE_REQUIRE_STAFF_MFA,"
        " s.MAILERS['default']['BACKEND'].endswith('smtp.EmailBackend'))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DEBUG": "0",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "backcare.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.split() == ["True"] * 6, result.stderr


def test_turning_audit_off_is_refused_outside_the_benchmarks():
    result = run_check(
        DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="backcare.example.org", BACKCARE_AUDIT="0"
    )
    assert result.returncode != 0
    assert "allowed only for benchmarks" in result.stderr


def test_turning_audit_off_is_accepted_for_the_benchmarks():
    result = run_check(
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="backcare.example.org",
        BACKCARE_AUDIT="0",
        BACKCARE_BENCH="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
