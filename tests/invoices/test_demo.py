"""seed-demo issues the invoices of its closed months through the services,
oldest first, renders their PDFs, and pays them so that the receivables
tell a story: some paid, one partly paid, one overdue. (A second run
creating nothing is checked for every table in tests/test_cli.py.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db as _db
from app.invoices.demo import issue_day
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.timesheets.calendar import add_months, month_end, month_start
from app.timeutil import today


def seed(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_seed_demo_issues_renders_and_pays_its_past_months(app, db):
    output = seed(app)
    day = today()

    invoices = list(_db.session.scalars(select(Invoice).order_by(Invoice.series_year, Invoice.sequence)))
    assert "18 factures émises" in output
    assert len(invoices) == 6 * 3  # six contracts, three closed months
    assert {i.month for i in invoices} == {add_months(month_start(day), -n) for n in (1, 2, 3)}
    assert all(i.number.startswith(f"LR{i.series_year}-") for i in invoices)
    # Numbers follow the dates, each month issued early the next one.
    assert [i.issue_date for i in invoices] == sorted(i.issue_date for i in invoices)
    for invoice in invoices:
        assert invoice.issue_date == issue_day(invoice.month, day)
        assert month_end(invoice.month) < invoice.issue_date <= month_end(invoice.month) + timedelta(days=2)
        assert invoice.due_date == invoice.issue_date + timedelta(days=30)
    # Rendered like the reports: the PDF job ran once seed-demo committed.
    assert all(i.pdf_sha256 and i.render_state == "done" for i in invoices)

    statuses = [i.status for i in invoices]
    assert statuses.count(InvoiceStatus.PAID) >= 8
    assert statuses.count(InvoiceStatus.PARTLY_PAID) == 1
    overdue = [i for i in invoices if i.is_overdue(day)]
    assert overdue and all(i.amount_paid == 0 or i.status == InvoiceStatus.PARTLY_PAID for i in overdue)
    assert {i.client.name for i in overdue if i.amount_paid == 0} >= {"Garage du Centre"}
    partly = next(i for i in invoices if i.status == InvoiceStatus.PARTLY_PAID)
    assert 0 < partly.amount_paid < partly.total_ttc
    for payment in _db.session.scalars(select(Payment)):
        assert payment.invoice.issue_date <= payment.received_on <= day
        assert payment.recorded_by is not None and payment.reference
