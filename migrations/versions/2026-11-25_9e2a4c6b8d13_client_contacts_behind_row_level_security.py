"""client contacts' accounts behind row-level security

Revision ID: 9e2a4c6b8d13
Revises: 8d1f2b7c4e90
Create Date: 2026-11-25 11:30:00

A client contact's account (name, e-mail, last login) belongs to its
company as much as its reports do: user_account gets row-level security,
forced. The agency's own people (leads, CMs) stay visible to every scope,
their names appear on reports and entries; a client contact only to the
scope of a company it belongs to (client_member, itself behind its policy)
and to the system's. The app looks up the account of a session, a login or
a mailed link in the access rules' scope (app/access.py), before it knows
whose scope the request has.
"""

from alembic import op

revision = "9e2a4c6b8d13"
down_revision = "8d1f2b7c4e90"
branch_labels = None
depends_on = None

ADMITTED = (
    "(SELECT relais_scope_all()) OR role <> 'client'"
    " OR id IN (SELECT user_id FROM client_member)"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE user_account ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE user_account FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY client_scope ON user_account USING ({ADMITTED})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS client_scope ON user_account")
    op.execute("ALTER TABLE user_account NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE user_account DISABLE ROW LEVEL SECURITY")
