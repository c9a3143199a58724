"""Every corpus message, posted to POST /v1/inbound/email in a world seeded from it, gets
its expected outcome and records what it says (corpus/outcomes.toml)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.models import InboundMail, Response
from tests.inbound.corpus_world import (
    CASES,
    deliveries,
    expected_classification,
    expected_outcome,
    expected_response_kind,
    seed,
)


def post(call, token, raw: bytes):
    return call(
        "post",
        "/v1/inbound/email",
        token,
        data=raw,
        headers={"Content-Type": "message/rfc822"},
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name.removesuffix(".eml") for c in CASES])
def test_the_corpus_message_gets_its_expected_outcome(case, call, world, factory, db):
    seeded = seed(case, factory, world.candidate)
    answers = [post(call, world.tokens["admin"], seeded.raw) for _ in range(deliveries(case))]

    assert [a.status_code for a in answers] == [202] * len(answers)
    outcomes = [a.get_json()["outcome"] for a in answers]
    assert outcomes == [expected_outcome(case)] + ["duplicate"] * (len(answers) - 1)
    stored = db.scalars(select(InboundMail)).all()
    assert [(m.outcome, m.classification) for m in stored] == [
        (outcomes[0], expected_classification(case))
    ]
    kinds = db.scalars(select(Response.kind)).all()
    wanted = expected_response_kind(case)
    assert kinds == ([wanted] if wanted else [])
