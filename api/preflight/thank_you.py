"""Checks on the content of a thank-you or post-rejection note (R3, R9).

A specific point from the interview notes, gratitude, renewed enthusiasm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from api.preflight.model import BLOCK, WARN, CheckContext, Finding, MessageLike
from api.preflight.text import _full_text, _needs_body, _unique

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours
    really great good lot lots new like want wants need needs get got make made use used using
    well way part time thing things next step steps team teams role roles company companies
    position job jobs work working worked interview interviews interviewer discussion discussed
    discuss conversation talked talk talking mentioned mention chat chatted opportunity
    experience project projects their we'll i'm it's especially enjoyed thank thanks learning
    learned hear hearing"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#]*")


def _significant_words(text: str, exclude: set[str]) -> list[str]:
    out: list[str] = []
    for raw in _TOKEN.findall(text):
        low = raw.lower()
        if low in _STOPWORDS or low in exclude:
            continue
        # Short words count only when written like a term: "Go", "AI", "K8s", "C#".
        if len(low) >= 4 or (len(low) >= 2 and (raw[0].isupper() or not low.isalpha())):
            out.append(low)
    return _unique(out)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < 4 or not a.isalpha() or not b.isalpha():
        return False
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    return prefix >= max(4, math.ceil(0.75 * shorter))


def _mentions(item_words: list[str], body_words: set[str]) -> bool:
    needed = min(2, len(item_words))
    hits = sum(1 for w in item_words if any(_similar(w, b) for b in body_words))
    return needed > 0 and hits >= needed


@_needs_body
def missing_specific_point(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.step != "thank_you":
        return
    who = ctx.contact.display
    exclude = {w.lower() for w in _TOKEN.findall(" ".join((ctx.contact.name, ctx.candidate_name)))}
    exclude |= {w.lower() for w in _TOKEN.findall(f"{ctx.contact.company} {ctx.position}")}
    items = [(item, _significant_words(item, exclude)) for item in ctx.notes.items()]
    items = [(item, words) for item, words in items if words]
    if not items:
        yield Finding(
            "missing_specific_point",
            "R3",
            WARN,
            f"There are no usable interview notes on {who}, so nothing confirms that this "
            "thank-you mentions something specific from your conversation. Add a specific "
            "point to your notes, or make sure the note mentions one.",
        )
        return
    body_words = {w.lower() for w in _TOKEN.findall(_full_text(message))}
    if any(_mentions(words, body_words) for _, words in items):
        return
    example = items[0][0]
    yield Finding(
        "missing_specific_point",
        "R3",
        BLOCK,
        f"The thank-you does not mention anything from your notes on {who} "
        f'(for example "{example}"); refer to a specific point from your conversation.',
    )


_GRATITUDE = re.compile(r"(?<![\w])(?:thank|grateful|gratitude|appreciat)", re.IGNORECASE)
_ENTHUSIASM = re.compile(
    r"(?<![\w])(?:excit|enthusias|eager|keen|look(?:ing)?\s+forward|interest|thrill|delight|"
    r"passion|motivat|energi[sz]|inspir|would\s+(?:love|welcome)|glad\s+to\s+join|"
    r"can'?t\s+wait|happy\s+to\s+(?:join|contribute))",
    re.IGNORECASE,
)


@_needs_body
def missing_gratitude(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.step not in ("thank_you", "post_rejection"):
        return
    if _GRATITUDE.search(message.body):
        return
    if ctx.step == "thank_you":
        detail = f"The thank-you never thanks {ctx.contact.display} for their time."
        rule = "R3"
    else:
        detail = (
            f"The note does not thank {ctx.contact.display} for the opportunity; after a "
            "rejection, one short, polite thank-you is what to send."
        )
        rule = "R9"
    yield Finding("missing_gratitude", rule, WARN, detail)


@_needs_body
def missing_enthusiasm(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    if ctx.step != "thank_you" or _ENTHUSIASM.search(message.body):
        return
    yield Finding(
        "missing_enthusiasm",
        "R3",
        WARN,
        "The thank-you does not say that you are still interested in, or excited about, "
        "the role; add a sentence renewing your interest.",
    )
