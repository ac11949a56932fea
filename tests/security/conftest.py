"""The seeded world shared by the access walk and the header crawler."""

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.scenario import build_world

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    """Built once inside a transaction rolled back at the end; each test runs in a savepoint of
    it, so what a test writes is gone before the next one."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=FAST_HASHER):
            built = build_world()
        yield built
        transaction.set_rollback(True)
