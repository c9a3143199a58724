"""indexes for the policy's history: a candidate's daily sends, an application's replies

Revision ID: a7c3e9f1d2b4
Revises: 2f8cb35ad297
Create Date: 2026-12-02 04:30:00.000000

The expression is spelled as api.models.touches spells it (CAP_AT_SQL),
and copied here so that this migration keeps meaning what it meant when the models change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9f1d2b4"
down_revision: str | None = "2f8cb35ad297"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAP_AT_SQL = "coalesce(sent_at, scheduled_for)"
REPLIES = "step IN ('post_rejection', 'next_round_reply')"


def upgrade() -> None:
    op.create_index("ix_touches_cap_day", "touches", ["candidate_id", sa.text(CAP_AT_SQL)])
    op.create_index(
        "ix_touches_replies",
        "touches",
        ["application_id", "round"],
        postgresql_where=sa.text(REPLIES),
        sqlite_where=sa.text(REPLIES),
    )


def downgrade() -> None:
    op.drop_index("ix_touches_replies", table_name="touches")
    op.drop_index("ix_touches_cap_day", table_name="touches")
