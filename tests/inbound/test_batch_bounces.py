"""A permanent bounce in a batch changes nothing outside its touch's candidate, so it is
held while the run of other candidates' responses grows, and acted on before the next
message of its own candidate (api.inbound.pipeline): the batch still ends exactly where
its messages heard one after another end."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from email.utils import format_datetime

import pytest

import api.inbound.pipeline as pipeline
from api.inbound.pipeline import receive_many
from api.models import utcnow
from tests.inbound.conftest import build
from tests.inbound.seeding import seed_org
from tests.inbound.test_batch import NEXT_ROUND, REJECTION, THANKS, heard_both_ways


@pytest.fixture
def office(app):
    """Four candidates with two planned interviews each, every thank-you sent."""
    return seed_org(app, 8, planned=8)


class Letters:
    """Messages to or about the office's contacts: ``people[c][k]`` is the k-th contact
    of the c-th candidate."""

    def __init__(self, office) -> None:
        by_candidate = defaultdict(list)
        for contact in office.contacts:
            by_candidate[contact.candidate_email].append(contact)
        self.people = list(by_candidate.values())
        self.count = 0
        self.start = utcnow() - timedelta(hours=1)

    def _headers(self, **headers) -> dict:
        self.count += 1
        headers.setdefault("Date", format_datetime(self.start + timedelta(minutes=self.count)))
        headers.setdefault("Message_ID", f"<bounces-{self.count}@mail.example>")
        return headers

    def reply(self, c: int, k: int, body: str = THANKS) -> bytes:
        who = self.people[c][k]
        return build(
            body,
            **self._headers(
                From=f"{who.name} <{who.email}>",
                To=who.candidate_email,
                In_Reply_To=who.thank_you_id,
            ),
        )

    def bounce(self, c: int, k: int, code: str = "550 5.1.1 Recipient address rejected"):
        who = self.people[c][k]
        return build(
            "I'm sorry to have to inform you that your message could not be delivered.\n\n"
            f"<{who.email}>: host mx.example said: {code}\n",
            **self._headers(
                From="MAILER-DAEMON@mx.example.com (Mail Delivery System)",
                To=who.candidate_email,
                Subject="Undelivered Mail Returned to Sender",
                In_Reply_To=who.thank_you_id,
            ),
        )

    def soft_bounce(self, c: int, k: int) -> bytes:
        return self.bounce(c, k, "452 4.2.2 Mailbox full, try again later")


@pytest.fixture
def letters(office) -> Letters:
    return Letters(office)


SEQUENCES = {
    "a bounce, another candidate's reply, then one from the bounced contact": lambda m: [
        m.bounce(0, 0),
        m.reply(1, 0, NEXT_ROUND),
        m.reply(0, 0),
    ],
    "a bounce, then a rejection from its candidate's other interviewer": lambda m: [
        m.reply(1, 0),
        m.bounce(0, 0),
        m.reply(2, 1, REJECTION),
        m.reply(0, 1, REJECTION),
    ],
    "bounces of two candidates among their replies": lambda m: [
        m.reply(0, 1, NEXT_ROUND),
        m.bounce(0, 0),
        m.bounce(1, 1),
        m.reply(2, 0),
        m.reply(1, 0, REJECTION),
        m.reply(3, 0, NEXT_ROUND),
    ],
    "a bounce, then a soft bounce of the same touch": lambda m: [
        m.bounce(0, 0),
        m.reply(1, 0),
        m.soft_bounce(0, 0),
        m.reply(0, 1),
    ],
    "bounces of one candidate's two interviewers, held together": lambda m: [
        m.reply(1, 0),
        m.bounce(0, 1),
        m.reply(2, 0, REJECTION),
        m.bounce(0, 2),  # on the same panel as (0, 1)
        m.reply(3, 0),
    ],
    "bounces of every candidate, held together": lambda m: [
        *(m.bounce(c, 0) for c in range(4)),
        m.reply(1, 1, NEXT_ROUND),
        *(m.bounce(c, 1) for c in range(4)),
    ],
    "the same address bounced twice": lambda m: [
        m.bounce(2, 0),
        m.reply(3, 1, REJECTION),
        m.bounce(2, 0),
    ],
}


@pytest.mark.parametrize("sequence", SEQUENCES, ids=list(SEQUENCES))
def test_a_batch_with_bounces_ends_where_its_messages_heard_one_after_another_end(
    app, office, letters, sequence
):
    raws = SEQUENCES[sequence](letters)

    (one_by_one, alone), (batch, together) = heard_both_ways(app, office.org_id, raws, utcnow())

    assert batch == one_by_one
    assert together == alone
    assert any(r[0] == "recorded" and "bounce" in r[2] for r in batch)  # bounces acted on


def runs_recorded(app, office, raws, monkeypatch) -> list[int]:
    """The sizes of the runs of responses the batch recorded together."""
    sizes = []

    def spy(session, heard, *args, **kwargs):
        sizes.append(len(heard))
        return record_many(session, heard, *args, **kwargs)

    record_many = pipeline.record_many
    monkeypatch.setattr(pipeline, "record_many", spy)
    with app.extensions["touchbase.sessionmaker"]() as session:
        receive_many(session, office.org_id, raws, source="imap", now=utcnow(), config=app.config)
        session.rollback()
    return sizes


def test_a_bounce_does_not_cut_the_run_of_other_candidates_responses(
    app, office, letters, monkeypatch
):
    raws = [letters.reply(1, 0), letters.bounce(0, 0), letters.reply(2, 0), letters.reply(3, 1)]

    assert runs_recorded(app, office, raws, monkeypatch) == [3]


def test_a_response_of_the_bounced_candidate_is_recorded_after_the_bounce(
    app, office, letters, monkeypatch
):
    raws = [letters.reply(1, 0), letters.bounce(0, 0), letters.reply(2, 0), letters.reply(0, 1)]

    assert runs_recorded(app, office, raws, monkeypatch) == [2, 1]
