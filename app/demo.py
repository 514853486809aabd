"""The demo agency that `flask --app wsgi seed-demo` builds.

A community-management agency in Annecy, its lead, three CMs (Léa Martin, a
freelance, serves two competing bakeries through a recorded override) and six
small local businesses with their contacts. Identifiers are valid (SIREN and
SIRET Luhn keys, VAT keys, IBAN checksum) but belong to no real company; the
e-mail addresses use the reserved `.example` domain, so no mail can reach
anyone.

`seed_demo()` is idempotent: rows are found by e-mail, client name or group
name, and only what is missing is created, through the same services the
pages use (audit entries included). It flushes; the command commits.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from app.agency.models import LegalForm, VatRegime
from app.agency.services import SettingsDetails, get_settings, update_settings
from app.auth.models import Role, User
from app.cli import create_account
from app.clients.assignments import assign_cm
from app.clients.groups import create_group
from app.clients.models import Client, ClientMember, CMAssignment, CompetitorGroup
from app.clients.services import ClientDetails, create_client
from app.extensions import db
from app.invoices.demo import issue_demo_invoices
from app.reports.demo import publish_demo_reports
from app.timesheets.demo import seed_contracts_and_time
from app.validators import fr_vat_number

PASSWORDS = {
    Role.LEAD: "demo-lead-2026",
    Role.CM: "demo-cm-2026",
    Role.CLIENT: "demo-client-2026",
}

AGENCY = {
    "legal_name": "Lac & Réseaux",
    "legal_form": LegalForm.SAS,
    "share_capital": Decimal("10000.00"),
    "rcs_city": "Annecy",
    "address_line": "12 rue Royale",
    "postal_code": "74000",
    "city": "Annecy",
    "country_code": "FR",
    "email": "bonjour@lac-reseaux.example",
    "phone": "04 50 51 23 45",
    "siren": "904182755",
    "siret": "90418275500010",
    "vat_number": "FR22904182755",
    "iban": "FR7630002005470000731529846",
    "bic": "CRLYFRPP",
    "vat_regime": VatRegime.NORMAL,
    "payment_terms_days": 30,
    "late_penalty_rate": Decimal("10.00"),
    "invoice_prefix": "LR",
    "credit_note_prefix": "AV",
}

GROUPS = {
    "Boulangeries d'Annecy": "Boulangeries et pâtisseries du centre d'Annecy.",
    "Garages d'Annecy": "Garages et ateliers automobiles de l'agglomération.",
}


@dataclass(frozen=True)
class DemoClient:
    name: str
    siren: str
    address_line: str
    postal_code: str
    city: str
    billing_email: str
    group: str | None
    color: tuple[int, int, int]
    internal_notes: str = ""


CLIENTS = [
    DemoClient(
        "Boulangerie Dupont", "812453769", "14 rue Carnot", "74000", "Annecy",
        "compta@boulangerie-dupont.example", "Boulangeries d'Annecy", (176, 92, 38),
        "Sophie valide chaque visuel par SMS ; préfère les photos faites en boutique.",
    ),
    DemoClient(
        "Boulangerie du Lac", "793184524", "3 avenue d'Albigny", "74000", "Annecy",
        "factures@boulangerie-du-lac.example", "Boulangeries d'Annecy", (38, 112, 160),
    ),
    DemoClient(
        "Fromagerie Martin", "839061272", "7 rue Sainte-Claire", "74000", "Annecy",
        "pierre.martin@fromagerie-martin.example", None, (214, 170, 40),
        "Pic d'activité en décembre (plateaux de fêtes) : prévoir plus d'heures.",
    ),
    DemoClient(
        "Garage Leroy", "522874197", "25 avenue des Neigeos", "74600", "Annecy",
        "compta@garage-leroy.example", "Garages d'Annecy", (60, 60, 70),
    ),
    DemoClient(
        "Garage du Centre", "448150631", "40 avenue de Genève", "74000", "Annecy",
        "contact@garage-du-centre.example", "Garages d'Annecy", (190, 40, 50),
    ),
    DemoClient(
        "Cabinet Kiné Rivière", "884527318", "5 place des Romains", "74000", "Annecy",
        "secretariat@kine-riviere.example", None, (40, 150, 120),
    ),
]  # fmt: skip


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    client: str | None = None  # the company of a client user
    job_title: str = ""
    cost_rate: str | None = None  # a CM's internal hourly cost (EUR HT)
    note: str = ""  # shown in the logins table

    @property
    def password(self) -> str:
        return PASSWORDS[self.role]


USERS = [  # the lead first
    DemoUser("marc.lefevre@lac-reseaux.example", "Marc Lefèvre", Role.LEAD),
    DemoUser("lea.martin@lac-reseaux.example", "Léa Martin", Role.CM, cost_rate="32.00", note="freelance"),
    DemoUser("karim.benali@lac-reseaux.example", "Karim Benali", Role.CM, cost_rate="27.00"),
    DemoUser("chloe.girard@lac-reseaux.example", "Chloé Girard", Role.CM, cost_rate="27.00"),
    DemoUser("sophie.dupont@boulangerie-dupont.example", "Sophie Dupont", Role.CLIENT,
             "Boulangerie Dupont", "Gérante"),
    DemoUser("julien.dupont@boulangerie-dupont.example", "Julien Dupont", Role.CLIENT,
             "Boulangerie Dupont", "Responsable de la boutique"),
    DemoUser("nathalie.perrin@boulangerie-du-lac.example", "Nathalie Perrin", Role.CLIENT,
             "Boulangerie du Lac", "Gérante"),
    DemoUser("pierre.martin@fromagerie-martin.example", "Pierre Martin", Role.CLIENT,
             "Fromagerie Martin", "Gérant"),
    DemoUser("thierry.leroy@garage-leroy.example", "Thierry Leroy", Role.CLIENT,
             "Garage Leroy", "Gérant"),
    DemoUser("isabelle.leroy@garage-leroy.example", "Isabelle Leroy", Role.CLIENT,
             "Garage Leroy", "Comptable"),
    DemoUser("mehdi.haddad@garage-du-centre.example", "Mehdi Haddad", Role.CLIENT,
             "Garage du Centre", "Gérant"),
    DemoUser("camille.riviere@kine-riviere.example", "Camille Rivière", Role.CLIENT,
             "Cabinet Kiné Rivière", "Kinésithérapeute"),
]  # fmt: skip

OVERRIDE_REASON = (
    "Léa suit la Boulangerie Dupont depuis son lancement et connaît le quartier. Les deux gérantes "
    "ont été informées et ont accepté par écrit ; calendriers éditoriaux et comptes séparés, aucune "
    "information partagée entre les deux boulangeries."
)

# (CM e-mail, client, since, override reason): in this order, so the
# override is asked for the second bakery.
ASSIGNMENTS = [
    ("lea.martin@lac-reseaux.example", "Boulangerie Dupont", date(2025, 3, 1), None),
    ("lea.martin@lac-reseaux.example", "Fromagerie Martin", date(2025, 3, 1), None),
    ("lea.martin@lac-reseaux.example", "Garage Leroy", date(2025, 6, 1), None),
    ("lea.martin@lac-reseaux.example", "Boulangerie du Lac", date(2025, 9, 1), OVERRIDE_REASON),
    ("karim.benali@lac-reseaux.example", "Garage du Centre", date(2025, 1, 6), None),
    ("karim.benali@lac-reseaux.example", "Cabinet Kiné Rivière", date(2025, 4, 1), None),
    ("chloe.girard@lac-reseaux.example", "Boulangerie du Lac", date(2025, 2, 3), None),
    ("chloe.girard@lac-reseaux.example", "Fromagerie Martin", date(2025, 10, 1), None),
]


def foreign_accounts() -> list[str]:
    """A few e-mails of accounts of a database the demo did not start (a
    real install: seeding would add a lead whose password everyone knows);
    [] when seeding is safe: an empty database, or one the demo started."""
    demo = [spec.email for spec in USERS]
    if db.session.scalar(select(User.id).where(User.email == demo[0])) is not None:
        return []
    stmt = select(User.email).where(User.email.not_in(demo)).order_by(User.id).limit(3)
    return list(db.session.scalars(stmt))


@dataclass
class DemoResult:
    users: list[tuple[User, DemoUser]] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    # What this run created, by kind (empty on a second run).
    created: Counter[str] = field(default_factory=Counter)


def seed_demo() -> DemoResult:
    """Create what is missing of the demo agency; flush, never commit."""
    result = DemoResult()
    lead_spec = next(u for u in USERS if u.role == Role.LEAD)
    lead = _ensure_user(lead_spec, None, result)
    _ensure_agency(lead, result)
    groups = {name: _ensure_group(lead, name, text, result) for name, text in GROUPS.items()}
    clients = {spec.name: _ensure_client(lead, spec, groups, result) for spec in CLIENTS}
    users = {lead.email: lead}
    for spec in USERS:
        if spec.role != Role.LEAD:
            users[spec.email] = _ensure_user(spec, clients.get(spec.client or ""), result)
    for email, client_name, since, reason in ASSIGNMENTS:
        cm, client = users[email], clients[client_name]
        served = select(CMAssignment.id).where(
            CMAssignment.cm_id == cm.id, CMAssignment.client_id == client.id
        )
        if db.session.scalar(served.limit(1)) is None:
            assign_cm(lead, client, cm, since, override_reason=reason)
            result.created["assignments"] += 1
    contracts, entries = seed_contracts_and_time(list(clients.values()))
    result.created["contracts"] += contracts
    result.created["time_entries"] += entries
    result.created["reports"] += publish_demo_reports(lead, list(clients.values()))
    invoices = issue_demo_invoices(lead, list(clients.values()))
    result.created["invoices"] += invoices.issued
    result.created["payments"] += invoices.payments
    db.session.flush()
    result.users = [(users[spec.email], spec) for spec in USERS]
    result.clients = [clients[spec.name] for spec in CLIENTS]
    result.created = +result.created  # drop the kinds of which nothing was created
    return result


def _ensure_user(spec: DemoUser, client: Client | None, result: DemoResult) -> User:
    user = db.session.scalar(select(User).where(User.email == spec.email))
    if user is None:
        user = create_account(
            spec.email, spec.name, spec.role, spec.password, client=client, job_title=spec.job_title
        )
        if spec.cost_rate is not None:
            user.cost_rate = Decimal(spec.cost_rate)
        result.created["users"] += 1
    elif client is not None:
        member = db.session.scalar(select(ClientMember).where(ClientMember.user_id == user.id))
        if member is None:
            db.session.add(ClientMember(client=client, user=user, job_title=spec.job_title))
            result.created["memberships"] += 1
    return user


def _ensure_agency(lead: User, result: DemoResult) -> None:
    """Fill the agency's settings unless someone already did."""
    settings = get_settings()
    if settings.legal_name:
        return
    values = {f.name: AGENCY.get(f.name, getattr(settings, f.name)) for f in fields(SettingsDetails)}
    update_settings(lead, SettingsDetails(**values))
    result.created["agency"] += 1


