"""one contact per email address and per phone number, per candidate

Revision ID: d4e8f2a6c913
Revises: a3c1e5f7b902
Create Date: 2026-11-24 12:00:00.000000

A production database may already hold a candidate's duplicates (the same person entered
twice, an address typed with other capitals). Before the unique indexes are built, emails
are stored trimmed and lower-cased (api.contact_identity.normal_email, as the API already
did), and within each candidate the oldest contact (lowest id) keeps a shared email or
phone. Each later one loses it, and its notes say which value went and which contact has
it, so nothing is lost from sight: the candidate can merge by hand or give a direct line.
Their touches stay as history; a pending email or SMS to a contact that lost the address
is refused at send time (no address), which is what stops the budget from multiplying.
Downgrading drops the unique indexes; the cleared values are not put back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e8f2a6c913"
down_revision: str | None = "a3c1e5f7b902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

contacts = sa.table(
    "contacts",
    sa.column("id", sa.Integer),
    sa.column("candidate_id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("phone", sa.String),
    sa.column("notes", sa.Text),
)


def _normal_email(address: str | None) -> str | None:
    # A copy of api.contact_identity.normal_email: a migration must not change when the
    # application code does.
    return None if address is None else address.strip().lower()


def _deduplicate(conn) -> None:
    rows = conn.execute(
        sa.select(
            contacts.c.id,
            contacts.c.candidate_id,
            contacts.c.email,
            contacts.c.phone,
            contacts.c.notes,
        ).order_by(contacts.c.id)
    ).all()
    first: dict[tuple[str, int, str], int] = {}
    for row_id, candidate_id, raw_email, phone, old_notes in rows:
        email = _normal_email(raw_email) or None
        changes: dict[str, str | None] = {"email": email} if email != raw_email else {}
        notes: list[str] = []
        for field, value in (("email", email), ("phone", phone)):
            if not value:
                continue
            owner = first.setdefault((field, candidate_id, value), row_id)
            if owner != row_id:
                changes[field] = None
                notes.append(
                    f"[touchbase upgrade] {field} {value} removed: contact {owner} has it "
                    "(one person, one contact)."
                )
        if notes:
            changes["notes"] = "\n".join(([old_notes] if old_notes else []) + notes)
        if changes:
            conn.execute(contacts.update().where(contacts.c.id == row_id).values(**changes))


def upgrade() -> None:
    _deduplicate(op.get_bind())
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_candidate_id_email")
        batch_op.create_index("uq_contacts_candidate_email", ["candidate_id", "email"], unique=True)
        batch_op.create_index("uq_contacts_candidate_phone", ["candidate_id", "phone"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("uq_contacts_candidate_phone")
        batch_op.drop_index("uq_contacts_candidate_email")
        batch_op.create_index("ix_contacts_candidate_id_email", ["candidate_id", "email"])
