"""Checks on a professional tone (R13).

Emojis and emoticons, exclamation marks, slang, shouting in capitals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from api.preflight.model import BLOCK, WARN, CheckContext, Finding, MessageLike
from api.preflight.text import _full_text, _needs_body, _quote_list, _unique

_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),  # pictographs, emoticons, transport, flags, supplemental symbols
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x231A, 0x231B),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x20E3, 0x20E3),  # keycap
    (0xFE0F, 0xFE0F),  # emoji presentation selector
)
_EMOTICON = re.compile(r"(?<![\w:;=])[:;=][-^']?[)(\]\[DPp](?![\w])|(?<![\w])[xX]D(?![\w])")


# One character class, so a long message is scanned in C rather than char by char.
_EMOJI_CHAR = re.compile(
    "["
    + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in _EMOJI_RANGES)
    + "]"
)
_EMOJI_MODIFIERS = ("\ufe0f", "\u20e3")  # only ever part of another emoji


def _is_emoji(ch: str) -> bool:
    return _EMOJI_CHAR.fullmatch(ch) is not None


@_needs_body
def emoji(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    text = _full_text(message)
    found = _unique(
        m.group(0) for m in _EMOJI_CHAR.finditer(text) if m.group(0) not in _EMOJI_MODIFIERS
    )
    found += _unique(m.group(0) for m in _EMOTICON.finditer(text))
    if found:
        yield Finding(
            "emoji",
            "R13",
            BLOCK,
            f"The message contains {_quote_list(found)}; leave out emojis and emoticons to "
            "keep a professional tone.",
        )


@_needs_body
def exclamation_marks(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    count = _full_text(message).count("!")
    if count > 1:
        yield Finding(
            "exclamation_marks",
            "R13",
            BLOCK,
            f"The message has {count} exclamation marks; use at most one to keep a "
            "professional tone.",
        )


_SLANG_WORDS = (
    "gonna",
    "wanna",
    "gotta",
    "kinda",
    "sorta",
    "lol",
    "lmao",
    "rofl",
    "omg",
    "thx",
    "thnx",
    "tnx",
    "pls",
    "plz",
    "btw",
    "imo",
    "imho",
    "tbh",
    "idk",
    "brb",
    "ttyl",
    "cuz",
    "coz",
    "gr8",
    "l8r",
    "ya",
    "yeah",
    "yep",
    "yup",
    "nope",
    "hey",
    "dude",
    "awesome",
    "xoxo",
)
_SLANG = re.compile(
    r"(?<![\w'\u2019-])(?:" + "|".join(_SLANG_WORDS) + r")(?![\w'\u2019-])", re.IGNORECASE
)
# "u" / "ur" only in lower case, and not in abbreviations like "u.s.".
_SLANG_LOWER = re.compile(r"(?<![\w'\u2019.-])(?:u|ur)(?![\w'\u2019-]|\.\w)")


@_needs_body
def slang(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    text = _full_text(message)
    hits = [m.group(0) for m in _SLANG.finditer(text)]
    hits += [m.group(0) for m in _SLANG_LOWER.finditer(text)]
    found = _unique(h for h in hits)
    if found:
        yield Finding(
            "slang",
            "R13",
            WARN,
            f"The message uses informal language ({_quote_list(found)}); rephrase it in a "
            "professional tone.",
        )


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


@_needs_body
def shouting(message: MessageLike, ctx: CheckContext) -> Iterator[Finding]:
    known = {
        w.lower()
        for w in _WORD.findall(
            " ".join(
                (
                    ctx.contact.name,
                    ctx.contact.company,
                    ctx.candidate_name,
                    ctx.position,
                    *ctx.notes.items(),
                    *ctx.other_companies,
                )
            )
        )
    }
    shouted: list[str] = []
    run: list[str] = []

    def flush() -> None:
        # Shouting: three capitalised words in a row ("THANK YOU SO"), or one
        # long one ("EXCITED"); short acronyms ("AWS", "SQL") are fine.
        if not run:
            return
        letters = sum(len(w) for w in run)
        if (len(run) >= 3 and letters >= 10) or any(len(w) >= 6 for w in run):
            shouted.append(" ".join(run))
        run.clear()

    for line in _full_text(message).split("\n"):
        for word in _WORD.findall(line):
            letters = len(word) if word.isalpha() else sum(c.isalpha() for c in word)
            if letters < 2:
                continue  # "I", "A"
            if word.isupper() and word.lower() not in known and word not in ("TODO", "FIXME"):
                run.append(word)
            else:
                flush()
        flush()
    found = _unique(shouted)
    if found:
        yield Finding(
            "shouting",
            "R13",
            WARN,
            f"Parts of the message are in capital letters ({_quote_list(found)}), which reads "
            "as shouting; write them in normal case.",
        )
