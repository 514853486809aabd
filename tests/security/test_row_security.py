"""The second wall: PostgreSQL's row-level security (app/rls.py).

Raw SQL, on the app's own connection (its role: no table of its own, no
superuser, no bypass), with one client's scope: another client's rows are
not there, cannot be written, changed nor deleted. With no scope, or a
scope that is not one, no client row at all. And a meta-test: every table
of the schema is either one of the agency's own (rls.AGENCY_TABLES) or has
row-level security forced with a policy, so a new table cannot slip past.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_login import login_user
from sqlalchemy import event, select, text
from sqlalchemy.exc import ProgrammingError

from app import access, rls
from app.audit.models import AuditEntry
from app.contracts.models import Contract
from app.extensions import db
from app.invoices.models import Invoice
from app.jobs import run_job
from app.reports.models import ReportMessage, ShareLink
from app.timesheets.models import MonthLock, TimeEntry
from tests.factories import (
    assign,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_issued_invoice,
    make_lead,
    make_report,
    make_version,
)

DAY = date(2026, 10, 6)


@pytest.fixture(autouse=True)
def postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite has the app's checks alone")


def scoped(value: str) -> None:
    """Set the transaction's scope by hand, as any code could."""
    db.session.execute(text("SELECT set_config('relais.scope', :value, true)"), {"value": value})


def run(sql: str):
    """Raw SQL on the app's connection (tests write it by hand, on purpose)."""
    return db.session.execute(text(sql))


def count(table: str, where: str = "true") -> int:
    return run(f"SELECT count(*) FROM {table} WHERE {where}").scalar()


def policy_tables() -> list[str]:
    return [
        name
        for name in db.session.execute(
            text("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")
        ).scalars()
        if name not in rls.AGENCY_TABLES
    ]


def client_id_tables() -> list[str]:
    return list(
        db.session.execute(
            text(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'client_id' ORDER BY table_name"
            )
        ).scalars()
    )


@pytest.fixture
def two_clients(db):
    """Two clients with a bit of everything: contract and terms, member,
    CM, entries, a month lock, a published report (version, document, share
    link, message), an issued invoice (lines, PDF), audit entries."""
    lead = make_lead()
    made = {}
    for name in ("Boulangerie Dupont", "Fromagerie Martin"):
        client = make_client(name)
        contract = make_contract(client)
        member = make_client_user(client)
        cm = make_cm()
        assign(cm, client)
        make_entry(contract, cm, DAY, 90)
        db.session.add(MonthLock(client_id=client.id, contract_id=contract.id, month=date(2026, 9, 1)))
        report = make_report(contract, date(2026, 9, 1))
        version = make_version(report, content=f"%PDF-1.7 rapport {name}".encode())
        db.session.add(
            ShareLink(
                client_id=client.id,
                report=report,
                token_sha256=f"{client.id:064d}",
                expires_at=datetime(2030, 1, 1, tzinfo=UTC),
            )
        )
        db.session.add(ReportMessage(client_id=client.id, report=report, kind="question", body="Merci"))
        invoice = make_issued_invoice(client, lead=lead, pdf=f"%PDF-1.7 facture {name}".encode())
        db.session.flush()
        made[name] = {
            "client": client,
            "contract": contract,
            "member": member,
            "cm": cm,
            "report_pdf": version.document_sha256,
            "invoice": invoice,
        }
    return made["Boulangerie Dupont"], made["Fromagerie Martin"]


def test_the_app_connects_as_a_role_that_is_walled(db):
    status = rls.role_status(db.session.connection())
    assert status.name == rls.APP_ROLE
    assert not status.superuser and not status.bypasses_rls
    assert status.owned_tables == 0
    assert status.walled
    # Nor can it lift the wall for itself.
    with pytest.raises(ProgrammingError), db.session.begin_nested():
        db.session.execute(text("ALTER TABLE invoice DISABLE ROW LEVEL SECURITY"))
    with pytest.raises(ProgrammingError), db.session.begin_nested():
        db.session.execute(text("TRUNCATE time_entry"))


def test_every_table_has_forced_row_security_and_a_policy_unless_it_is_the_agencys(db):
    rows = db.session.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' AND p.tablename = c.relname)"
            " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        )
    ).all()
    tables = {name for name, *_ in rows}
    assert tables >= rls.AGENCY_TABLES, "AGENCY_TABLES names a table that is gone"
    unprotected = [
        name
        for name, enabled, forced, policies in rows
        if name not in rls.AGENCY_TABLES and not (enabled and forced and policies)
    ]
    assert unprotected == [], (
        f"client-owned tables without forced row-level security and a policy: {unprotected}"
    )
    # A table with a client column is never the agency's own.
    assert set(client_id_tables()) & rls.AGENCY_TABLES == set()
    assert len(tables - rls.AGENCY_TABLES) >= 21


