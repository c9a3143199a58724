"""Every corpus message, delivered to the candidate's mailbox on a real Dovecot and read by
the poller, gets the same outcome as through the raw endpoint (corpus/outcomes.toml)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.inbound.poller import MailboxPoller
from api.models import InboundMail, Response
from tests.inbound.corpus_world import (
    CASES,
    deliveries,
    expected_classification,
    expected_outcome,
    expected_response_kind,
    seed,
)


@pytest.mark.parametrize("case", CASES, ids=[c.name.removesuffix(".eml") for c in CASES])
def test_the_corpus_message_read_from_the_mailbox_gets_its_expected_outcome(
    case, app, call, world, factory, db, dovecot, mailbox_user
):
    seeded = seed(case, factory, world.candidate)
    settings = {
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_username": mailbox_user.name,
        "imap_password": mailbox_user.password,
    }
    url = f"/v1/users/{world.candidate.id}/channels/email/settings"
    assert call("put", url, world.tokens["admin"], json=settings).status_code == 200
    for _ in range(deliveries(case)):
        dovecot.append(mailbox_user, seeded.raw)

    report = MailboxPoller(app.extensions["touchbase.sessionmaker"], app.config, "p").poll_due()

    duplicates = deliveries(case) - 1
    wanted = {expected_outcome(case): 1} | ({"duplicate": duplicates} if duplicates else {})
    assert report.outcomes == wanted
    stored = db.scalars(select(InboundMail)).all()
    assert [(m.outcome, m.classification, m.candidate_id) for m in stored] == [
        (expected_outcome(case), expected_classification(case), world.candidate.id)
    ]
    kinds = db.scalars(select(Response.kind)).all()
    response_kind = expected_response_kind(case)
    assert kinds == ([response_kind] if response_kind else [])
