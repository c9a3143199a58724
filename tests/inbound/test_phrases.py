"""The small phrase syntax of phrases/<lang>.toml: (a|b) alternatives and ... gaps."""

from __future__ import annotations

import pytest

from api.inbound.phrases import GAP_WORDS, phrase_pattern


def matches(phrase: str, text: str) -> bool:
    pattern = phrase_pattern([phrase])
    assert pattern is not None
    return pattern.search(text) is not None


def test_an_alternative_matches_any_of_its_words() -> None:
    assert matches("(role|position) has been filled", "the position has been filled")
    assert matches("(role|position) has been filled", "the role has been filled")
    assert not matches("(role|position) has been filled", "the job has been filled")


def test_an_empty_alternative_makes_words_optional() -> None:
    assert matches("not (quite |)the right fit", "not quite the right fit")
    assert matches("not (quite |)the right fit", "not the right fit")


def test_a_gap_skips_a_few_words() -> None:
    assert matches("went with ... candidate", "we went with a more senior candidate")
    assert matches("went with ... candidate", "we went with another candidate")


def test_a_gap_has_a_limit() -> None:
    words = " ".join(["very"] * (GAP_WORDS + 1))
    assert not matches("went with ... candidate", f"we went with a {words} candidate")


def test_a_gap_stays_inside_one_sentence() -> None:
    assert not matches("went with ... candidate", "we went with it. candidate two next")


def test_phrases_match_whole_words_only() -> None:
    assert not matches("onsite", "nonsite")


def test_a_phrase_with_unbalanced_brackets_fails_when_loaded() -> None:
    with pytest.raises(ValueError, match="malformed"):
        phrase_pattern(["(role|position has been filled"])


def test_an_alternative_starting_with_an_apostrophe_fails_when_loaded() -> None:
    # "(have|'ve)" would never match "we've": the word starts at "we".
    with pytest.raises(ValueError, match="apostrophe"):
        phrase_pattern(["(have|'ve) filled the role"])
