import pytest

from backcare.accounts.models import Clinic
from backcare.core.changes import apply_changes
from backcare.core.errors import InvalidInputError


def test_apply_changes_sets_values_and_names_only_the_changed_fields():
    clinic = Clinic(name="Old", city="Leeds", time_zone="Europe/London")
    changed = apply_changes(clinic, {"name": "New", "city": "Leeds"}, ["name", "city"])
    assert changed == ["name"]
    assert (clinic.name, clinic.city) == ("New", "Leeds")


def test_apply_changes_refuses_unknown_fields_before_changing_anything():
    clinic = Clinic(name="Old", time_zone="Europe/London")
    with pytest.raises(InvalidInputError, match="cannot be changed here: time_zone"):
        apply_changes(clinic, {"name": "New", "time_zone": "UTC"}, ["name"])
    assert clinic.name == "Old"
