"""Invoices issued on a past day, for receivables and exports: the invoice
services issue "today", so the test moves their clock (numbers stay
chronological as long as the days come in order)."""

from __future__ import annotations

from datetime import date

import pytest

from app.invoices import services
from tests.factories import make_issued_invoice


def issue_on(
    monkeypatch: pytest.MonkeyPatch,
    day: date,
    client,
    lead,
    price: str = "100.00",
    vat: str = "20.00",
    title: str = "Prestation",
):
    """An issued invoice of one line (`price` HT at `vat` %) dated `day`,
    with its PDF stored."""
    real = services.agency_today
    monkeypatch.setattr(services, "agency_today", lambda: day)
    try:
        return make_issued_invoice(client, lead=lead, title=title, lines=[(title, "1", price, vat)])
    finally:
        monkeypatch.setattr(services, "agency_today", real)
