"""Privacy: the audit trail of staff actions (audit_events) and the organisation's
retention of message bodies (days; null keeps them).

Revision ID: a7c3e91f0d52
Revises: ebea8635c829
Create Date: 2026-12-02 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import api.models.base

revision: str = "a7c3e91f0d52"
down_revision: str | None = "ebea8635c829"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The retention sweep's partial indexes: texts still kept, by age.
_KEPT = (
    ("touches", ["org_id", "sent_at"], "body IS NOT NULL AND sent_at IS NOT NULL"),
    ("inbound_mail", ["org_id", "received_at"], "text IS NOT NULL"),
    ("responses", ["org_id", "created_at"], "text IS NOT NULL"),
)
_KEPT_NAME = {"touches": "bodies", "inbound_mail": "texts", "responses": "texts"}


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("at", api.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_audit_events_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_org_id_id"), ["org_id", "id"])
        batch_op.create_index(
            batch_op.f("ix_audit_events_org_id_subject_id_id"), ["org_id", "subject_id", "id"]
        )
        batch_op.create_index(batch_op.f("ix_audit_events_org_id_at"), ["org_id", "at"])
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbound_body_retention_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sent_body_retention_days", sa.Integer(), nullable=True))
    for table, columns, where in _KEPT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                f"ix_{table}_{_KEPT_NAME[table]}_kept",
                columns,
                unique=False,
                postgresql_where=sa.text(where),
                sqlite_where=sa.text(where),
            )


def downgrade() -> None:
    for table, _columns, _where in reversed(_KEPT):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_{_KEPT_NAME[table]}_kept")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("sent_body_retention_days")
        batch_op.drop_column("inbound_body_retention_days")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_org_id_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_org_id_subject_id_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_org_id_id"))
    op.drop_table("audit_events")
