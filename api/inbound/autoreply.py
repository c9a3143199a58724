"""Automatic replies (RFC 3834) and out-of-office return dates.

An automatic reply is never a reply for R8: the person has not read the follow-up.
Headers decide first (`Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`,
`Precedence: auto_reply|bulk|junk`, Exchange's `X-MS-Exchange-Generated-Message-Source`
and `X-MS-Exchange-Inbox-Rules-Loop`), then subject prefixes from phrases/<lang>.toml.
`X-Auto-Response-Suppress` is deliberately ignored: Outlook puts it on ordinary mail.

An out-of-office's `until` is the LAST DAY AWAY; the contact is back the day after:
"back on Monday 14 December" -> 13 December; "until the 14th", "out of the office until
December 14", "through the 14th" -> 14 December. Dates resolve relative to the message's
day in the contact's zone and never fall before it (see dates.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

from api.inbound.dates import find_dates, window_before
from api.inbound.message import header, subject
from api.inbound.phrases import Phrases, alternation, load, normalise

AUTO_PRECEDENCE = frozenset(("auto_reply", "bulk", "junk"))
FLAG_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
EXCHANGE_HEADERS = ("X-MS-Exchange-Generated-Message-Source", "X-MS-Exchange-Inbox-Rules-Loop")


@dataclass(frozen=True)
class AutoReply:
    """Why a message is automatic, and whether it is an out-of-office (with its last day)."""

    reason: str
    by_header: bool
    out_of_office: bool = False
    until: date | None = None


def automatic_reason(msg: EmailMessage, phrases: Phrases | None = None) -> tuple[str, bool] | None:
    """(why, decided by a header) when `msg` is an automatic message, else None."""
    phrases = phrases or load()
    submitted = header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}", True
    for name in FLAG_HEADERS:
        value = header(msg, name).lower()
        if name in msg and value not in ("no", "false", "0"):
            return f"{name} header", True
    precedence = header(msg, "Precedence").lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}", True
    for name in EXCHANGE_HEADERS:
        if name in msg:
            return f"{name} header", True
    subj = normalise(subject(msg))
    for prefix in phrases.auto_reply_subjects:
        if subj.startswith(prefix):
            return f'subject starts "{prefix}"', False
    return None


def _cue_at_end(window: str, cues: list[str], fillers: list[str]) -> str | None:
    """The cue that `window` ends with, a few filler words allowed ("back in the office on")."""
    pattern = re.compile(
        rf"(?<!\w)({alternation(cues)})(?:\s+(?:{alternation(fillers) or '(?!)'}))*[\s,:]*$",
        re.IGNORECASE,
    )
    found = pattern.search(window)
    return found.group(1) if found else None


def return_until(text: str, today: date, phrases: Phrases | None = None) -> date | None:
    """The last day away that an out-of-office text names, or None when it names none."""
    phrases = phrases or load()
    for found in find_dates(text, today, phrases.dates):
        window = window_before(text, found.start, width=60)
        if _cue_at_end(window, phrases.until_cues, phrases.cue_fillers):
            return found.day
        if _cue_at_end(window, phrases.back_cues, phrases.cue_fillers):
            return max(today, found.day - timedelta(days=1))
    return None


def is_out_of_office(text: str, subj: str = "", phrases: Phrases | None = None) -> bool:
    phrases = phrases or load()
    pattern = phrases.out_of_office
    return bool(pattern and (pattern.search(normalise(text)) or pattern.search(normalise(subj))))


def detect(
    msg: EmailMessage, text: str, today: date, phrases: Phrases | None = None
) -> AutoReply | None:
    """The automatic reply `msg` is (with `text` its stripped body), or None for a human one."""
    phrases = phrases or load()
    found = automatic_reason(msg, phrases)
    if found is None:
        return None
    reason, by_header = found
    ooo = is_out_of_office(text, subject(msg), phrases)
    until = return_until(text, today, phrases)
    return AutoReply(reason, by_header, out_of_office=ooo or until is not None, until=until)
