"""Clock helpers: one notion of "now" and of the agency's "today"."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The agency's calendar day (Europe/Paris), not the server's."""
    return datetime.now(PARIS).date()
