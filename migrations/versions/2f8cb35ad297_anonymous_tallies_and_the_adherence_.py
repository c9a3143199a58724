"""Anonymous tallies of erased candidates (per org, UTC day and figure), and the adherence
report's partial index on the events that name a rule.

Revision ID: 2f8cb35ad297
Revises: a7c3e91f0d52
Create Date: 2026-12-02 04:47:16.554071
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models.base  # noqa: F401 - autogenerate renders UTCDateTime through it

revision: str = "2f8cb35ad297"
down_revision: str | None = "a7c3e91f0d52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anonymous_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figure", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_anonymous_tallies_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_tallies")),
        sa.UniqueConstraint(
            "org_id", "day", "figure", name=op.f("uq_anonymous_tallies_org_id_day_figure")
        ),
    )
    with op.batch_alter_table("touch_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_touch_events_rule",
            ["at", "touch_id", "rule", "kind"],
            unique=False,
            postgresql_where=sa.text("rule IS NOT NULL"),
            sqlite_where=sa.text("rule IS NOT NULL"),
        )


def downgrade() -> None:

    with op.batch_alter_table("touch_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_touch_events_rule",
            postgresql_where=sa.text("rule IS NOT NULL"),
            sqlite_where=sa.text("rule IS NOT NULL"),
        )

    op.drop_table("anonymous_tallies")
