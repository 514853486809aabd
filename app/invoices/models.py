"""Invoices and credit notes, their lines, and the payments against them.

A draft has no number and can change. Issuing freezes it: number, dates,
lines, amounts and the seller's and buyer's identities as they were that day
(`seller`, `buyer`). From then on only its payment state and its PDF move
(see `FROZEN` and app/invoices/guards.py, plus a PostgreSQL trigger).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract
from app.documents.rendering import RenderState
from app.extensions import db
from app.money import ZERO
from app.timeutil import utcnow


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"  # avoir


class InvoiceStatus(StrEnum):
    """Stored states. "Overdue" is not stored: an issued or partly paid
    invoice past its due date (see Invoice.display_status)."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    CANCELLED = "cancelled"  # by a credit note for its whole amount


class CeilingDecision(StrEnum):
    """What the lead chose for a draft that goes past the budget ceiling."""

    NONE = "none"  # nothing past the ceiling
    PENDING = "pending"  # past it: the lead must decide before issuing
    CONFIRMED = "confirmed"  # bill it all
    CAPPED = "capped"  # bill up to the ceiling


class LineKind(StrEnum):
    FEE = "fee"  # the retainer
    OVERAGE = "overage"  # hours past the included ones
    HOURS = "hours"  # hourly contract
    MANUAL = "manual"


class PaymentMethod(StrEnum):
    TRANSFER = "transfer"
    CARD = "card"
    CHEQUE = "cheque"
    OTHER = "other"


# What issuing freezes: an issued invoice's row may change nothing of these.
FROZEN = (
    "client_id",
    "contract_id",
    "kind",
    "month",
    "number",
    "series_year",
    "sequence",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "title",
    "seller",
    "buyer",
    "vat_franchise",
    "total_ht",
    "total_vat",
    "total_ttc",
    "credited_invoice_id",
    "credit_reason",
    "issued_at",
    "issued_by_id",
)