def test_with_another_clients_scope_raw_sql_sees_nothing_of_it(two_clients):
    dupont, martin = two_clients
    theirs, ours = dupont["client"].id, martin["client"].id
    # The data is there: the system's scope sees both clients in every table.
    for table in (
        "contract",
        "time_entry",
        "invoice",
        "invoice_line",
        "report",
        "report_version",
        "share_link",
    ):
        assert count(table, f"client_id = {theirs}") > 0, table

    scoped(str(ours))
    for table in client_id_tables():
        others = f"client_id <> {ours}" if table == "audit_entry" else f"client_id IS DISTINCT FROM {ours}"
        assert count(table, others) == 0, table
    assert count("client") == 1 and count("client", f"id = {ours}") == 1
    assert count("contract_terms") == count("contract_terms", f"contract_id = {martin['contract'].id}") == 1
    for sha256 in (dupont["report_pdf"], dupont["invoice"].pdf_sha256):
        assert count("document", f"sha256 = '{sha256}'") == 0
    for sha256 in (martin["report_pdf"], martin["invoice"].pdf_sha256):
        assert count("document", f"sha256 = '{sha256}'") == 1
    # Its contacts' accounts are the other company's; the agency's people are anyone's.
    assert count("user_account", f"id = {dupont['member'].id}") == 0
    assert count("user_account", f"id = {martin['member'].id}") == 1
    assert count("user_account", f"id = {dupont['cm'].id}") == 1
    assert count("user_account", "role = 'client'") == 1
    # Nor through a join or a sub-select.
    assert (
        db.session.execute(
            text("SELECT count(*) FROM time_entry JOIN contract ON contract.id = time_entry.contract_id")
        ).scalar()
        == 1
    )


def test_with_another_clients_scope_raw_sql_cannot_write_it(two_clients):
    dupont, martin = two_clients
    theirs, ours = dupont["client"].id, martin["client"].id
    # Through the access module this time: each SAVEPOINT below begins in
    # the current scope again.
    access.set_scope(access.client_scope_of(ours, "test"))
    assert run(f"UPDATE contract SET title = 'piraté' WHERE client_id = {theirs}").rowcount == 0
    assert run(f"DELETE FROM report_message WHERE client_id = {theirs}").rowcount == 0
    inserts = (
        f"INSERT INTO contract (client_id, title, start_date) VALUES ({theirs}, 'F', '2026-01-01')",
        f"INSERT INTO client_member (client_id, user_id, job_title) VALUES ({theirs}, {make_cm().id}, '')",
        f"INSERT INTO audit_entry (client_id, action, object_type, summary) VALUES ({theirs}, 'x', 'c', 'x')",
        # Moving one's own row to the other client.
        f"UPDATE report_message SET client_id = {theirs} WHERE client_id = {ours}",
    )
    for statement in inserts:
        with pytest.raises(ProgrammingError, match="row-level security"), db.session.begin_nested():
            run(statement)
    # An agency-level event (no client) may be written by anyone.
    with db.session.begin_nested():
        run("INSERT INTO audit_entry (client_id, action, object_type, summary) VALUES (NULL, 'x', 'u', 'x')")

    access.set_scope(access.system_scope("test"))
    assert db.session.get(Contract, dupont["contract"].id).title != "piraté"
    assert db.session.scalar(select(ReportMessage.id).where(ReportMessage.client_id == theirs)) is not None


@pytest.mark.parametrize("value", ["", "none", "1;2", "1, 2", "-1", "ALL", "all ", "1,", "99999999999"])
def test_no_scope_or_a_scope_that_is_not_one_admits_no_client_row(two_clients, value):
    scoped(value)
    for table in policy_tables():
        # Agency-level events (audit.client_id IS NULL) and the agency's own
        # people (leads, CMs) are anyone's; nothing else is.
        where = {"audit_entry": "client_id IS NOT NULL", "user_account": "role = 'client'"}.get(table, "true")
        assert count(table, where) == 0, f"{table} with relais.scope = {value!r}"


def test_a_fresh_app_context_has_no_scope_and_sees_nothing(app, two_clients):
    with app.app_context():
        assert access.current_scope() == access.NO_SCOPE
        assert db.session.scalars(select(Invoice)).all() == []
        assert db.session.scalars(select(TimeEntry)).all() == []
        db.session.remove()


def test_a_cms_request_reads_only_its_clients_even_with_a_query_that_forgets_the_rules(app, two_clients):
    dupont, martin = two_clients
    with app.test_request_context("/"):
        login_user(martin["cm"])
        access.scope_request()
        assert access.current_scope().clients == {martin["client"].id}
        # The bug this wall is for: a query without access.client_scope().
        entries = db.session.scalars(select(TimeEntry).execution_options(populate_existing=True)).all()
        contracts = db.session.scalars(select(Contract).execution_options(populate_existing=True)).all()
        audit = db.session.scalars(select(AuditEntry)).all()
    assert {entry.client_id for entry in entries} == {martin["client"].id}
    assert {contract.client_id for contract in contracts} == {martin["client"].id}
    assert {entry.client_id for entry in audit} <= {martin["client"].id, None}


