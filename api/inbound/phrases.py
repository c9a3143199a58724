"""The classifier's words, loaded from `phrases/<language>.toml`.

Phrases live in data, not code, so that a second language is a new TOML file and no
code change. This module turns one file into compiled, case-insensitive, whole-word
patterns (longest phrase first, so "back in the office on" wins over "back").

Class phrases (rejected, offer, next round, decision cues, negations, out-of-office
words) may use two small devices, so that one line covers the ways people phrase a
thing without the data growing into thousands of lines:
  (a|b|c)  any one of the alternatives ("(role|position) has been filled"); an empty
           alternative makes a word optional ("(quite |)the right fit");
  ...      a gap of up to GAP_WORDS words within one sentence ("went with ... candidate").
Bounce and date words are plain literals.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PHRASES_DIR = Path(__file__).with_name("phrases")


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces: the form every phrase is matched on."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip().lower()


def alternation(words: list[str]) -> str:
    """A regex alternation of `words` (longest first), each allowing any whitespace inside."""
    parts = sorted({normalise(w) for w in words if w.strip()}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(p) for p in w.split(" ")) for w in parts)


GAP_WORDS = 4
_GAP = rf"(?:[^\s.!?;]+\s+){{0,{GAP_WORDS}}}?"
_TOKEN = re.compile(r"\.\.\.\s*|[()|]|\s+|[^\s()|.]+|\.")


def _phrase_regex(phrase: str) -> str:
    """The regex of one phrase written with (a|b) alternatives and ... gaps."""
    if re.search(r"(?:^|[(|])'", normalise(phrase)):
        # "(have|'ve)" can never match: the "'ve" of "we've" follows a letter, so no
        # whole word starts there. Write the whole contraction ("we've").
        raise ValueError(f"an alternative starts with an apostrophe in {phrase!r}")
    out: list[str] = []
    for token in _TOKEN.findall(normalise(phrase)):
        if token.startswith("..."):
            out.append(_GAP)
        elif token == "(":
            out.append("(?:")
        elif token in (")", "|"):
            out.append(token)
        elif token.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(token))
    regex = "".join(out)
    re.compile(regex)  # a malformed phrase fails when the file is loaded, naming itself
    return regex


def phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive pattern of class phrases (None when empty)."""
    parts = sorted({normalise(p) for p in phrases if p.strip()}, key=len, reverse=True)
    if not parts:
        return None
    try:
        body = "|".join(_phrase_regex(p) for p in parts)
    except re.error as error:
        raise ValueError(f"a malformed phrase in {parts}: {error}") from error
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def word_pattern(words: list[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive pattern matching any of `words` (None when empty)."""
    if not words:
        return None
    return re.compile(rf"(?<!\w)(?:{alternation(words)})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class ClassPhrases:
    """Strong phrases decide a class alone; two distinct weak ones decide it less surely."""

    strong: re.Pattern[str] | None
    weak: re.Pattern[str] | None


@dataclass(frozen=True, eq=False)
class DateWords:
    """What dates.py needs to read dates written in one language (hashed by identity)."""

    numeric_order: str
    months: dict[str, int]
    weekdays: dict[str, int]
    ordinal_suffixes: list[str]
    the: list[str]
    of: list[str]
    next: list[str]
    relative: dict[str, str]
    month_parts: dict[str, int]
    duration_leads: list[str]
    duration_numbers: dict[str, int]
    duration_units: dict[str, str]


@dataclass(frozen=True)
class Phrases:
    language: str
    rejected: ClassPhrases
    offer: ClassPhrases
    next_round: ClassPhrases
    decision_cues: re.Pattern[str] | None
    decision_asks: re.Pattern[str] | None
    negations: re.Pattern[str] | None
    auto_reply_subjects: list[str]
    out_of_office: re.Pattern[str] | None
    back_cues: list[str]
    until_cues: list[str]
    cue_fillers: list[str]
    bounce_subjects: list[str]
    bounce_senders: list[str]
    bounce_body: re.Pattern[str] | None
    bounce_transient: re.Pattern[str] | None
    dates: DateWords


def _class(data: dict) -> ClassPhrases:
    return ClassPhrases(
        phrase_pattern(data.get("strong", [])), phrase_pattern(data.get("weak", []))
    )


def _numbered(groups: list[list[str]], start: int) -> dict[str, int]:
    return {normalise(name): i for i, names in enumerate(groups, start) for name in names}


@cache
def load(language: str = "en") -> Phrases:
    """The phrases of `language` (a file name under phrases/), read once per process."""
    data = tomllib.loads((PHRASES_DIR / f"{language}.toml").read_text(encoding="utf-8"))
    auto, bounce, dates = data["auto_reply"], data["bounce"], data["dates"]
    durations = dates.get("durations", {})
    return Phrases(
        language=language,
        rejected=_class(data["rejected"]),
        offer=_class(data["offer"]),
        next_round=_class(data["next_round"]),
        decision_cues=phrase_pattern(data["decision_date"]["cues"]),
        decision_asks=phrase_pattern(data["decision_date"].get("asks", [])),
        negations=phrase_pattern(data.get("negation", {}).get("before", [])),
        auto_reply_subjects=[normalise(s) for s in auto["subjects"]],
        out_of_office=phrase_pattern(auto["out_of_office"]),
        back_cues=auto["back_cues"],
        until_cues=auto["until_cues"],
        cue_fillers=auto.get("cue_fillers", []),
        bounce_subjects=[normalise(s) for s in bounce["subjects"]],
        bounce_senders=[normalise(s) for s in bounce["senders"]],
        bounce_body=word_pattern(bounce["body"]),
        bounce_transient=word_pattern(bounce["transient"]),
        dates=DateWords(
            numeric_order=dates["numeric_order"],
            months=_numbered(dates["months"], 1),
            weekdays=_numbered(dates["weekdays"], 0),
            ordinal_suffixes=dates["ordinal_suffixes"],
            the=dates["the"],
            of=dates["of"],
            next=dates["next"],
            relative={normalise(k): v for k, v in dates["relative"].items()},
            month_parts={normalise(k): v for k, v in dates.get("month_parts", {}).items()},
            duration_leads=durations.get("leads", []),
            duration_numbers={normalise(k): v for k, v in durations.get("numbers", {}).items()},
            duration_units={normalise(k): v for k, v in durations.get("units", {}).items()},
        ),
    )
