from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
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
from app.documents.rendering import RenderState
from app.extensions import db


class ReportStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class SignoffState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    QUESTION = "question"


class Report(db.Model):
    """One per contract and month: highlights and figures while a draft;
    published versions (PDFs) once the lead publishes."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("contract_id", "month"),
        ForeignKeyConstraint(
            ["contract_id", "client_id"],
            ["contract.id", "contract.client_id"],
            name="fk_report_contract_client",
            ondelete="RESTRICT",
        ),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint(
            "render_state IN ('idle', 'queued', 'rendering', 'done', 'failed')", name="render_state"
        ),
        CheckConstraint("signoff IN ('pending', 'approved', 'question')", name="signoff"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="RESTRICT"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.DRAFT)
    # Written by the CMs and the lead: a small Markdown (paragraphs, lists,
    # bold, links), sanitised when shown.
    highlights: Mapped[str] = mapped_column(Text, default="")
    # The draft's latest PDF (month close renders it for the lead to read).
    draft_sha256: Mapped[str | None] = mapped_column(ForeignKey("document.sha256", ondelete="RESTRICT"))
    render_state: Mapped[str] = mapped_column(String(10), default=RenderState.IDLE)
    render_error: Mapped[str | None] = mapped_column(Text)
    render_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signoff: Mapped[str] = mapped_column(String(10), default=SignoffState.PENDING)
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    client: Mapped[Client] = relationship()
    contract: Mapped[Contract] = relationship(foreign_keys=[contract_id])
    versions: Mapped[list["ReportVersion"]] = relationship(
        back_populates="report", order_by="ReportVersion.number"
    )
    figures: Mapped[list["ChannelFigure"]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ChannelFigure.channel"
    )
    messages: Mapped[list["ReportMessage"]] = relationship(
        back_populates="report", order_by="ReportMessage.id"
    )

    @property
    def latest(self) -> "ReportVersion | None":
        return self.versions[-1] if self.versions else None


class ReportVersion(db.Model):
    """A published PDF of a report; never changed, never deleted."""

    __tablename__ = "report_version"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int]
    document_sha256: Mapped[str] = mapped_column(ForeignKey("document.sha256", ondelete="RESTRICT"))
    published_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    report: Mapped[Report] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()


class ChannelFigure(db.Model):
    """Figures a CM types for one channel of a report (all optional)."""

    __tablename__ = "channel_figure"
    __table_args__ = (
        UniqueConstraint("report_id", "channel"),
        CheckConstraint("followers IS NULL OR followers >= 0", name="followers"),
        CheckConstraint("posts IS NULL OR posts >= 0", name="posts"),
        CheckConstraint("engagement IS NULL OR (engagement >= 0 AND engagement <= 100)", name="engagement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    followers: Mapped[int | None]
    posts: Mapped[int | None]
    engagement: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent

    report: Mapped[Report] = relationship(back_populates="figures")


class MessageKind(StrEnum):
    APPROVAL = "approval"
    QUESTION = "question"
    ANSWER = "answer"


class ReportMessage(db.Model):
    """The sign-off thread: approval, questions and their answers."""

    __tablename__ = "report_message"
    __table_args__ = (CheckConstraint("kind IN ('approval', 'question', 'answer')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    report: Mapped[Report] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()


class ShareLink(db.Model):
    """A secret link to one published report for someone without an account.
    Only the SHA-256 of the secret is kept."""

    __tablename__ = "share_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    report: Mapped[Report] = relationship()


class MonthClose(db.Model):
    """A run of month close (command or button): what it set out to do, so
    its progress can be shown while the report jobs run."""

    __tablename__ = "month_close"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    contracts: Mapped[int] = mapped_column(default=0)  # reports expected
