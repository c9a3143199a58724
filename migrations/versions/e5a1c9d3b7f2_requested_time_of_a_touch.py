"""the time a person asked for a touch, apart from where the scheduling core put it

Revision ID: e5a1c9d3b7f2
Revises: d4e8f2a6c913
Create Date: 2026-12-01 17:30:00.000000

The scheduling core re-plans pending touches from facts; a time the candidate chose is one
of them, the time the core last computed is not. Touches scheduled by hand (not by the
planner) keep their current time as the asked one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.models.base

revision: str = "e5a1c9d3b7f2"
down_revision: str | None = "d4e8f2a6c913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("touches") as batch:
        batch.add_column(
            sa.Column("requested_for", api.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE touches SET requested_for = scheduled_for "
        "WHERE planned = false AND automated = true AND status = 'scheduled'"
    )


def downgrade() -> None:
    with op.batch_alter_table("touches") as batch:
        batch.drop_column("requested_for")
