"""retention of personal data, erasable time entry notes

Revision ID: 6b5f140d0d06
Revises: dcc08e37e162
Create Date: 2026-11-24 23:19:45.302759

"""
from alembic import op
import sqlalchemy as sa

# The closed-month guard of time entries (migration d6566ea3d47d) now lets one
# change through: blanking an entry's note and nothing else, which is how a
# former client's personal data is erased (app/lifecycle). Hours, days and
# rates of a closed month still never change.
MONTH_OPEN = """
CREATE OR REPLACE FUNCTION relais_time_entry_month_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.note = ''
       AND to_jsonb(NEW) - 'note' - 'updated_at' = to_jsonb(OLD) - 'note' - 'updated_at' THEN
        RETURN NEW;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
        SELECT 1 FROM month_lock
        WHERE contract_id = OLD.contract_id AND month = date_trunc('month', OLD.day)::date
    ) THEN
        RAISE EXCEPTION 'time_entry: the month of % is locked (% refused)', OLD.day, TG_OP;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
        SELECT 1 FROM month_lock
        WHERE contract_id = NEW.contract_id AND month = date_trunc('month', NEW.day)::date
    ) THEN
        RAISE EXCEPTION 'time_entry: the month of % is locked (% refused)', NEW.day, TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
"""

# The function as d6566ea3d47d made it.
MONTH_OPEN_BEFORE = """
CREATE OR REPLACE FUNCTION relais_time_entry_month_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
        SELECT 1 FROM month_lock
        WHERE contract_id = OLD.contract_id AND month = date_trunc('month', OLD.day)::date
    ) THEN
        RAISE EXCEPTION 'time_entry: the month of % is locked (% refused)', OLD.day, TG_OP;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
        SELECT 1 FROM month_lock
        WHERE contract_id = NEW.contract_id AND month = date_trunc('month', NEW.day)::date
    ) THEN
        RAISE EXCEPTION 'time_entry: the month of % is locked (% refused)', NEW.day, TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
"""


# revision identifiers, used by Alembic.
revision = '6b5f140d0d06'
down_revision = 'dcc08e37e162'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agency_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_personal_years', sa.Integer(), server_default='3', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_agency_settings_retention_personal_years'), 'retention_personal_years BETWEEN 1 AND 10'
        )

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(MONTH_OPEN)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(MONTH_OPEN_BEFORE)

    with op.batch_alter_table('agency_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agency_settings_retention_personal_years'), type_='check')
        batch_op.drop_column('retention_personal_years')