def test_a_client_users_request_reads_only_its_company(app, two_clients):
    dupont, _martin = two_clients
    with app.test_request_context("/"):
        login_user(dupont["member"])
        access.scope_request()
        invoices = db.session.scalars(select(Invoice).execution_options(populate_existing=True)).all()
    assert invoices and {invoice.client_id for invoice in invoices} == {dupont["client"].id}


def test_a_request_writes_the_same_scope_as_the_rules_give_in_one_statement(app, two_clients):
    dupont, martin = two_clients
    assign(martin["cm"], dupont["client"])  # now serves both
    idle = make_cm()  # serves nobody
    lead = make_lead()
    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    for user in (martin["cm"], dupont["cm"], dupont["member"], idle, lead):
        expected = access.scope_for(user)
        statements.clear()
        with app.test_request_context("/"):
            login_user(user)
            event.listen(db.engine, "before_cursor_execute", record)
            try:
                access.scope_request()
            finally:
                event.remove(db.engine, "before_cursor_execute", record)
            written = report_scope()
            assert access.current_scope().clients == expected.clients
        settings = sum(s.startswith("SELECT set_config") for s in statements)
        if user is lead:  # every client: the rules' scope is already the lead's
            assert written == "all" and expected.clients is None and settings == 1
            continue
        assert {int(i) for i in written.split(",") if i} == expected.clients, user.email
        # The clients are read and written by one statement (the first one
        # is the rules' scope, in which the account is looked up).
        assert settings == 2
        assert not any(s.startswith("SELECT client.id") for s in statements)
    assert access.scope_for(idle).clients == frozenset()


def report_scope() -> str:
    return db.session.execute(text("SELECT current_setting('relais.scope', true)")).scalar()


def test_a_job_runs_in_the_systems_scope_and_the_callers_comes_back(app, two_clients):
    dupont, _martin = two_clients
    with access.using_scope(access.client_scope_of(dupont["client"].id, "test")):
        assert report_scope() == str(dupont["client"].id)
        assert run_job("tests.security.test_row_security.report_scope") == "all"
        assert report_scope() == str(dupont["client"].id)


def test_the_app_role_command_refuses_a_role_that_would_not_be_walled(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["app-role", "postgres"])
    assert result.exit_code == 1
    assert "superuser" in result.output
    result = runner.invoke(args=["app-role", "Robert'); DROP TABLE client;--"])
    assert result.exit_code == 1
    assert "role name" in result.output
    assert (
        db.session.execute(text("SELECT count(*) FROM pg_roles WHERE rolname ILIKE 'robert%'")).scalar() == 0
    )


def test_a_lead_sees_every_client(app, two_clients):
    lead = make_lead()
    with app.test_request_context("/"):
        login_user(lead)
        access.scope_request()
        assert access.current_scope().clients is None
        assert len(db.session.scalars(select(Invoice)).all()) == 2


def test_the_health_page_tells_the_lead_the_wall_is_up(client, login_as):
    login_as(make_lead())
    page = client.get("/health").get_data(as_text=True)
    assert "Cloisonnement dans la base" in page
    assert "actif" in page and rls.APP_ROLE in page
    assert "inactif" not in page


def test_a_request_sets_its_scope_a_few_times_whatever_the_apps_made_before(
    app, client, login_as, count_queries, two_clients
):
    """The rules' scope as the transaction begins (to find the account and
    its clients), then the user's: a listener per app created in the
    process would repeat the first."""
    from app import create_app
    from app.config import TestConfig

    create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    login_as(two_clients[1]["cm"])
    with count_queries() as counter:
        assert client.get("/time").status_code == 200
    assert counter.scope_count == 2


def test_the_app_role_command_sets_a_password_given_in_the_environment(app, db, monkeypatch):
    from sqlalchemy import create_engine

    role = "relais_password_test"
    monkeypatch.setenv("RELAIS_TEST_ROLE_PASSWORD", "l'été \\ 2026 ; DROP ROLE postgres")
    owner = create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        result = app.test_cli_runner().invoke(
            args=["app-role", role, "--password-env", "RELAIS_TEST_ROLE_PASSWORD"]
        )
        assert result.exit_code == 0, result.output
        with owner.connect() as conn:
            stored = conn.execute(
                text("SELECT rolpassword FROM pg_authid WHERE rolname = :role"), {"role": role}
            ).scalar()
            assert stored and stored.startswith("SCRAM-SHA-256$")
            postgres = text("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'")
            assert conn.execute(postgres).scalar() == 1
    finally:
        with owner.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        owner.dispose()
