import pytest

from backcare.accounts.models import Room
from backcare.core.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    full_clean_or_invalid,
    http_status_for,
)
from tests.factories import make_clinic


class LostRace(ConflictError):
    pass


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (LostRace("x"), 409),
        (InvalidInputError("x"), 422),
        (DomainError("x"), 422),
    ],
)
def test_each_domain_error_maps_to_its_http_status(error, status):
    assert http_status_for(error) == status


@pytest.mark.django_db
def test_full_clean_or_invalid_names_each_bad_field():
    room = Room(clinic=make_clinic(), name="x" * 200)
    with pytest.raises(InvalidInputError) as raised:
        full_clean_or_invalid(room)
    assert "name" in raised.value.field_errors
    assert "at most 80 characters" in raised.value.field_errors["name"]
