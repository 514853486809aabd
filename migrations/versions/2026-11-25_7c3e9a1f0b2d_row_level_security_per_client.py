"""row-level security: every client-owned row behind the client scope

Revision ID: 7c3e9a1f0b2d
Revises: 6b5f140d0d06
Create Date: 2026-11-25 09:30:00

PostgreSQL only (SQLite keeps the application's checks alone). Every table
holding client-owned rows gets row-level security, FORCED (the table owner
is held to it too), and one policy admitting only the clients of the
current scope. The scope is the transaction-local setting `relais.scope`,
which the application's access module sets at the start of every
transaction (app/rls.py): 'all' for a lead and for work nobody's request
started (month close, webhooks, jobs, commands), a comma-separated list of
client ids for a CM or a client user, and nothing at all otherwise, which
admits no row (fails closed).

Both settings are read through scalar sub-selects, so PostgreSQL evaluates
them once per statement (an InitPlan), not once per row.
"""

from alembic import op

revision = "7c3e9a1f0b2d"
down_revision = "6b5f140d0d06"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION relais_scope_all() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('relais.scope', true), '') = 'all'
$$;

CREATE FUNCTION relais_scope_clients() RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(current_setting('relais.scope', true), '') ~ '^[0-9]{1,9}(,[0-9]{1,9})*$'
        THEN string_to_array(current_setting('relais.scope', true), ',')::integer[]
        ELSE '{}'::integer[]
    END
$$;
"""

ALL = "(SELECT relais_scope_all())"
CLIENTS = "(SELECT relais_scope_clients())::integer[]"

# Tables whose rows carry the client they belong to.
CLIENT_ID_TABLES = (
    "client_member",
    "cm_assignment",
    "contract",
    "inactivity_notice",
    "stripe_event",
    "budget_alert",
    "invoice",
    "month_lock",
    "report",
    "time_entry",
    "card_payment_intent",
    "channel_figure",
    "invoice_line",
    "payment",
    "report_message",
    "report_version",
    "share_link",
)

# table -> the rows the scope admits, to read and to write
POLICIES: dict[str, str] = {
    **{table: f"{ALL} OR client_id = ANY ({CLIENTS})" for table in CLIENT_ID_TABLES},
    "client": f"{ALL} OR id = ANY ({CLIENTS})",
    # Agency-level events (a login, a change of one's own profile) have no
    # client: anyone writes them, and so reads them back (INSERT ... RETURNING
    # needs it); the access module shows them to leads only.
    "audit_entry": f"{ALL} OR client_id IS NULL OR client_id = ANY ({CLIENTS})",
    # Rows of a contract: visible with their contract (itself behind its policy).
    "contract_terms": f"{ALL} OR contract_id IN (SELECT id FROM contract)",
    # An override of a competitor wall concerns two clients: both in scope.
    "wall_override": (
        f"{ALL} OR (competitor_client_id = ANY ({CLIENTS})"
        " AND assignment_id IN (SELECT id FROM cm_assignment))"
    ),
    # Stored files: visible with a row that refers to them.
    "document": (
        f"{ALL}"
        " OR sha256 IN (SELECT document_sha256 FROM report_version)"
        " OR sha256 IN (SELECT draft_sha256 FROM report WHERE draft_sha256 IS NOT NULL)"
        " OR sha256 IN (SELECT pdf_sha256 FROM invoice WHERE pdf_sha256 IS NOT NULL)"
        " OR sha256 IN (SELECT logo_sha256 FROM client WHERE logo_sha256 IS NOT NULL)"
        " OR sha256 IN (SELECT logo_sha256 FROM agency_settings WHERE logo_sha256 IS NOT NULL)"
    ),
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    for table, admitted in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY client_scope ON {table} USING ({admitted})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f"DROP POLICY IF EXISTS client_scope ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS relais_scope_clients()")
    op.execute("DROP FUNCTION IF EXISTS relais_scope_all()")
