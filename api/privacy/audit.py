"""The audit trail: who did what that matters to a candidate, kept after an erasure.

:func:`record` adds the row to the session of the action, so it commits (or rolls back)
with it: there is no action without its row, nor a row for an action that did not stand.
Only ids and field names go in: an erased candidate's rows must not carry their data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.models import AuditEvent, utcnow

#: What the trail records; the API documents this set (the AuditAction enum).
ACTIONS = (
    "export",  # a candidate's data exported (by themselves or an admin)
    "erasure",  # a candidate's data erased
    "user.deleted",  # DELETE /v1/users/{id}: erased too (staff, advisors, admins)
    "token.created",  # a token made for another user (a portal acting for a candidate)
    "policy.changed",  # a staff layer of the policy (org, candidate or contact)
    "channel_settings.changed",  # the org's or a candidate's channel settings set or removed
    "assignment.created",
    "assignment.deleted",
    "retention.changed",  # the organisation's retention of message texts
)


def record(
    session: Session,
    action: str,
    *,
    org_id: int,
    actor_id: int | None,
    actor_role: str | None,
    subject_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: add it to ACTIONS")
    row = AuditEvent(
        org_id=org_id,
        at=at or utcnow(),
        action=action,
        actor_id=actor_id,
        actor_role=actor_role,
        subject_id=subject_id,
        data=data or {},
    )
    session.add(row)
    return row


def by_caller(
    session: Session, action: str, subject_id: int | None = None, **data: Any
) -> AuditEvent:
    """:func:`record` for the request's caller (api.auth.current)."""
    from api.auth import current

    principal = current()
    return record(
        session,
        action,
        org_id=principal.org_id,
        actor_id=principal.user_id,
        actor_role=principal.role,
        subject_id=subject_id,
        data=data,
    )
