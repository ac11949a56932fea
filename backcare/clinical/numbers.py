"""Exact arithmetic for scores (RULES.md §0.3): fractions in, fractions out; rounding half-up,
for display only."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from backcare.clinical.errors import ClinicalInputError

Number = int | Fraction


def exact(value: object, *, item: str) -> Fraction:
    """`value` as an exact fraction. Accepts int, Fraction, Decimal and strings such as "6.5" or
    "320/9". A float is converted through its shortest decimal form (6.0 -> 6), never through
    its binary value. Raises `ClinicalInputError("not_a_number")` otherwise (booleans too)."""
    if isinstance(value, bool) or value is None:
        raise ClinicalInputError(
            "not_a_number", f"{item}: expected a number, got {value!r}.", item=item
        )
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float | Decimal | str):
        try:
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise ClinicalInputError(
        "not_a_number", f"{item}: expected a number, got {value!r}.", item=item
    )


def whole(value: object, *, item: str, low: int, high: int) -> int:
    """`value` as an integer within [low, high]. Raises `ClinicalInputError` with code
    "non_integer" for 4.5, "not_a_number" for text or booleans, "value_out_of_range" outside."""
    number = exact(value, item=item)
    if number.denominator != 1:
        raise ClinicalInputError(
            "non_integer",
            f"{item}: {value} is not a whole number; this scale has whole steps.",
            item=item,
        )
    integer = int(number)
    if not low <= integer <= high:
        raise ClinicalInputError(
            "value_out_of_range", f"{item}: {integer} is outside {low} to {high}.", item=item
        )
    return integer


def half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round for display with ROUND_HALF_UP, exactly (22.5 -> 23 at 0 places, -2.5 -> -3;
    Python's round() gives 22). Bands and thresholds use the unrounded value, never this."""
    scaled = value * 10**places
    magnitude = int(abs(scaled) + Fraction(1, 2))  # floor(|x| + 1/2): halves go away from zero
    return Decimal(-magnitude if scaled < 0 else magnitude).scaleb(-places)


def fraction_text(value: Fraction) -> str:
    """The reduced exact value as text: "320/9", "32", "-5/2"."""
    return str(value)


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (0 when `end` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)
