"""Every model, imported in one place (for Alembic and the shell)."""

from app.agency.models import AgencySettings, VatRegime
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.clients.models import Client, ClientMember, CMAssignment, CompetitorGroup, WallOverride
from app.contracts.models import BudgetStamp, Contract, ContractTerms
from app.documents.models import Document
from app.invoices.models import Invoice, InvoiceLine, Payment
from app.payments.models import CardPaymentIntent, StripeEvent
from app.reports.models import ChannelFigure, MonthClose, Report, ReportMessage, ReportVersion, ShareLink
from app.timesheets.models import Activity, BudgetAlert, InactivityNotice, MonthLock, TimeEntry

__all__ = [
    "BudgetStamp",
    "CardPaymentIntent",
    "Invoice",
    "InvoiceLine",
    "Payment",
    "StripeEvent",
    "ChannelFigure",
    "MonthClose",
    "Report",
    "ReportMessage",
    "ReportVersion",
    "ShareLink",
    "Activity",
    "BudgetAlert",
    "Contract",
    "ContractTerms",
    "InactivityNotice",
    "MonthLock",
    "TimeEntry",
    "AgencySettings",
    "AuditEntry",
    "Client",
    "ClientMember",
    "CMAssignment",
    "CompetitorGroup",
    "Document",
    "Role",
    "User",
    "VatRegime",
    "WallOverride",
]
