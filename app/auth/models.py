from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Role(StrEnum):
    LEAD = "lead"
    CM = "cm"
    CLIENT = "client"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('lead', 'cm', 'client')", name="role"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    # Bumped on password change and deactivation: every session carrying an
    # older value stops working at its next request.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Internal hourly cost of a CM (EUR HT), seen by leads only.
    cost_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    @property
    def is_cm(self) -> bool:
        return self.role == Role.CM

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_pending(self) -> bool:
        """Invited but has not chosen a password yet."""
        return self.password_hash is None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
