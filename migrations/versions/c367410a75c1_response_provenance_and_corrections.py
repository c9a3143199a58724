"""response provenance and corrections

Revision ID: c367410a75c1
Revises: cd228f95d090
Create Date: 2026-12-01 20:14:00.219512

Each response records where it came from (source, the heard message's id and stripped
text, what the classifier made of it and how sure it was, the inbound log row). Responses
recorded before this are backfilled from what is known: an email's inbound log row names
its response; an SMS reply's note ends with its Twilio SID. response_corrections keeps
each correction of a response (who, when, from what to what).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import api.models.base

revision: str = "c367410a75c1"
down_revision: str | None = "cd228f95d090"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _from_inbound(column: str) -> str:
    return f"(SELECT MIN(m.{column}) FROM inbound_mail m WHERE m.response_id = responses.id)"


def upgrade() -> None:
    op.create_table(
        "response_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("at", api.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("after", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_corrections_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_corrections")),
    )
    with op.batch_alter_table("response_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_corrections_response_id"), ["response_id"], unique=False
        )

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=10), server_default="manual", nullable=False)
        )
        batch_op.add_column(sa.Column("message_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("classified_as", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("inbound_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_responses_inbound_id_inbound_mail"),
            "inbound_mail",
            ["inbound_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_responses_source"), "source IN ('manual', 'email', 'sms')"
        )
        batch_op.create_check_constraint(
            op.f("ck_responses_confidence"), "confidence >= 0 AND confidence <= 1"
        )

    op.execute(
        "UPDATE responses SET source = 'email', "
        f"inbound_id = {_from_inbound('id')}, message_id = {_from_inbound('message_id')}, "
        f"text = {_from_inbound('text')}, classified_as = {_from_inbound('classification')}, "
        f"confidence = {_from_inbound('confidence')} "
        "WHERE id IN (SELECT response_id FROM inbound_mail WHERE response_id IS NOT NULL)"
    )
    op.execute(
        "UPDATE responses SET source = 'sms', classified_as = kind "
        "WHERE channel = 'sms' AND note LIKE '%[Twilio SM%]'"
    )


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_responses_confidence"), type_="check")
        batch_op.drop_constraint(op.f("ck_responses_source"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_responses_inbound_id_inbound_mail"), type_="foreignkey"
        )
        batch_op.drop_column("inbound_id")
        batch_op.drop_column("confidence")
        batch_op.drop_column("classified_as")
        batch_op.drop_column("text")
        batch_op.drop_column("message_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("response_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_corrections_response_id"))

    op.drop_table("response_corrections")
