"""Money rules, in one place: Decimal EUR, rounded half-up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def minutes_amount(minutes: int, hourly_rate: Decimal) -> Decimal:
    """`minutes` of work at `hourly_rate`, rounded to the cent."""
    return to_cents(Decimal(minutes) * hourly_rate / Decimal(60))


def prorate(amount: Decimal, numerator: int, denominator: int) -> Decimal:
    if numerator >= denominator:
        return to_cents(amount)
    return to_cents(amount * Decimal(numerator) / Decimal(denominator))


def prorate_minutes(minutes: int, numerator: int, denominator: int) -> int:
    if numerator >= denominator:
        return minutes
    exact = Decimal(minutes) * Decimal(numerator) / Decimal(denominator)
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole in percent (one decimal), None when whole is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
