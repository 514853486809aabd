from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clients.models import Client
from app.extensions import db


class BillingModel(StrEnum):
    RETAINER = "retainer"  # fixed fee; hours past the included ones reported, not billed
    RETAINER_OVERAGE = "retainer_overage"  # fixed fee + hours past the included ones at a rate
    HOURLY = "hourly"  # hours x rate


class Channel(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    LINKEDIN = "linkedin"
    X = "x"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    BLOG = "blog"
    NEWSLETTER = "newsletter"
    OTHER = "other"


class Contract(db.Model):
    __tablename__ = "contract"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
        # Rows that name both a contract and a client point at this pair, so
        # they can never disagree on the client (see TimeEntry, MonthLock).
        UniqueConstraint("id", "client_id", name="uq_contract_id_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    client: Mapped[Client] = relationship()
    terms: Mapped[list["ContractTerms"]] = relationship(
        back_populates="contract",
        order_by="ContractTerms.effective_from",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)

    def overlaps(self, first: date, last: date) -> bool:
        return self.start_date <= last and (self.end_date is None or self.end_date >= first)

    def __repr__(self) -> str:
        return f"<Contract {self.id} {self.title}>"


class ContractTerms(db.Model):
    """The money side of a contract from `effective_from` on (first day of a
    month, or the contract's start). A change of rate is a new row: past
    months keep the terms they had."""

    __tablename__ = "contract_terms"
    __table_args__ = (
        UniqueConstraint("contract_id", "effective_from"),
        CheckConstraint("billing_model IN ('retainer', 'retainer_overage', 'hourly')", name="billing_model"),
        CheckConstraint("monthly_fee IS NULL OR monthly_fee >= 0", name="fee"),
        CheckConstraint("hourly_rate IS NULL OR hourly_rate >= 0", name="rate"),
        CheckConstraint("included_minutes IS NULL OR included_minutes >= 0", name="included"),
        CheckConstraint("budget_ceiling >= 0", name="ceiling"),
        CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="vat"),
        CheckConstraint(
            "(billing_model = 'hourly' AND hourly_rate IS NOT NULL)"
            " OR (billing_model = 'retainer' AND monthly_fee IS NOT NULL AND included_minutes IS NOT NULL)"
            " OR (billing_model = 'retainer_overage' AND monthly_fee IS NOT NULL"
            " AND included_minutes IS NOT NULL AND hourly_rate IS NOT NULL)",
            name="model_fields",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    billing_model: Mapped[str] = mapped_column(String(20))
    monthly_fee: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    included_minutes: Mapped[int | None]
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    budget_ceiling: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("20.00"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    contract: Mapped[Contract] = relationship(back_populates="terms")


class BudgetStamp(db.Model):
    """A counter per client, moved on by a database trigger with every change
    of its time entries, contracts, their terms or the client itself (in the
    transaction of the change): what the lead's budget table is kept under
    (app/contracts/budget_cache.py). Never written by the app; rows are never
    deleted, so the sum of the counters only grows."""

    __tablename__ = "budget_stamp"
    __table_args__ = (CheckConstraint("version > 0", name="version"),)

    client_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
