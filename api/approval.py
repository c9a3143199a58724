"""Drafts and their approval deadline: pure rules, no database.

A planned touch waits for the candidate's approval as a ``draft`` when the policy says
``approval: required``. A draft that nobody approves must not linger, nor go out late
unread: it expires at its deadline (``approve_by``) and is skipped.

- A thank-you's deadline is R2's late mark (interview end + ``thank_you_late_hours``): past
  it the note would be too late. A thank-you planned after that mark already (late beats
  never) gets the others' deadline instead.
- Any other step's deadline is ``draft_deadline_hours`` after its planned time, and moves
  with the touch when the ledger moves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from api.policy import PolicySettings
from api.timewindow import local_label

DRAFT = "draft"
SCHEDULED = "scheduled"
#: The rule code of an expiry that is not R2's.
RULE = "APPROVAL"


class DraftLike(Protocol):
    status: str
    step: str
    scheduled_for: datetime | None
    approve_by: datetime | None


def planned_status(settings: PolicySettings) -> str:
    """The status a planner touch starts in under ``settings``."""
    return DRAFT if settings.approval == "required" else SCHEDULED


def deadline(
    settings: PolicySettings, step: str, at: datetime, interview_end: datetime | None
) -> datetime:
    """When a draft planned for ``at`` must be approved by."""
    if step == "thank_you" and interview_end is not None:
        late = interview_end + timedelta(hours=settings.thank_you_late_hours)
        if late > at:
            return late
    return at + timedelta(hours=settings.draft_deadline_hours)


def moved_deadline(touch: DraftLike, old_at: datetime | None) -> datetime | None:
    """The deadline of a draft the ledger has just moved from ``old_at`` to its
    ``scheduled_for``: shifted with it, except a thank-you's (R2 counts from the interview)."""
    if touch.status != DRAFT or touch.approve_by is None or old_at is None:
        return touch.approve_by
    if touch.step == "thank_you" or touch.scheduled_for is None:
        return touch.approve_by
    return touch.approve_by + (touch.scheduled_for - old_at)


def expiry(touch: DraftLike, tz: str) -> tuple[str, str]:
    """(reason, rule) of a draft skipped because its deadline passed unapproved."""
    when = local_label(touch.approve_by, tz) if touch.approve_by else "its deadline"
    if touch.step == "thank_you":
        return f"Not approved by {when}; the thank-you would be too late (R2).", "R2"
    step = touch.step.replace("_", "-")
    return (
        f"Not approved by {when}, the draft deadline for this {step}; it is not sent unread.",
        RULE,
    )


def expired(touch: DraftLike, now: datetime) -> bool:
    return touch.status == DRAFT and touch.approve_by is not None and touch.approve_by <= now
