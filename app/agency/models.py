from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class LegalForm:
    """Codes stored in agency_settings.legal_form (labels: agency.services)."""

    SAS = "SAS"
    SASU = "SASU"
    SARL = "SARL"
    EURL = "EURL"
    EI = "EI"
    MICRO = "micro"  # auto-entrepreneur / micro-entreprise
    SA = "SA"
    ASSOCIATION = "association"
    OTHER = "other"

    ALL = (SAS, SASU, SARL, EURL, EI, MICRO, SA, ASSOCIATION, OTHER)


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
        CheckConstraint("late_penalty_rate >= 0", name="late_penalty_rate"),
        CheckConstraint("share_capital IS NULL OR share_capital >= 0", name="share_capital"),
        CheckConstraint("retention_personal_years BETWEEN 1 AND 10", name="retention_personal_years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    legal_name: Mapped[str] = mapped_column(String(160), default="")
    legal_form: Mapped[str] = mapped_column(String(60), default="")
    # Invoice mentions of a company (art. R123-237 of the Code de commerce).
    share_capital: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    rcs_city: Mapped[str] = mapped_column(String(80), default="")
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
    # Days a client has to approve or question a published report; silence
    # past them counts as approval.
    signoff_days: Mapped[int] = mapped_column(default=7, server_default="7")
    # How long a report's share link lives.
    share_link_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # Annual rate of late-payment penalties, in percent.
    late_penalty_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10.00"))
    invoice_prefix: Mapped[str] = mapped_column(String(10), default="F")
    # Credit notes (avoirs) have their own continuous series.
    credit_note_prefix: Mapped[str] = mapped_column(String(10), default="A", server_default="A")
    logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("document.sha256", ondelete="RESTRICT"))
    # Years a former client's personal data is kept after its last activity
    # (last contract end, time, report, invoice or payment); then a lead may
    # erase it. Issued invoices are kept 10 years whatever this says.
    retention_personal_years: Mapped[int] = mapped_column(default=3, server_default="3")

    @property
    def is_complete(self) -> bool:
        """Enough to issue an invoice: who we are, where, and our numbers."""
        required = [self.legal_name, self.legal_form, self.address_line, self.postal_code, self.city]
        required += [self.email, self.siren, self.siret, self.invoice_prefix]
        if not self.is_franchise:
            required.append(self.vat_number)
        return all(required)

    @property
    def is_franchise(self) -> bool:
        return self.vat_regime == VatRegime.FRANCHISE
