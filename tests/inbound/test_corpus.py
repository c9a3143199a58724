"""Every corpus message gets its expected class and the facts read from it."""

from __future__ import annotations

import pytest

from tests.inbound.cases import CASES, CORPUS, Case


def ids(cases: list[Case]) -> list[str]:
    return [c.name.removesuffix(".eml") for c in cases]


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(c.name for c in CASES)


def test_the_corpus_covers_every_kind_but_none_is_missing() -> None:
    assert len(CASES) >= 30
    assert {c.kind for c in CASES} == {
        "bounce",
        "auto_reply",
        "out_of_office",
        "rejected",
        "next_round",
        "offer",
        "decision_date",
        "replied",
    }


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_kind(case: Case) -> None:
    assert case.classify().kind == case.kind


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_until_is_the_last_day_away_only_for_out_of_office(case: Case) -> None:
    assert case.classify().until == case.until


HUMAN = [c for c in CASES if c.kind not in ("bounce", "auto_reply", "out_of_office")]


@pytest.mark.parametrize("case", HUMAN, ids=ids(HUMAN))
def test_decision_date(case: Case) -> None:
    assert case.classify().decision_date == case.decision_date


BOUNCES = [c for c in CASES if c.kind == "bounce"]


@pytest.mark.parametrize("case", BOUNCES, ids=ids(BOUNCES))
@pytest.mark.parametrize("field", ["status", "permanent", "recipient", "original_message_id"])
def test_bounce_field(case: Case, field: str) -> None:
    bounce = case.classify().bounce
    assert bounce is not None
    assert getattr(bounce, field) == case.bounce[field]


NOT_BOUNCES = [c for c in CASES if c.kind != "bounce"]


@pytest.mark.parametrize("case", NOT_BOUNCES, ids=ids(NOT_BOUNCES))
def test_only_a_bounce_carries_a_bounce(case: Case) -> None:
    assert case.classify().bounce is None


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_confidence_and_reason(case: Case) -> None:
    result = case.classify()
    assert 0.0 < result.confidence <= 1.0
    assert result.reason.endswith(".")


@pytest.mark.parametrize("case", HUMAN, ids=ids(HUMAN))
def test_the_text_is_the_reply_without_its_quoted_history(case: Case) -> None:
    text = case.classify().text
    assert "wrote:" not in text
    assert "Original Message" not in text
    assert not any(line.startswith(">") for line in text.splitlines())
    assert "ana.diaz@example.org" not in text  # the candidate's quoted header is gone
