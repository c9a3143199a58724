"""Checks that the note was written for this recipient (R1).

``wrong_person`` (the greeting or the text names another of the candidate's
contacts) and ``wrong_company`` (the text names another application's company):
the mistakes of a note copied from another one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence

from api.preflight.greeting import _GENERIC_WORDS, _NameGroup, _parse_greeting
from api.preflight.model import (
    BLOCK,
    WARN,
    CheckContext,
    ContactInfo,
    Finding,
    MessageLike,
    _name_parts,
)
from api.preflight.text import _bounded, _full_text, _needs_body, _unique


def _company_tokens(*companies: str) -> set[str]:
    out: set[str] = set()
    for company in companies:
        out.update(w.lower() for w in re.findall(r"[\w&]+", company))
    return out


def _nickname_of(token: str, first_name: str) -> bool:
    """A short form of the first name: "Dan" for "Dana" or "Daniel"."""
    first = first_name.lower()
    if len(token) < 3 or len(first) < 3:
        return False
    return first.startswith(token) or token.startswith(first)


def _matches_contact(group: _NameGroup, contact: ContactInfo) -> bool:
    own = contact.tokens()
    if all(t in own for t in group.tokens):
        return True
    if group.titled and not contact.last_name and len(group.tokens) == 1:
        return True  # "Dear Ms. Jones" to a contact known only as "Dana": cannot tell
    return len(group.tokens) == 1 and _nickname_of(group.tokens[0], contact.first_name)


def _other_contact_for(group: _NameGroup, others: Sequence[str]) -> str | None:
    for other in others:
        tokens = ContactInfo(name=other).tokens()
        if all(t in tokens for t in group.tokens):
            return other
    return None


# First names that are also ordinary words: too ambiguous to flag on their own.
_WORDLIKE_NAMES = frozenset(
    {
        "will",
        "may",
        "june",
        "april",
        "august",
        "mark",
        "bill",
        "grace",
        "hope",
        "joy",
        "faith",
        "rose",
        "summer",
        "dawn",
        "art",
        "pat",
        "rob",
        "frank",
        "jack",
        "guy",
        "chase",
        "hunter",
        "page",
        "sky",
        "rich",
        "max",
        "drew",
        "miles",
        "ray",
        "ivy",
        "iris",
        "holly",
        "amber",
        "ruby",
        "pearl",
        "crystal",
        "angel",
        "charity",
        "honor",
        "justice",
        "earl",
        "carol",
        "eve",
        "jean",
        "lance",
        "penny",
        "sandy",
        "sage",
        "victor",
        "young",
        "white",
        "black",
        "brown",
        "green",
        "long",
        "king",
        "bishop",
        "baker",
        "cook",
        "wood",
    }
)


def _person_patterns(other: str, ctx: CheckContext) -> tuple[re.Pattern[str], ...]:
    contact = ctx.contact
    return _patterns_for(
        other,
        contact.last_name.lower(),
        frozenset(contact.tokens()),
        ContactInfo(name=ctx.candidate_name).first_name.lower(),
        frozenset(_company_tokens(contact.company)),
    )


@functools.lru_cache(maxsize=4096)
def _patterns_for(
    other: str,
    contact_last: str,
    contact_tokens: frozenset[str],
    candidate_first: str,
    company_tokens: frozenset[str],
) -> tuple[re.Pattern[str], ...]:
    """Cached: the worker checks every note of a panel against the same few contacts."""
    person = ContactInfo(name=other)
    parts = _name_parts(other)
    patterns = [_bounded(" ".join(parts), re.IGNORECASE)] if len(parts) > 1 else []
    last = person.last_name
    if last and last.lower() != contact_last and last.lower() not in _WORDLIKE_NAMES:
        patterns.append(
            re.compile(
                r"(?<![\w])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+" + re.escape(last) + r"(?![\w])",
                re.IGNORECASE,
            )
        )
    first = person.first_name
    if (
        first
        and len(first) >= 3
        and first.lower() not in contact_tokens
        and first.lower() != candidate_first
        and first.lower() not in _WORDLIKE_NAMES
        and first.lower() not in company_tokens
    ):
        patterns.append(_bounded(first))  # case-sensitive: a name is capitalised
    return tuple(patterns)


@_needs_body
def wrong_person(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    contact = ctx.contact
    if not contact.name:
        return
    greeting = _parse_greeting(message.body)
    company_words = _company_tokens(contact.company, *ctx.other_companies)
    if greeting:
        for group in greeting.groups:
            if all(t in _GENERIC_WORDS or t in company_words for t in group.tokens):
                continue  # "Dear Hiring Manager", "Hi Initech team": not a person
            if _matches_contact(group, contact):
                continue
            other = _other_contact_for(group, ctx.other_contacts)
            who = (
                f" ({other}, another of your contacts)" if other and other != group.display else ""
            )
            yield Finding(
                "wrong_person",
                "R1",
                BLOCK,
                f'The greeting names "{group.display}"{who} but this note goes to {contact.name}.',
            )

    lines = message.body.split("\n")
    if greeting:
        lines = lines[greeting.line_index + 1 :]
    text = "\n".join([message.subject, *lines])
    own_full = " ".join(_name_parts(contact.name)).lower()
    lowered = text.lower()
    for other in _unique(ctx.other_contacts):
        parts = _name_parts(other)
        if not any(part.lower() in lowered for part in parts):
            continue  # every pattern needs one of the names: most contacts stop here
        if " ".join(parts).lower() in (own_full, ""):
            continue
        if ctx.candidate_name and other.lower() == ctx.candidate_name.lower():
            continue
        for pattern in _person_patterns(other, ctx):
            match = pattern.search(text)
            if match:
                mention = match.group(0)
                like = "" if mention.lower() == other.lower() else f", which looks like {other}"
                yield Finding(
                    "wrong_person",
                    "R1",
                    WARN,
                    f'The message mentions "{mention}"{like}, another of your contacts, but it '
                    f"goes to {contact.name}. Make sure it was written for {contact.name} and "
                    "not copied from another note.",
                )
                break


_LEGAL_SUFFIX = re.compile(
    r"[\s,]+(?:inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|"
    r"s\.a|bv|b\.v|plc|pty|srl|sas|oy|ab|as|kg|nv|n\.v|llp|lp)\.?$",
    re.IGNORECASE,
)


def _company_variants(name: str) -> list[str]:
    name = " ".join(name.split())
    variants = [name]
    stripped = _LEGAL_SUFFIX.sub("", name).strip()
    if stripped and stripped != name and len(stripped) >= 2:
        variants.append(stripped)
    return variants


def _company_pattern(variant: str) -> re.Pattern[str]:
    # A single capitalised word ("Target", "Apple", "Square") is matched
    # case-sensitively so the ordinary word ("target", "apple") does not count.
    single_word = re.fullmatch(r"[A-Z][a-z]+", variant) is not None
    return _bounded(variant, 0 if single_word else re.IGNORECASE)


@_needs_body
def wrong_company(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    own = ctx.contact.company
    own_variants = {v.lower() for v in _company_variants(own)} if own else set()
    text = _full_text(message)
    # Blank out what legitimately belongs to this touch first: "Acme" must not
    # be found inside "Acme Robotics" when Acme Robotics is the right company,
    # nor inside the position title or the notes on this interviewer.
    legit = [*own_variants, ctx.position, *ctx.notes.items()]
    for phrase in sorted((p for p in legit if p.strip()), key=len, reverse=True):
        text = _bounded(phrase, re.IGNORECASE).sub(" ", text)
    for other in _unique(ctx.other_companies):
        variants = _company_variants(other)
        if own_variants & {v.lower() for v in variants}:
            continue
        for variant in variants:
            match = _company_pattern(variant).search(text)
            if match:
                target = f"{ctx.contact.name} at {own}" if own else ctx.contact.display
                yield Finding(
                    "wrong_company",
                    "R1",
                    BLOCK,
                    f'The message mentions "{match.group(0)}", the company of another of your '
                    f"applications, but this note goes to {target}.",
                )
                break
