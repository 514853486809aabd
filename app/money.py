"""Money rules, in one place: Decimal EUR, rounded half-up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    """Minutes as the hours an invoice line bills: two decimals, half-up
    (90 min = 1.50 h; 100 min = 1.67 h)."""
    return (Decimal(minutes) / Decimal(60)).quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """An invoice line's amount HT: quantity x unit price, rounded per line."""
    return to_cents(quantity * unit_price)


def vat_on(base: Decimal, rate: Decimal) -> Decimal:
    """VAT at `rate` percent on `base` HT (708.00 at 20 -> 141.60)."""
    return to_cents(base * rate / Decimal(100))


def billed_amount(minutes: int, hourly_rate: Decimal) -> Decimal:
    """`minutes` billed at `hourly_rate` as an invoice line bills them (hours
    to two decimals, then the amount to the cent), so a budget's figures and
    its invoice agree to the cent."""
    return line_total(hours(minutes), hourly_rate)


def minutes_amount(minutes: int, hourly_rate: Decimal) -> Decimal:
    """`minutes` of work at `hourly_rate`, rounded to the cent (costs)."""
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
