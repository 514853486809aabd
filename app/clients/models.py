from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import db


class CompetitorGroup(db.Model):
    """Clients that compete (same sector, same area): one CM serves at most one
    of them unless a lead records an override."""

    __tablename__ = "competitor_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    clients: Mapped[list["Client"]] = relationship(back_populates="competitor_group")


class Client(db.Model):
    __tablename__ = "client"
    __table_args__ = (CheckConstraint("siren IS NULL OR length(siren) = 9", name="siren_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    siren: Mapped[str | None] = mapped_column(String(9))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    address_line: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country_code: Mapped[str] = mapped_column(String(2), default="FR")
    billing_email: Mapped[str | None] = mapped_column(String(254))
    # Internal to the agency: never shown to the client.
    internal_notes: Mapped[str] = mapped_column(Text, default="")
    competitor_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("competitor_group.id", ondelete="SET NULL"), index=True
    )
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("document.sha256", ondelete="RESTRICT"))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    competitor_group: Mapped[CompetitorGroup | None] = relationship(back_populates="clients")
    members: Mapped[list["ClientMember"]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )
    assignments: Mapped[list["CMAssignment"]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.name}>"


class ClientMember(db.Model):
    """A user of role client and the one company it belongs to."""

    __tablename__ = "client_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    job_title: Mapped[str] = mapped_column(String(120), default="")

    client: Mapped[Client] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class CMAssignment(db.Model):
    """A CM serves a client from `since` to `until` (inclusive; open-ended when None)."""

    __tablename__ = "cm_assignment"
    __table_args__ = (
        CheckConstraint("until IS NULL OR until >= since", name="period"),
        Index("ix_cm_assignment_cm_client", "cm_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    cm_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    client: Mapped[Client] = relationship(back_populates="assignments")
    cm: Mapped[User] = relationship(foreign_keys=[cm_id])
    overrides: Mapped[list["WallOverride"]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", passive_deletes=True
    )

    def is_active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or self.until >= day)


class WallOverride(db.Model):
    """A lead's recorded reason to let one CM serve two competing clients."""

    __tablename__ = "wall_override"
    __table_args__ = (UniqueConstraint("assignment_id", "competitor_client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("cm_assignment.id", ondelete="CASCADE"))
    # The client the CM already served when the assignment was made.
    competitor_client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    assignment: Mapped[CMAssignment] = relationship(back_populates="overrides")
    competitor_client: Mapped[Client] = relationship()
    created_by: Mapped[User | None] = relationship()
