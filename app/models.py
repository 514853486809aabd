"""Every model, imported in one place (for Alembic and the shell)."""

from app.agency.models import AgencySettings, VatRegime
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.clients.models import Client, ClientMember, CMAssignment, CompetitorGroup, WallOverride
from app.documents.models import Document

__all__ = [
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
