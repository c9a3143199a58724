"""Delivery failure reports: RFC 3464 DSNs and the common non-standard shapes.

A bounce is never a reply. A permanent failure (status 5.x.x) makes a touch `failed` and
its address undeliverable; a transient one (4.x.x) is only logged. The standard report
(`multipart/report; report-type=delivery-status`) is read field by field; the shapes of
Exchange ("Undeliverable:", "Delivery has failed to these recipients or groups"), Gmail
("Delivery Status Notification (Failure)", "Address not found") and text-only
MAILER-DAEMON reports are recognised by their subject, sender and body phrases (data in
phrases/<lang>.toml), and their status read from the text when it names one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

from api.inbound.message import (
    MESSAGE_ID,
    body_text,
    in_reply_to,
    raw_header,
    references,
    subject,
)
from api.inbound.phrases import Phrases, load, normalise

STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
SMTP_CODE = re.compile(r"(?<!\d)([45])\d\d(?:[\s-])")
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
FAILED_ACTIONS = ("failed", "delayed")


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient's block of a report."""

    recipient: str | None
    status: str | None
    action: str | None
    diagnostic: str | None

    @property
    def permanent(self) -> bool:
        return bool(self.status and self.status.startswith("5"))


@dataclass(frozen=True)
class Bounce:
    """A delivery failure: the first failed recipient's fields, and every recipient's block."""

    status: str | None
    action: str | None
    diagnostic: str | None
    recipient: str | None
    original_message_id: str | None
    permanent: bool
    standard: bool = True  # an RFC 3464 report, not a guess from free text
    recipients: tuple[RecipientStatus, ...] = ()


def _address(field: str | None) -> str | None:
    """ "rfc822; ana@example.org" -> "ana@example.org"."""
    if not field:
        return None
    found = ADDRESS.search(field.partition(";")[2] or field)
    return found.group(0).lower() if found else None


def _unfold(value: str | None) -> str | None:
    return re.sub(r"\s+", " ", value).strip() if value else None


def _status_blocks(report: Message) -> list[Message]:
    payload = report.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, Message)]
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser().parsestr(chunk) for chunk in re.split(r"\n\s*\n", text) if chunk]


def _original_id(msg: EmailMessage) -> str | None:
    """The failed message's Message-ID from the attached original or its headers."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                found = MESSAGE_ID.findall(str(inner.get("Message-ID", "")))
                if found:
                    return found[0]
        elif ctype == "text/rfc822-headers":
            try:
                text = str(part.get_content())  # type: ignore[union-attr]
            except (LookupError, ValueError):
                text = str(part.get_payload())
            found = MESSAGE_ID.findall(str(HeaderParser().parsestr(text).get("Message-ID", "")))
            if found:
                return found[0]
    return None


def _fallback_id(msg: EmailMessage, text: str) -> str | None:
    """Where non-standard reports keep it: a quoted "Message-ID:" line, or the threading ids."""
    quoted = re.search(r"message-id:\s*(<[^<>\s]+>)", text, re.IGNORECASE)
    if quoted:
        return quoted.group(1)
    ids = in_reply_to(msg) or references(msg)
    return ids[-1] if ids else None


def _standard(msg: EmailMessage) -> Bounce | None:
    report = next(
        (p for p in msg.walk() if p.get_content_type() == "message/delivery-status"), None
    )
    if report is None:
        return None
    blocks = _status_blocks(report)
    recipients = tuple(
        RecipientStatus(
            recipient=_address(b.get("Final-Recipient") or b.get("Original-Recipient")),
            status=(STATUS.search(str(b.get("Status", ""))) or [None])[0],
            action=(_unfold(b.get("Action")) or "").lower() or None,
            diagnostic=_unfold(b.get("Diagnostic-Code")),
        )
        for b in blocks
        if b.get("Final-Recipient") or b.get("Status")
    )
    if not recipients:
        return None
    failed = [r for r in recipients if r.action in FAILED_ACTIONS or (r.status or "")[:1] in "45"]
    if not failed:
        return None  # a success report (delivered, relayed, expanded) is not a bounce
    first = next((r for r in failed if r.permanent), failed[0])
    return Bounce(
        status=first.status,
        action=first.action,
        diagnostic=first.diagnostic,
        recipient=first.recipient,
        original_message_id=_original_id(msg) or _fallback_id(msg, body_text(msg)),
        permanent=first.permanent,
        standard=True,
        recipients=recipients,
    )


def _looks_like_failure(msg: EmailMessage, text: str, phrases: Phrases) -> bool:
    """Two of three signs: a failure's subject, a mailer daemon's address, a failure's
    words in the body (searched last, and only when one of the others is there: most
    messages are no bounce, and the body is the long part)."""
    subj = normalise(subject(msg))
    by_subject = any(subj.startswith(s) for s in phrases.bounce_subjects)  # not "Re: ..."
    from_ = raw_header(msg, "From")  # the address is ASCII: no need of the policy's parser
    local = normalise(from_).partition("@")[0].split("<")[-1].strip('" ')
    by_sender = any(s in local for s in phrases.bounce_senders)
    if by_subject and by_sender:
        return True
    if not (by_subject or by_sender):
        return False
    return bool(phrases.bounce_body and phrases.bounce_body.search(normalise(text)))


def _diagnostic_line(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return _unfold(text[start : end if end != -1 else None]) or ""


def _nonstandard(msg: EmailMessage, phrases: Phrases) -> Bounce | None:
    text = body_text(msg)
    if not _looks_like_failure(msg, text, phrases):
        return None
    status_match = STATUS.search(text)
    if status_match:
        status = status_match.group(0)
        diagnostic = _diagnostic_line(text, status_match.start())
    else:
        code = SMTP_CODE.search(text)
        transient = phrases.bounce_transient and phrases.bounce_transient.search(
            normalise(f"{subject(msg)} {text}")
        )
        status = f"{code.group(1)}.0.0" if code else ("4.0.0" if transient else "5.0.0")
        diagnostic = _diagnostic_line(text, code.start()) if code else None
    recipient = next(
        (a.lower() for a in ADDRESS.findall(text) if not a.lower().startswith("mailer-daemon")),
        None,
    )
    permanent = status.startswith("5")
    action = "failed" if permanent else "delayed"
    entry = RecipientStatus(recipient, status, action, diagnostic)
    return Bounce(
        status=status,
        action=action,
        diagnostic=diagnostic,
        recipient=recipient,
        original_message_id=_original_id(msg) or _fallback_id(msg, text),
        permanent=permanent,
        standard=False,
        recipients=(entry,),
    )


def parse_bounce(msg: EmailMessage, phrases: Phrases | None = None) -> Bounce | None:
    """The delivery failure `msg` reports, or None when it is not a failure report."""
    phrases = phrases or load()
    if any(p.get_content_type() == "message/delivery-status" for p in msg.walk()):
        return _standard(msg)  # the report's own fields are final: no guessing from its text
    return _nonstandard(msg, phrases)
