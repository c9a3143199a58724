"""a candidate's own contact rules, apart from the staff-set contact overrides

Revision ID: a3c1e5f7b902
Revises: b822ade506e4
Create Date: 2026-11-24 09:00:00.000000

Until now anyone could write a contact's policy row, so nobody knows who set the values
stored there. Upgrading treats every existing contact-level value as the candidate's own:
from now on it can only tighten the staff levels, never loosen them. A contact-level
loosening that staff had set must be set again by staff (PUT /v1/contacts/{id}/policy with
an admin's or advisor's token); it is the safe way round, as a candidate's loosening cannot
survive the upgrade. Downgrading puts the candidate's own values back into the one map
(where both set a field, the candidate's value is kept).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a3c1e5f7b902"
down_revision: str | None = "b822ade506e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
settings = sa.table(
    "policy_settings",
    sa.column("id", sa.Integer),
    sa.column("contact_id", sa.Integer),
    sa.column("values", JSON),
    sa.column("own_values", JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("policy_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("own_values", JSON, nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(settings.c.id, settings.c["values"]).where(settings.c.contact_id.is_not(None))
    ).all()
    for row_id, values in rows:
        conn.execute(
            settings.update()
            .where(settings.c.id == row_id)
            .values({"values": {}, "own_values": values or {}})
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(settings.c.id, settings.c["values"], settings.c.own_values).where(
            settings.c.contact_id.is_not(None)
        )
    ).all()
    for row_id, values, own in rows:
        conn.execute(
            settings.update()
            .where(settings.c.id == row_id)
            .values({"values": {**(values or {}), **(own or {})}})
        )
    with op.batch_alter_table("policy_settings", schema=None) as batch_op:
        batch_op.drop_column("own_values")
