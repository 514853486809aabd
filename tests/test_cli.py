"""The command line: `seed-demo` (idempotent demo agency, its logins as a
table or JSON) and `create-user` (the first lead of a real install).

Commands run through app.test_cli_runner() inside the `db` fixture's
transaction: their commit releases a savepoint, and the test rolls it back.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.access import visible_clients
from app.agency.models import AgencySettings
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.auth.services import MIN_PASSWORD_LENGTH, authenticate, verify_password
from app.clients.models import Client, ClientMember, CMAssignment, WallOverride
from app.extensions import db as _db
from app.validators import is_valid_fr_vat, is_valid_iban, is_valid_siren, is_valid_siret
from tests.factories import make_client, make_lead

LEA = "lea.martin@lac-reseaux.example"
BAKERIES = {"Boulangerie Dupont", "Boulangerie du Lac"}


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def row_counts() -> dict[str, int]:
    """Rows in every table of the schema."""
    return {
        table.name: _db.session.scalar(select(func.count()).select_from(table))
        for table in _db.metadata.sorted_tables
    }


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def iban_checksum_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


@pytest.fixture
def demo_json(app, db) -> dict:
    result = invoke(app, "seed-demo", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- seed-demo ----------------------------------------------------------------------


def test_seed_demo_twice_creates_nothing_the_second_time(app, db):
    first = invoke(app, "seed-demo")
    assert first.exit_code == 0, first.output
    after_first = row_counts()
    second = invoke(app, "seed-demo")
    assert second.exit_code == 0, second.output

    assert row_counts() == after_first
    assert "rien à créer" in second.stdout
    assert after_first["user_account"] == 1 + 3 + 8
    assert after_first["client"] == 6
    assert after_first["competitor_group"] == 2
    assert after_first["wall_override"] == 1


def test_seed_demo_prints_every_login_as_a_table(app, db, demo_json):
    output = invoke(app, "seed-demo").stdout

    assert "Mot de passe" in output and "Clients visibles" in output
    for user in demo_json["users"]:
        line = next(line for line in output.splitlines() if line.startswith(user["email"] + " "))
        assert user["password"] in line
    lea_line = next(line for line in output.splitlines() if line.startswith(LEA))
    assert "freelance" in lea_line
    assert all(name in lea_line for name in BAKERIES)


def test_seed_demo_json_is_the_only_thing_on_stdout(app, db):
    result = invoke(app, "seed-demo", "--json")

    assert result.exit_code == 0
    data = json.loads(result.stdout)  # fails on any log line or message
    assert set(data) == {"users", "clients"}
    assert all(set(user) == {"email", "password", "role", "clients"} for user in data["users"])


def test_seed_demo_json_lists_what_access_allows_each_user(app, db, demo_json):
    all_clients = sorted(_db.session.scalars(select(Client.name)))
    assert sorted(demo_json["clients"]) == all_clients
    assert len(all_clients) == 6

    for entry in demo_json["users"]:
        user = _db.session.scalar(select(User).where(User.email == entry["email"]))
        allowed = sorted(c.name for c in _db.session.scalars(visible_clients(user)))
        assert sorted(entry["clients"]) == allowed, entry["email"]
        assert entry["role"] == user.role
        if user.role == Role.LEAD:
            assert sorted(entry["clients"]) == all_clients
        if user.role == Role.CLIENT:
            company = _db.session.scalar(
                select(Client.name).join(ClientMember).where(ClientMember.user_id == user.id)
            )
            assert entry["clients"] == [company]


def test_seed_demo_freelance_cm_serves_two_competitors_through_a_recorded_override(app, db, demo_json):
    lea = next(u for u in demo_json["users"] if u["email"] == LEA)
    assert set(lea["clients"]) >= BAKERIES
    bakeries = list(_db.session.scalars(select(Client).where(Client.name.in_(BAKERIES))))
    assert bakeries[0].competitor_group_id is not None
    assert bakeries[0].competitor_group_id == bakeries[1].competitor_group_id

    override = _db.session.scalar(select(WallOverride))
    assert override.assignment.cm.email == LEA
    assert {override.assignment.client.name, override.competitor_client.name} == BAKERIES
    assert len(override.reason) > 50
    entries = list(_db.session.scalars(select(AuditEntry).where(AuditEntry.action == "wall.override")))
    assert {e.client_id for e in entries} == {c.id for c in bakeries}
    assert all(e.reason == override.reason for e in entries)
    # Every other CM serves at most one client of a competitor group.
    for cm_email in ("karim.benali@lac-reseaux.example", "chloe.girard@lac-reseaux.example"):
        groups = _db.session.scalars(
            select(Client.competitor_group_id)
            .join(CMAssignment)
            .join(User, User.id == CMAssignment.cm_id)
            .where(User.email == cm_email, Client.competitor_group_id.is_not(None))
        ).all()
        assert len(groups) == len(set(groups))


def test_seed_demo_passwords_log_in_and_are_long_enough(app, db, demo_json):
    for entry in demo_json["users"]:
        assert len(entry["password"]) >= MIN_PASSWORD_LENGTH
        assert authenticate(entry["email"], entry["password"]) is not None, entry["email"]
    assert len({u["email"] for u in demo_json["users"]}) == len(demo_json["users"])
    assert {u["role"] for u in demo_json["users"]} == {"lead", "cm", "client"}


def test_seed_demo_agency_and_client_identifiers_are_valid(app, db, demo_json):
    agency = _db.session.get(AgencySettings, 1)
    assert agency.legal_form == "SAS" and agency.city in {"Annecy", "Lyon"}
    assert luhn(agency.siren) and is_valid_siren(agency.siren)
    assert luhn(agency.siret) and agency.siret.startswith(agency.siren) and is_valid_siret(agency.siret)
    assert agency.vat_number == f"FR{(12 + 3 * (int(agency.siren) % 97)) % 97:02d}{agency.siren}"
    assert is_valid_fr_vat(agency.vat_number, agency.siren)
    assert agency.iban.startswith("FR76") and len(agency.iban) == 27
    assert iban_checksum_ok(agency.iban) and is_valid_iban(agency.iban)
    for client in _db.session.scalars(select(Client)):
        assert luhn(client.siren), client.name
        assert is_valid_fr_vat(client.vat_number, client.siren), client.name
        assert client.address_line and client.postal_code and client.city
        assert client.logo_sha256 is not None
    sirens = list(_db.session.scalars(select(Client.siren)))
    assert len(set(sirens)) == len(sirens) == 6


def test_seed_demo_keeps_agency_settings_someone_already_filled(app, db):
    from app.agency.services import get_settings

    get_settings().legal_name = "Mon Agence"
    _db.session.flush()

    assert invoke(app, "seed-demo").exit_code == 0

    assert _db.session.get(AgencySettings, 1).legal_name == "Mon Agence"


def test_seed_demo_reuses_a_client_of_the_same_name(app, db):
    make_client("Fromagerie Martin", city="Thônes")

    assert invoke(app, "seed-demo").exit_code == 0

    clients = list(_db.session.scalars(select(Client).where(Client.name == "Fromagerie Martin")))
    assert [c.city for c in clients] == ["Thônes"]


def test_seed_demo_refuses_a_database_with_real_accounts_unless_forced(app, db):
    make_lead(email="gerant@vraie-agence.example")
    before = row_counts()

    refused = invoke(app, "seed-demo", "--json")

    assert refused.exit_code == 1
    assert refused.stdout == ""
    assert "gerant@vraie-agence.example" in refused.stderr and "--force" in refused.stderr
    assert row_counts() == before

    forced = invoke(app, "seed-demo", "--force")
    assert forced.exit_code == 0, forced.output
    assert row_counts()["client"] == 6
    # Now a demo database: running it again needs no --force.
    assert invoke(app, "seed-demo").exit_code == 0


# -- create-user ----------------------------------------------------------------------


def test_create_user_creates_a_lead_from_stdin(app, db):
    result = invoke(
        app, "create-user", "--email", " Jeanne@Agence.example ", "--name", "Jeanne Roux",
        "--password-stdin", input="un-mot-de-passe-solide\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Compte créé : jeanne@agence.example" in result.stdout
    user = _db.session.scalar(select(User).where(User.email == "jeanne@agence.example"))
    assert user.role == Role.LEAD and user.active and user.name == "Jeanne Roux"
    assert verify_password(user, "un-mot-de-passe-solide")
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created"))
    assert entry.object_id == user.id


def test_create_user_prompts_twice_for_a_hidden_password(app, db):
    result = invoke(
        app, "create-user", "--email", "cm@agence.example", "--name", "Paul Cm", "--role", "cm",
        input="secret-de-paul-123\nsecret-de-paul-123\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Mot de passe" in result.output and "Confirmez le mot de passe" in result.output
    assert "secret-de-paul-123" not in result.output  # not echoed
    user = _db.session.scalar(select(User).where(User.email == "cm@agence.example"))
    assert user.role == Role.CM and verify_password(user, "secret-de-paul-123")


def test_create_user_with_mismatched_confirmation_saves_nothing(app, db):
    before = row_counts()
    result = invoke(
        app, "create-user", "--email", "cm@agence.example", "--name", "Paul",
        input="premier-essai-1\nautre-chose-22\n",
    )  # fmt: skip

    assert result.exit_code != 0
    assert row_counts() == before


def test_create_user_attaches_a_client_user_to_its_company(app, db):
    client = make_client("Garage Leroy")
    result = invoke(
        app, "create-user", "--email", "t.leroy@garage.example", "--name", "Thierry Leroy",
        "--role", "client", "--client", "Garage Leroy", "--password-stdin", input="mot-de-passe-garage\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    member = _db.session.scalar(select(ClientMember).join(User).where(User.email == "t.leroy@garage.example"))
    assert member.client_id == client.id


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--email", "taken@agence.example"], "mot-de-passe-long\n", "Un compte existe déjà"),
        (["--email", "pas-une-adresse"], "mot-de-passe-long\n", "Adresse e-mail invalide"),
        (["--email", "new@agence.example"], "court\n", "au moins 10 caractères"),
        (["--email", "new@agence.example", "--role", "boss"], "mot-de-passe-long\n", "Rôle inconnu"),
        (["--email", "new@agence.example", "--role", "client"], "mot-de-passe-long\n", "entreprise cliente"),
        (["--email", "new@agence.example", "--role", "client", "--client", "Inconnue SARL"],
         "mot-de-passe-long\n", "Aucun client ne s'appelle"),
        (["--email", "new@agence.example", "--client", "Existante SAS"],
         "mot-de-passe-long\n", "Seul un compte client"),
    ],
    ids=["existing-email", "bad-email", "short-password", "unknown-role", "client-without-company",
         "unknown-company", "lead-with-company"],
)  # fmt: skip
def test_create_user_refuses_with_a_clear_message_and_saves_nothing(app, db, args, stdin, message):
    make_lead(email="taken@agence.example")
    make_client("Existante SAS")
    before = row_counts()

    result = invoke(app, "create-user", "--name", "Quelqu'un", *args, "--password-stdin", input=stdin)

    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "Traceback" not in result.output
    assert row_counts() == before
