"""From a stored touch to the :class:`channels.base.Message` a channel sends.

Built once per attempt from the touch as stored: the same ``message_id`` on every retry
(it was made when the touch was created), the thread of the note it follows up on (R16),
and the URLs where Twilio reports back for SMS and calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from api.models import Contact, Touch, User
from channels.base import Message, make_message_id

#: Parent touches whose message may be in the contact's mailbox, so a reply can thread on it.
THREADABLE = ("sending", "sent", "delivered", "unknown")
MAX_THREAD_DEPTH = 20


def sms_status_url(public_url: str, touch_id: int) -> str:
    return f"{public_url.rstrip('/')}/v1/webhooks/twilio/messages/{touch_id}/status"


def call_twiml_url(public_url: str, touch_id: int) -> str:
    return f"{public_url.rstrip('/')}/v1/webhooks/twilio/calls/{touch_id}/twiml"


def call_status_url(public_url: str, touch_id: int) -> str:
    return f"{public_url.rstrip('/')}/v1/webhooks/twilio/calls/{touch_id}/status"


def message_domain(candidate: User) -> str:
    email = candidate.email or ""
    return email.rsplit("@", 1)[-1] if "@" in email else "touchbase.local"


def ensure_message_id(touch: Touch, candidate: User) -> str:
    """The touch's Message-ID, made and stored now if an older touch has none: stored
    before the first attempt, so every retry reuses it."""
    if not touch.message_id:
        touch.message_id = make_message_id(message_domain(candidate))
    return touch.message_id


def thread_of(session: Session, touch: Touch) -> list[str]:
    """Message-IDs of the thread this touch replies to, oldest first (empty: not a reply).

    Only earlier notes that went out (or may have) count: threading onto a note the
    contact never received would show them a "Re:" to nothing.
    """
    ids: list[str] = []
    seen = {touch.id}
    parent_id = touch.thread_of_id
    while parent_id is not None and parent_id not in seen and len(seen) <= MAX_THREAD_DEPTH:
        seen.add(parent_id)
        parent = session.get(Touch, parent_id)
        if parent is None:
            break
        if parent.message_id and parent.status in THREADABLE:
            ids.append(parent.message_id)
        parent_id = parent.thread_of_id
    ids.reverse()
    return ids


def address_for(contact: Contact, address_kind: str) -> str | None:
    return contact.phone if address_kind == "phone" else contact.email


def build_message(
    session: Session,
    touch: Touch,
    contact: Contact,
    candidate: User,
    address_kind: str,
    config: Mapping[str, Any],
) -> Message:
    public_url = str(config.get("PUBLIC_URL") or "http://127.0.0.1:8000")
    thread = thread_of(session, touch)
    status_callback = None
    metadata: dict[str, Any] = {}
    if touch.channel == "sms":
        status_callback = sms_status_url(public_url, touch.id)
    elif touch.channel == "call":
        status_callback = call_status_url(public_url, touch.id)
        metadata = {
            "twiml_url": call_twiml_url(public_url, touch.id),
            "status_callback_url": status_callback,
        }
    message_id = None
    if address_kind == "email" or touch.message_id:
        message_id = ensure_message_id(touch, candidate)
    return Message(
        touch_id=touch.id,
        step=touch.step,
        to_address=address_for(contact, address_kind) or "",
        to_name=contact.name,
        from_address=candidate.email,
        from_name=candidate.name,
        reply_to=candidate.email,
        subject=touch.subject,
        body=touch.body or "",
        message_id=message_id,
        in_reply_to=thread[-1] if thread else None,
        references=thread,
        status_callback_url=status_callback,
        candidate_phone=candidate.phone,
        call_script=touch.body if touch.channel == "call" else None,
        metadata=metadata,
    )
