"""drafts awaiting approval: touch status 'draft' and its approval deadline

Revision ID: e5a9c3d7f1b4
Revises: e5a1c9d3b7f2
Create Date: 2026-12-01 17:00:00.000000

Planner touches may now wait for the candidate's approval as drafts (status ``draft``), each
with the time by which it must be approved (``approve_by``); a partial index keeps the
expiry sweep's scan to the drafts. Downgrading cancels the drafts left (a status the older
code does not know) before the check constraint is narrowed again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models.base

revision: str = "e5a9c3d7f1b4"
down_revision: str | None = "e5a1c9d3b7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copies, not imports of api.policy: a migration must not change when the code does.
OLD_STATUSES = (
    "scheduled",
    "sending",
    "sent",
    "delivered",
    "failed",
    "skipped",
    "cancelled",
    "unknown",
)
NEW_STATUSES = ("draft", *OLD_STATUSES)


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approve_by", api.models.base.UTCDateTime(), nullable=True))
        batch_op.drop_constraint(op.f("ck_touches_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_touches_status"), _in(NEW_STATUSES))
        batch_op.create_index(
            "ix_touches_drafts",
            ["approve_by"],
            unique=False,
            postgresql_where=sa.text("status = 'draft'"),
            sqlite_where=sa.text("status = 'draft'"),
        )


def downgrade() -> None:
    op.execute(
        "UPDATE touches SET status = 'cancelled', "
        "reason = 'Draft left unapproved when the database was downgraded.' "
        "WHERE status = 'draft'"
    )
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_touches_drafts",
            postgresql_where=sa.text("status = 'draft'"),
            sqlite_where=sa.text("status = 'draft'"),
        )
        batch_op.drop_constraint(op.f("ck_touches_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_touches_status"), _in(OLD_STATUSES))
        batch_op.drop_column("approve_by")
