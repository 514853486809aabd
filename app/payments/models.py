"""What Relais keeps of Stripe: the PaymentIntent made for each invoice (so
a retry or a double click reuses it) and every webhook event, once, by id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.invoices.models import Invoice


class CardPaymentIntent(db.Model):
    """A Stripe PaymentIntent Relais created for an invoice."""

    __tablename__ = "card_payment_intent"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="RESTRICT"), index=True)
    intent_id: Mapped[str] = mapped_column(String(80), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="eur")
    status: Mapped[str] = mapped_column(String(40), default="requires_payment_method")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    invoice: Mapped[Invoice] = relationship()


class StripeEvent(db.Model):
    """A webhook event, stored once by its id before any work is done on it."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)
    # The client it concerns, once known (from the invoice in its metadata).
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
