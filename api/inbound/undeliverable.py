"""A permanent bounce marks the contact's email address undeliverable.

The mark mirrors the SMS opt-out: it is a fact on the contact
(``email_undeliverable_at`` / ``_reason``), and the rest follows from the usual places.
The policy's UNDELIVERABLE rule refuses every automated email to the contact with the
bounce as the reason (at creation, on re-planning, at the moment of sending), the
channel choice stops offering email for them, and the budget answer names the rule and
the sentence. Re-planning the contact's applications here is what ends their pending email
touches now, through the scheduling core. Changing the contact's address
(``PATCH /v1/contacts/{id}``) clears the mark: the new address is untried.

A bounce for an address the contact no longer has (changed since the touch went out)
marks nothing: the news is about the old address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api import scheduling
from api.models import Contact
from api.scheduling.facts import FactSource


def bounced_address_is_current(contact: Contact, recipient: str | None) -> bool:
    """Whether a bounce for ``recipient`` (None: the report does not say) is about the
    address the contact has now."""
    if not contact.email:
        return False
    return recipient is None or recipient.strip().lower() == contact.email


def mark_undeliverable(
    session: Session,
    contact: Contact,
    recipient: str | None,
    reason: str,
    now: datetime,
    actor: str,
    source: FactSource | None = None,
    *,
    replan: bool = True,
) -> bool:
    """Mark the contact's address undeliverable for ``reason`` (a sentence) and re-plan
    their pending touches (``source``: the facts a batch carries; ``replan`` False: the
    caller does, api.scheduling.replan_contacts); False when it is not their current
    address or already marked."""
    session.refresh(contact, with_for_update=True)
    if contact.email_undeliverable_at is not None:
        return False
    if not bounced_address_is_current(contact, recipient):
        return False
    contact.email_undeliverable_at = now
    contact.email_undeliverable_reason = reason[:2000]
    session.flush()
    if replan:
        scheduling.replan_where(session, now, actor, contact_id=contact.id, source=source)
    return True
