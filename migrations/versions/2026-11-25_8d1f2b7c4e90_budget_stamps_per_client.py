"""budget stamps: one counter per client, moved on by every change its budgets show

Revision ID: 8d1f2b7c4e90
Revises: 7c3e9a1f0b2d
Create Date: 2026-11-25 10:30:00

The lead's dashboard shows every running contract's budget for the month;
computing and rendering it for 200 contracts is most of that page's time.
It is kept, rendered, under a key that moves on with every committed change
of what it shows (app/main/services.py): the sum of these counters. A trigger
on each table the budgets read (time entries, contracts, their terms,
clients) adds one to the client's counter in the same transaction as the
change, so a reader that takes the key before the data never keeps old data
under a new key. Rows are never deleted, counters only grow: the sum never
comes back to a value it had.
"""

import sqlalchemy as sa
from alembic import op

revision = "8d1f2b7c4e90"
down_revision = "7c3e9a1f0b2d"
branch_labels = None
depends_on = None

# table -> the client of a row, as an SQL expression of {row} (NEW or OLD)
TOUCHING = {
    "time_entry": "{row}.client_id",
    "contract": "{row}.client_id",
    "client": "{row}.id",
    "contract_terms": "(SELECT client_id FROM contract WHERE contract.id = {row}.contract_id)",
}

TOUCH = """
CREATE FUNCTION relais_budget_touch(cid integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cid IS NOT NULL THEN
        INSERT INTO budget_stamp (client_id, version) VALUES (cid, 1)
        ON CONFLICT (client_id) DO UPDATE SET version = budget_stamp.version + 1;
    END IF;
END
$$;
"""

ALL = "(SELECT relais_scope_all())"
CLIENTS = "(SELECT relais_scope_clients())::integer[]"


def _postgresql_trigger(table: str, client: str) -> str:
    old, new = client.format(row="OLD"), client.format(row="NEW")
    return f"""
CREATE FUNCTION relais_budget_touch_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM relais_budget_touch({old});
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM relais_budget_touch({new});
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER budget_stamp AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION relais_budget_touch_{table}();
"""


def _sqlite_triggers(table: str, client: str) -> list[str]:
    statements = []
    for operation, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        body = "".join(
            "INSERT INTO budget_stamp (client_id, version)"
            f" SELECT cid, 1 FROM (SELECT {client.format(row=row)} AS cid) WHERE cid IS NOT NULL"
            " ON CONFLICT (client_id) DO UPDATE SET version = version + 1;"
            for row in rows
        )
        statements.append(
            f"CREATE TRIGGER budget_stamp_{table}_{operation.lower()} AFTER {operation} ON {table}"
            f" FOR EACH ROW BEGIN {body} END"
        )
    return statements


def upgrade():
    op.create_table(
        "budget_stamp",
        sa.Column("client_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("version > 0", name=op.f("ck_budget_stamp_version")),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_budget_stamp")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(TOUCH)
        for table, client in TOUCHING.items():
            op.execute(_postgresql_trigger(table, client))
        op.execute("ALTER TABLE budget_stamp ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE budget_stamp FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY client_scope ON budget_stamp USING ({ALL} OR client_id = ANY ({CLIENTS}))")
    else:
        for table, client in TOUCHING.items():
            for statement in _sqlite_triggers(table, client):
                op.execute(statement)
    # The clients already there start at 1.
    op.execute("INSERT INTO budget_stamp (client_id, version) SELECT id, 1 FROM client")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TOUCHING:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS budget_stamp ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS relais_budget_touch_{table}()")
        else:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS budget_stamp_{table}_{operation}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS relais_budget_touch(integer)")
    op.drop_table("budget_stamp")