class Invoice(db.Model):
    __tablename__ = "invoice"
    __table_args__ = (
        ForeignKeyConstraint(
            ["contract_id", "client_id"],
            ["contract.id", "contract.client_id"],
            name="fk_invoice_contract_client",
            ondelete="RESTRICT",
        ),
        UniqueConstraint("number", name="uq_invoice_number"),
        UniqueConstraint("kind", "series_year", "sequence", name="uq_invoice_series_sequence"),
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind"),
        CheckConstraint("status IN ('draft', 'issued', 'partly_paid', 'paid', 'cancelled')", name="status"),
        CheckConstraint(
            "ceiling_decision IN ('none', 'pending', 'confirmed', 'capped')", name="ceiling_decision"
        ),
        CheckConstraint(
            "render_state IN ('idle', 'queued', 'rendering', 'done', 'failed')", name="render_state"
        ),
        CheckConstraint(
            "(status = 'draft' AND number IS NULL)"
            " OR (status <> 'draft' AND number IS NOT NULL AND issue_date IS NOT NULL"
            " AND due_date IS NOT NULL AND sequence IS NOT NULL)",
            name="numbered_when_issued",
        ),
        CheckConstraint(
            "(kind = 'credit_note') = (credited_invoice_id IS NOT NULL)", name="credit_note_refers"
        ),
        CheckConstraint("total_ht >= 0 AND total_vat >= 0 AND total_ttc >= 0", name="totals"),
        # One live invoice per contract and month: a cancelled one (credit
        # note) makes room for its replacement.
        Index(
            "uq_invoice_contract_month",
            "contract_id",
            "month",
            unique=True,
            postgresql_where=text("kind = 'invoice' AND month IS NOT NULL AND status <> 'cancelled'"),
            sqlite_where=text("kind = 'invoice' AND month IS NOT NULL AND status <> 'cancelled'"),
        ),
        Index("ix_invoice_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(12), default=InvoiceKind.INVOICE)
    status: Mapped[str] = mapped_column(String(12), default=InvoiceStatus.DRAFT)
    # The month a contract invoice bills (first day); None for manual invoices.
    month: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200), default="")

    # Set when issued (never before, never changed after).
    number: Mapped[str | None] = mapped_column(String(30))
    series_year: Mapped[int | None]
    sequence: Mapped[int | None]
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    seller: Mapped[dict | None] = mapped_column(JSON)
    buyer: Mapped[dict | None] = mapped_column(JSON)
    vat_franchise: Mapped[bool] = mapped_column(default=False)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    # Totals, kept in step with the lines (frozen once issued).
    total_ht: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    total_vat: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    total_ttc: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)

    # Credit notes: the invoice they correct, and why.
    credited_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", ondelete="RESTRICT"), index=True
    )
    credit_reason: Mapped[str] = mapped_column(Text, default="")

    # Budget ceiling: the part of the draft past it, and the lead's decision.
    ceiling_decision: Mapped[str] = mapped_column(String(10), default=CeilingDecision.NONE)
    ceiling_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # the month's ceiling HT
    excess_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)

    # Receivables (move after issuing).
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)
    amount_credited: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=ZERO)  # TTC
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # The PDF (PDF/A-3 with its Factur-X XML), rendered by a job after issuing.
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("document.sha256", ondelete="RESTRICT"))
    render_state: Mapped[str] = mapped_column(String(10), default=RenderState.IDLE)
    render_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # client told

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    client: Mapped[Client] = relationship()
    contract: Mapped[Contract | None] = relationship(foreign_keys=[contract_id])
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.id")
    credited_invoice: Mapped[Invoice | None] = relationship(remote_side=[id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    # -- derived --------------------------------------------------------------
    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def amount_due(self) -> Decimal:
        """What the client still owes (TTC): nothing on a draft or a credit note."""
        if self.is_draft or self.is_credit_note or self.status == InvoiceStatus.CANCELLED:
            return ZERO
        return max(self.total_ttc - self.amount_credited - self.amount_paid, ZERO)

    def is_overdue(self, today: date) -> bool:
        return (
            self.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
            and not self.is_credit_note
            and self.due_date is not None
            and self.due_date < today
            and self.amount_due > 0
        )

    def days_overdue(self, today: date) -> int:
        return (today - self.due_date).days if self.is_overdue(today) and self.due_date else 0

    def display_status(self, today: date) -> str:
        return "overdue" if self.is_overdue(today) else self.status

    def settle(self) -> None:
        """Set the payment state from the amounts paid and credited (a
        cancelled invoice stays cancelled)."""
        if self.status == InvoiceStatus.CANCELLED:
            return
        if self.amount_paid >= self.total_ttc - self.amount_credited:
            self.status = InvoiceStatus.PAID
            self.paid_at = self.paid_at or utcnow()
        else:
            self.status = InvoiceStatus.PARTLY_PAID if self.amount_paid > 0 else InvoiceStatus.ISSUED
            self.paid_at = None

    @property
    def available(self) -> bool:
        """Issued and its PDF rendered: what the client may see."""
        return not self.is_draft and self.pdf_sha256 is not None

    def __repr__(self) -> str:
        return f"<Invoice {self.id} {self.number or 'draft'}>"


class InvoiceLine(db.Model):
    __tablename__ = "invoice_line"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="vat_rate"),
        CheckConstraint("kind IN ('fee', 'overage', 'hours', 'manual')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(10), default=LineKind.MANUAL)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit: Mapped[str] = mapped_column(String(10), default="unit")  # "unit" or "hour"
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    total_ht: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(db.Model):
    """Money received against an invoice (negative: a refund). Never changed
    nor deleted: a mistake is corrected by a payment of the opposite sign."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
        CheckConstraint("method IN ('transfer', 'card', 'cheque', 'other')", name="method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    method: Mapped[str] = mapped_column(String(10), default=PaymentMethod.TRANSFER)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(120), default="")
    # Card payments: the Stripe object that moved the money (a payment intent,
    # or a refund), so an event seen twice records one payment.
    external_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
    recorded_by: Mapped[User | None] = relationship()
