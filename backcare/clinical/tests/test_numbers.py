from decimal import Decimal
from fractions import Fraction

import pytest

from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.numbers import exact, half_up, whole


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Fraction(45, 2), 0, Decimal("23")),  # Python's round() would give 22 (RULES.md §0.3)
        (Fraction(320, 9), 2, Decimal("35.56")),
        (Fraction(320, 9), 1, Decimal("35.6")),
        (Fraction(-5, 2), 0, Decimal("-3")),
        (Fraction(1, 8), 2, Decimal("0.13")),
        (Fraction(0), 2, Decimal("0.00")),
    ],
)
def test_half_up_rounds_halves_away_from_zero(value, places, shown):
    assert half_up(value, places) == shown
    assert str(half_up(value, places)) == str(shown)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (6.0, Fraction(6)),
        ("320/9", Fraction(320, 9)),
        (Decimal("0.1"), Fraction(1, 10)),
        (0.1, Fraction(1, 10)),
    ],
)
def test_exact_uses_the_decimal_form_never_the_binary_float(value, expected):
    assert exact(value, item="x") == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (True, "not_a_number"),
        (None, "not_a_number"),
        ("abc", "not_a_number"),
        (4.5, "non_integer"),
        (11, "value_out_of_range"),
    ],
)
def test_whole_refuses_with_a_named_error(value, code):
    with pytest.raises(ClinicalInputError) as raised:
        whole(value, item="pain", low=0, high=10)
    assert (raised.value.code, raised.value.item) == (code, "pain")