def _ensure_group(lead: User, name: str, description: str, result: DemoResult) -> CompetitorGroup:
    group = db.session.scalar(select(CompetitorGroup).where(CompetitorGroup.name == name))
    if group is None:
        group = create_group(lead, name, description)
        result.created["groups"] += 1
    return group


def _ensure_client(
    lead: User, spec: DemoClient, groups: dict[str, CompetitorGroup], result: DemoResult
) -> Client:
    client = db.session.scalar(select(Client).where(Client.name == spec.name).order_by(Client.id).limit(1))
    if client is None:
        details = ClientDetails(
            name=spec.name,
            siren=spec.siren,
            vat_number=fr_vat_number(spec.siren),
            address_line=spec.address_line,
            postal_code=spec.postal_code,
            city=spec.city,
            billing_email=spec.billing_email,
            competitor_group_id=groups[spec.group].id if spec.group else None,
            internal_notes=spec.internal_notes,
        )
        client = create_client(lead, details, logo=logo_png(spec.name, spec.color))
        result.created["clients"] += 1
    return client


def logo_png(name: str, color: tuple[int, int, int]) -> bytes:
    """A plain square logo: the initials of `name` on a coloured background."""
    words = [w for w in name.replace("'", " ").split() if w[0].isupper()]
    initials = "".join(w[0] for w in words[:2])
    image = Image.new("RGB", (240, 240), color)
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.load_default(size=110)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        font = ImageFont.load_default()
    draw.text((120, 120), initials, fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
