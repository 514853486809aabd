from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class VatRegime:
    NORMAL = "normal"
    FRANCHISE = "franchise"  # "TVA non applicable, art. 293 B du CGI"


class AgencySettings(db.Model):
    """The agency itself: one row (id 1), created on first use."""

    __tablename__ = "agency_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("vat_regime IN ('normal', 'franchise')", name="vat_regime"),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 60", name="payment_terms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    legal_name: Mapped[str] = mapped_column(String(160), default="")
    legal_form: Mapped[str] = mapped_column(String(60), default="")
    address_line: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country_code: Mapped[str] = mapped_column(String(2), default="FR")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    siren: Mapped[str] = mapped_column(String(9), default="")
    siret: Mapped[str] = mapped_column(String(14), default="")
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    vat_regime: Mapped[str] = mapped_column(String(10), default=VatRegime.NORMAL)
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    # Annual rate of late-payment penalties, in percent.
    late_penalty_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10.00"))
    invoice_prefix: Mapped[str] = mapped_column(String(10), default="F")
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("document.sha256", ondelete="RESTRICT"))

    @property
    def is_franchise(self) -> bool:
        return self.vat_regime == VatRegime.FRANCHISE
