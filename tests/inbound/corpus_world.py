"""A world for each corpus message, seeded from the message itself, and what the whole
pipeline should make of it (corpus/outcomes.toml). Shared by the raw-endpoint and the
IMAP runs of the corpus."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.inbound import message as mail
from tests.inbound.cases import CASES, CORPUS, Case

HINTS: dict[str, dict] = tomllib.loads((CORPUS / "outcomes.toml").read_text(encoding="utf-8"))


def expected_outcome(case: Case) -> str:
    hint = HINTS.get(case.name, {})
    if "outcome" in hint:
        return hint["outcome"]
    if case.kind == "auto_reply" or (case.kind == "out_of_office" and case.until is None):
        return "ignored"
    return "recorded"


def expected_classification(case: Case) -> str | None:
    """A copy of our own message is set aside before it is classified."""
    return None if HINTS.get(case.name, {}).get("own_copy") else case.kind


def expected_response_kind(case: Case) -> str | None:
    """The kind of the response recorded (None: no response, e.g. for a bounce)."""
    if expected_outcome(case) != "recorded" or case.kind == "bounce":
        return None
    return case.kind


@dataclass
class Seeded:
    case: Case
    raw: bytes
    contact_id: int | None
    touch_ids: list[int]


def seed(case: Case, factory, candidate) -> Seeded:
    """The contact and the sent touches the message answers (nothing for ``unknown``)."""
    raw = (CORPUS / case.name).read_bytes()
    hint = HINTS.get(case.name, {})
    if hint.get("unknown"):
        return Seeded(case, raw, None, [])
    msg = mail.parse(raw)
    if case.kind == "bounce":
        address = case.bounce["recipient"]
        answered = (
            [case.bounce["original_message_id"]] if case.bounce.get("original_message_id") else []
        )
    else:
        address = hint.get("interviewer") or mail.sender(msg)
        answered = list(dict.fromkeys(mail.in_reply_to(msg) + mail.references(msg)))
    if hint.get("own_copy"):
        answered.append(mail.message_id(msg))
    contact = factory.contact(candidate, email=address, timezone=case.tz)
    application = factory.application(candidate)
    sent_at = (mail.sent_at(msg) or datetime.now(UTC)) - timedelta(days=2)
    touches = [
        factory.touch(
            contact,
            application,
            status="sent",
            message_id=message_id,
            scheduled_for=sent_at,
            sent_at=sent_at,
        )
        for message_id in answered
    ]
    return Seeded(case, raw, contact.id, [t.id for t in touches])


def deliveries(case: Case) -> int:
    return 2 if HINTS.get(case.name, {}).get("twice") else 1


__all__ = [
    "CASES",
    "HINTS",
    "Seeded",
    "deliveries",
    "expected_classification",
    "expected_outcome",
    "expected_response_kind",
    "seed",
]
