"""What an inbound reply says: bounce, automatic reply, or a human answer of some kind.

Order matters and is fixed: a bounce first (never a reply), then an automatic reply or
out-of-office (never a reply for R8), then the human classes by precedence: rejection,
offer, next round, decision date, else a plain reply. A rejection that also promises a
date ("unfortunately we went with another candidate... we will decide by December 15")
stays `rejected`, with `decision_date` still filled in.

Text rules read only the reply's own words (quotes.py strips the quoted thread and the
signature), case-insensitively. The phrases live in data, phrases/<lang>.toml: a second
language is a new file and the `language` argument, not a code change.
SMS (a plain string) skips the header checks; its text is the whole message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from api.inbound import autoreply
from api.inbound.bounces import Bounce, parse_bounce
from api.inbound.dates import find_dates, reference_day, window_before
from api.inbound.message import body_text, sent_at
from api.inbound.phrases import ClassPhrases, Phrases, load, normalise
from api.inbound.quotes import strip_reply

KINDS = (
    "bounce",
    "auto_reply",
    "out_of_office",
    "rejected",
    "next_round",
    "offer",
    "decision_date",
    "replied",
)


@dataclass(frozen=True)
class Classification:
    """The class of one inbound message and what was read from it."""

    kind: str
    confidence: float
    text: str
    reason: str
    until: date | None = None
    decision_date: date | None = None
    bounce: Bounce | None = None


def _match(phrases: ClassPhrases, text: str) -> tuple[float, str] | None:
    """(confidence, evidence) when `text` holds a strong phrase or two distinct weak ones."""
    if phrases.strong:
        found = phrases.strong.search(text)
        if found:
            return 0.9, found.group(0)
    if phrases.weak:
        weak = sorted({m.group(0) for m in phrases.weak.finditer(text)})
        if len(weak) >= 2:
            return 0.6, '" and "'.join(weak[:2])
    return None


def decision_date(text: str, today: date, phrases: Phrases | None = None) -> date | None:
    """The first date promised for a decision ("we will let you know by Friday the 11th")."""
    phrases = phrases or load()
    cues = phrases.decision_cues
    if cues is None:
        return None
    for found in find_dates(text, today, phrases.dates):
        if cues.search(window_before(text, found.start, width=100)):
            return found.day
    return None


def _human(text: str, today: date, phrases: Phrases) -> Classification:
    plain = normalise(text)
    promised = decision_date(plain, today, phrases)
    for kind, cls in (
        ("rejected", phrases.rejected),
        ("offer", phrases.offer),
        ("next_round", phrases.next_round),
    ):
        found = _match(cls, plain)
        if found:
            confidence, evidence = found
            reason = f'The reply says "{evidence}".'
            return Classification(kind, confidence, text, reason, decision_date=promised)
    if promised is not None:
        reason = f"The reply promises a decision by {promised.isoformat()}."
        return Classification("decision_date", 0.8, text, reason, decision_date=promised)
    return Classification("replied", 0.7, text, "A person replied with no recognised cue.")


def _sms_auto(text: str, phrases: Phrases) -> bool:
    plain = normalise(text)
    return any(plain.startswith(prefix) for prefix in phrases.auto_reply_subjects)


def classify(
    msg: EmailMessage | str,
    *,
    received_at: datetime,
    tz: str,
    channel: str = "email",
    language: str = "en",
) -> Classification:
    """Classify an inbound email (EmailMessage) or SMS (str) received at `received_at`.

    Dates are read relative to the message's Date (else `received_at`) in zone `tz`.
    """
    phrases = load(language)
    if isinstance(msg, str):
        text = msg.strip()
        today = reference_day(None, received_at, tz)
        if _sms_auto(text, phrases):
            until = autoreply.return_until(normalise(text), today, phrases)
            kind = "out_of_office" if until else "auto_reply"
            return Classification(kind, 0.8, text, f"The {channel} text is an auto-reply.", until)
        return _human(text, today, phrases)

    today = reference_day(sent_at(msg), received_at, tz)
    bounce = parse_bounce(msg, phrases)
    if bounce is not None:
        kind_word = "permanent" if bounce.permanent else "transient"
        how = "delivery status report" if bounce.standard else "failure notice"
        reason = f"A {how} says delivery {kind_word}ly failed (status {bounce.status})."
        return Classification(
            "bounce", 0.99 if bounce.standard else 0.85, body_text(msg), reason, bounce=bounce
        )

    text = strip_reply(body_text(msg), languages=(language,))
    auto = autoreply.detect(msg, normalise(text), today, phrases)
    if auto is not None:
        confidence = 0.95 if auto.by_header else 0.8
        if auto.until is not None:
            reason = f"An out-of-office ({auto.reason}) away until {auto.until.isoformat()}."
            return Classification("out_of_office", confidence, text, reason, until=auto.until)
        what = "An out-of-office with no return date" if auto.out_of_office else "An auto-reply"
        return Classification("auto_reply", confidence, text, f"{what} ({auto.reason}).")

    return _human(text, today, phrases)
