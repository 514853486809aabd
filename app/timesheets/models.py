from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract
from app.extensions import db

MAX_MINUTES_PER_DAY = 24 * 60


class Activity(db.Model):
    """The agency's list of activities (animation, création de contenu...)."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class TimeEntry(db.Model):
    __tablename__ = "time_entry"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes"),
        ForeignKeyConstraint(
            ["contract_id", "client_id"],
            ["contract.id", "contract.client_id"],
            name="fk_time_entry_contract_client",
            ondelete="RESTRICT",
        ),
        Index("ix_time_entry_contract_day", "contract_id", "day"),
        Index("ix_time_entry_cm_day", "cm_id", "day"),
        Index("ix_time_entry_client_day", "client_id", "day"),
        # The lead's list of a period across every contract, newest first.
        Index("ix_time_entry_day_id", "day", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The client, kept on the row so every query and policy scopes by it.
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="RESTRICT"))
    cm_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="RESTRICT"))
    channel: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    # Rates in force when the entry was made (hourly, EUR HT).
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cost_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), onupdate=func.current_timestamp()
    )

    client: Mapped[Client] = relationship()
    contract: Mapped[Contract] = relationship(foreign_keys=[contract_id])
    cm: Mapped[User] = relationship()
    activity: Mapped[Activity] = relationship()


class MonthLock(db.Model):
    """A closed month of one contract: its entries cannot change."""

    __tablename__ = "month_lock"
    __table_args__ = (
        UniqueConstraint("contract_id", "month"),
        ForeignKeyConstraint(
            ["contract_id", "client_id"],
            ["contract.id", "contract.client_id"],
            name="fk_month_lock_contract_client",
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    locked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class BudgetAlert(db.Model):
    """A threshold mail sent for a contract's month (once per threshold)."""

    __tablename__ = "budget_alert"
    __table_args__ = (UniqueConstraint("contract_id", "month", "threshold"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    threshold: Mapped[int]  # percent: 80 or 100
    sent_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class InactivityNotice(db.Model):
    """A reminder sent to a CM about a client with no recent entry (once a day)."""

    __tablename__ = "inactivity_notice"
    __table_args__ = (UniqueConstraint("cm_id", "client_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cm_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
