"""Project-wide pytest fixtures: the three actors of every permission test, and clients."""

import importlib

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client
from hypothesis import settings as hypothesis_settings

from backcare.accounts.models import Clinic, Role, User
from tests.factories import make_clinic, make_member, make_user

# Hypothesis checks properties, not speed: no per-example deadline, which a loaded machine (the
# suite runs in parallel workers) could exceed and report as a failure. Speed lives in bench/.
hypothesis_settings.register_profile("backcare", deadline=None)
hypothesis_settings.load_profile("backcare")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Tests create many users; production keeps Django's default PBKDF2 hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate-limit counts live in the cache: each test starts with none and leaves none behind.
    cache.clear()
    yield
    cache.clear()


# Rows seeded by migrations, which emptying a transactional test's database removes.
MIGRATION_SEEDS = (
    "backcare.accounts.migrations.0002_seed_techniques",
    "backcare.plans.migrations.0002_seed_home_care_advice",
)


@pytest.fixture
def migration_seeds(transactional_db) -> None:
    """A transactional test's database with the techniques and home-care advice the migrations
    seed (an earlier transactional test may have emptied it; the seeds are idempotent)."""
    for module in MIGRATION_SEEDS:
        importlib.import_module(module).seed(apps, None)


@pytest.fixture
def clinic(db) -> Clinic:
    return make_clinic("Home Clinic")


@pytest.fixture
def other_clinic(db) -> Clinic:
    return make_clinic("Other Clinic")


@pytest.fixture
def admin(clinic) -> User:
    return make_member(clinic, Role.CLINIC_ADMIN)


@pytest.fixture
def stranger(db) -> User:
    """Signed in, but with no role anywhere."""
    return make_user(full_name="Stranger")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
