"""Demo invoices (seed-demo): the closed months of the demo contracts,
drafted and issued through the services, oldest month first, then paid so
that the receivables tell a story: most invoices paid, one partly paid, a
late payer with overdue invoices, the last month not due yet.

Dates. The services issue an invoice "today", and numbers are chronological.
A demo whose every invoice was issued this morning would have nothing
overdue, so the demo issues each month's invoices on the 2nd of the next
month (never after today), through `_demo_issue_day()`: a demo-only clock
for the invoice services, used nowhere else. Every other rule applies as it
would to the lead (blockers, ceiling decision, numbering under its lock, the
month lock, the audit log, the PDF job queued: rendered once seed-demo
commits, as the reports are).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract
from app.extensions import db
from app.invoices import services
from app.invoices.models import CeilingDecision, Invoice, PaymentMethod
from app.invoices.receipts import record_payment
from app.invoices.services import InvoiceError, decide_ceiling, draft_for_month, issue_invoice
from app.money import to_cents
from app.timesheets.calendar import month_end
from app.timesheets.models import MonthLock
from app.timeutil import today as agency_today

LATE_PAYER = "Garage du Centre"  # pays nothing: its invoices run late
PARTLY_PAID = ("Fromagerie Martin", 2)  # (client, months ago): half of it paid
PAID_AT_ONCE = "Cabinet Kiné Rivière"  # pays even the last month, by cheque


@dataclass
class DemoInvoices:
    issued: int = 0
    payments: int = 0


@contextmanager
def _demo_issue_day(day: date) -> Iterator[None]:
    """Demo only: the invoice services see `day` as today while a past
    month's invoices are issued (see the module's docstring)."""
    real = services.agency_today
    services.agency_today = lambda: day
    try:
        yield
    finally:
        services.agency_today = real


def issue_day(month: date, today: date) -> date:
    """When the demo issues a month's invoices: the 2nd of the next month,
    or today if that is still to come."""
    return min(month_end(month) + timedelta(days=2), today)


def issue_demo_invoices(lead: User, clients: list[Client], seed: int = 2026) -> DemoInvoices:
    """Issue the invoice of every closed month of the demo contracts that
    has none issued yet, and record the payments of those issued now.
    Idempotent: an issued month is left as it is."""
    today = agency_today()
    result = DemoInvoices()
    contracts = list(
        db.session.scalars(
            select(Contract).where(Contract.client_id.in_([c.id for c in clients])).order_by(Contract.id)
        )
    )
    locks = db.session.execute(
        select(MonthLock.contract_id, MonthLock.month).where(
            MonthLock.contract_id.in_([c.id for c in contracts])
        )
    ).all()
    closed = {(contract_id, month) for contract_id, month in locks}
    months = sorted({month for _id, month in closed})
    issued: list[Invoice] = []
    for month in months:  # oldest first: numbers follow the dates
        day = issue_day(month, today)
        for contract in contracts:
            if (contract.id, month) not in closed:
                continue
            try:
                invoice = draft_for_month(lead, contract, month)
                if not invoice.is_draft:
                    continue
                if invoice.ceiling_decision == CeilingDecision.PENDING:
                    decide_ceiling(lead, invoice, confirm=True)  # the lead bills the extra hours
                with _demo_issue_day(day):
                    issue_invoice(lead, invoice)
            except InvoiceError:
                continue  # e.g. a later invoice issued by hand since: left as a draft
            issued.append(invoice)
    result.issued = len(issued)
    if months:
        result.payments = _pay(lead, issued, months[-1], today, random.Random(seed))
    db.session.flush()
    return result


def _months_ago(invoice: Invoice, last_month: date) -> int:
    return (last_month.year - invoice.month.year) * 12 + last_month.month - invoice.month.month + 1


def _pay(lead: User, invoices: list[Invoice], last_month: date, today: date, rnd: random.Random) -> int:
    """Payments of the invoices just issued: all but the late payer's and
    the last month's are paid, one of them only in part."""
    count = 0
    for invoice in invoices:
        name = invoice.client.name
        ago = _months_ago(invoice, last_month)
        if name == LATE_PAYER or (ago == 1 and name != PAID_AT_ONCE):
            continue
        received = min(invoice.issue_date + timedelta(days=rnd.randint(6, 24)), today)
        amount = invoice.amount_due
        method, reference = PaymentMethod.TRANSFER, f"VIR {name.upper()} {invoice.number}"
        if (name, ago) == PARTLY_PAID:
            amount = to_cents(amount / Decimal(2))
            reference = f"VIR {name.upper()} ACOMPTE {invoice.number}"
        elif name == PAID_AT_ONCE:
            method, reference = PaymentMethod.CHEQUE, f"Chèque n° {rnd.randint(1000000, 9999999)}"
        record_payment(
            lead,
            invoice,
            amount=amount,
            received_on=received,
            method=method,
            reference=reference,
            strict=True,
        )
        count += 1
    return count
