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

import re
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from api.inbound import autoreply
from api.inbound.bounces import Bounce, parse_bounce
from api.inbound.dates import (
    SENTENCE_END,
    FoundDate,
    find_dates,
    reference_day,
    window_after,
    window_before,
)
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


NEGATION_WORDS = 4  # how many words before a phrase a negation may stand ("haven't yet")
CLAUSE_BREAK = re.compile(r"[.!?;:,]|\s[-\u2013\u2014]\s|\n")


def negated(text: str, start: int, negations: re.Pattern[str] | None) -> bool:
    """Whether a negation governs the phrase at `start`: a few words before it, same clause.

    "We haven't gone with another candidate" and "not ready to make an offer" say the
    opposite of the phrase they hold; "No, unfortunately the role has been filled" does
    not (the comma closes the clause the "no" is in).
    """
    if negations is None:
        return False
    window = text[max(0, start - 80) : start]
    breaks = [m.end() for m in CLAUSE_BREAK.finditer(window)]
    clause = window[breaks[-1] :] if breaks else window
    words = " ".join(clause.split()[-NEGATION_WORDS:])
    return negations.search(words) is not None


def _match(
    phrases: ClassPhrases, text: str, negations: re.Pattern[str] | None = None
) -> tuple[float, str] | None:
    """(confidence, evidence) when `text` holds a strong phrase or two distinct weak ones.

    A phrase that a negation governs does not count.
    """

    def found(pattern: re.Pattern[str] | None) -> list[str]:
        if pattern is None:
            return []
        return [
            m.group(0) for m in pattern.finditer(text) if not negated(text, m.start(), negations)
        ]

    strong = found(phrases.strong)
    if strong:
        return 0.9, strong[0]
    weak = sorted(set(found(phrases.weak)))
    if len(weak) >= 2:
        return 0.6, '" and "'.join(weak[:2])
    return None


def _promise(text: str, found: FoundDate, phrases: Phrases) -> bool:
    """Whether the sentence holding `found` states a promise, not a question or a request."""
    rest = text[found.end :]
    end = SENTENCE_END.search(rest)
    if end and rest[end.start()] == "?":
        return False
    asks = phrases.decision_asks
    return not (asks and asks.search(window_before(text, found.start, width=100)))


def decision_date(text: str, today: date, phrases: Phrases | None = None) -> date | None:
    """The first date promised for a decision ("we will let you know by Friday the 11th").

    A cue before the date in its sentence decides first; failing any, a cue right after it
    ("By Monday you'll have our answer"). Questions and requests promise nothing.
    """
    phrases = phrases or load()
    cues = phrases.decision_cues
    if cues is None:
        return None
    found = [f for f in find_dates(text, today, phrases.dates) if _promise(text, f, phrases)]
    for date_found in found:
        if cues.search(window_before(text, date_found.start, width=100)):
            return date_found.day
    for date_found in found:
        if cues.search(window_after(text, date_found.end, width=60)):
            return date_found.day
    return None


def _human(text: str, today: date, phrases: Phrases) -> Classification:
    plain = normalise(text)
    promised = decision_date(plain, today, phrases)
    for kind, cls in (
        ("rejected", phrases.rejected),
        ("offer", phrases.offer),
        ("next_round", phrases.next_round),
    ):
        found = _match(cls, plain, phrases.negations)
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
