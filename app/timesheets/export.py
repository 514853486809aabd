"""CSV for French Excel: ';' separator, UTF-8 with BOM, decimal commas, and
no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal

from app.timesheets.models import TimeEntry

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    # Spaces before a formula do not disarm it everywhere: some imports trim them.
    if text.lstrip().startswith(FORMULA_START):
        return "'" + text
    return text


def french_hours(minutes: int) -> str:
    hours = (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return str(hours).replace(".", ",")


HEADER = ["Date", "Client", "Contrat", "Community manager", "Activité", "Canal", "Minutes", "Heures", "Note"]


def csv_lines(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    """The lines of a CSV file for French Excel, the first with the BOM it
    needs to read UTF-8 (the caller makes every text cell `safe_cell`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(header)
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow(row)
        yield flush()


def entries_csv(entries: Iterable[TimeEntry]) -> Iterator[str]:
    return csv_lines(HEADER, (_entry_row(entry) for entry in entries))


def _entry_row(entry: TimeEntry) -> list[object]:
    return [
        entry.day.strftime("%d/%m/%Y"),
        safe_cell(entry.client.name),
        safe_cell(entry.contract.title),
        safe_cell(entry.cm.name),
        safe_cell(entry.activity.label),
        safe_cell(entry.channel or ""),
        entry.minutes,
        french_hours(entry.minutes),
        safe_cell(entry.note),
    ]
