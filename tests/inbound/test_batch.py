"""A batch heard at once (api.inbound.pipeline.receive_many, as the poller hears a fetch)
ends exactly where its messages heard one after another end: the same outcomes, touches,
events, responses, applications and contacts."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from api.inbound.pipeline import NotAMessage, receive, receive_many
from api.models import Application, Contact, InboundMail, Response, Touch, TouchEvent, utcnow
from tests.inbound.conftest import build

THANKS = "Thank you Ana, it was a pleasure to meet you too. We will be in touch.\n"
REJECTION = (
    "Dear Ana,\n\nThank you for your time. Unfortunately we have decided to move forward "
    "with other candidates.\n\nBest,\n"
)
NEXT_ROUND = (
    "Hi Ana,\n\nWe would like to invite you to a second round interview with the team. "
    "Could you share your availability?\n\nBest,\n"
)
DECISION = "Hi Ana,\n\nThanks again. We will let you know by Friday, June 14, 2030.\n"
OFFER = "Hi Ana,\n\nWe are pleased to offer you the position. Details to follow.\n"
AWAY = "I am out of the office until June 20 with limited access to email.\n"


class Mail:
    """Messages from the panel (Dana, Raj), each with its own Message-ID."""

    def __init__(self, scene) -> None:
        self.scene = scene
        self.count = 0
        touches = scene.touches()
        self.thank_you = {
            t["contact_id"]: t["message_id"] for t in touches if t["step"] == "thank_you"
        }

    def _build(self, person, body: str, **headers) -> bytes:
        self.count += 1
        headers.setdefault("From", f"{person.name} <{person.email}>")
        headers.setdefault("In_Reply_To", self.thank_you[person.id])
        headers.setdefault("Date", f"Wed, 5 Jun 2030 09:{self.count:02d}:00 -0400")
        headers.setdefault("Message_ID", f"<batch-{self.count}@mail.acme.example>")
        return build(body, **headers)

    def reply(self, person, body: str = THANKS, **headers) -> bytes:
        return self._build(person, body, **headers)

    def away(self, person) -> bytes:
        return self._build(
            person, AWAY, Subject="Out of Office: Thank you", Auto_Submitted="auto-replied"
        )

    def bounce(self, person) -> bytes:
        return self._build(
            person,
            "I'm sorry to have to inform you that your message could not be delivered.\n\n"
            f"<{person.email}>: host mx.acme.example said: 550 5.1.1 Recipient address "
            "rejected\n",
            From="MAILER-DAEMON@mx.example.com (Mail Delivery System)",
            Subject="Undelivered Mail Returned to Sender",
        )


@pytest.fixture
def mail(panel) -> Mail:
    return Mail(panel)


def end_state(session) -> dict:
    """What the messages changed, without the ids of rows they created (PostgreSQL does
    not give sequence numbers back when a transaction rolls back)."""
    session.flush()
    touches = session.scalars(select(Touch)).all()
    key = {t.id: (t.contact_id, t.application_id, t.round, t.step) for t in touches}
    responses = session.scalars(select(Response)).all()
    return {
        "touches": sorted(
            (*key[t.id], t.channel, t.status, t.scheduled_for, t.approve_by, t.reason, t.rule)
            for t in touches
        ),
        "events": sorted(
            (key[e.touch_id], e.kind, e.rule, e.reason, repr(sorted(e.data.items())))
            for e in session.scalars(select(TouchEvent))
        ),
        "responses": sorted(
            (
                *(r.contact_id, r.application_id, r.round, r.kind, r.until, r.decision_date),
                *(r.occurred_at, r.classified_as, r.confidence, r.text),
            )
            for r in responses
        ),
        "applications": sorted(
            (a.id, a.status, a.decision_expected_on) for a in session.scalars(select(Application))
        ),
        "contacts": sorted(
            (c.id, c.email_undeliverable_at, c.email_undeliverable_reason)
            for c in session.scalars(select(Contact))
        ),
        "inbound": [
            (
                *(m.outcome, m.classification, m.reason, m.contact_id, m.touch_id, m.until),
                m.response_id is not None,
            )
            for m in session.scalars(select(InboundMail).order_by(InboundMail.id))
        ],
    }


def outcome_of(result) -> tuple:
    if isinstance(result, NotAMessage):
        return ("not a message", str(result))
    return (result.outcome, result.classification, result.reason, result.touch_id)


def heard_both_ways(app, org_id: int, raws: list[bytes], now: datetime):
    """(outcomes, end state) heard one after another, then as one batch, each from the
    same start (a savepoint rolled back between them)."""
    with app.extensions["touchbase.sessionmaker"]() as session:
        answers = []
        for batched in (False, True):
            savepoint = session.begin_nested()
            if batched:
                results = receive_many(
                    session, org_id, raws, source="imap", now=now, config=app.config
                )
            else:
                results = []
                for raw in raws:
                    try:
                        results.append(
                            receive(session, org_id, raw, source="imap", now=now, config=app.config)
                        )
                    except NotAMessage as exc:
                        results.append(exc)
            answers.append(([outcome_of(r) for r in results], end_state(session)))
            savepoint.rollback()
        session.rollback()
    return answers


SEQUENCES = {
    "a reply then an out-of-office": lambda m, s: [m.reply(s.dana), m.away(s.dana)],
    "an out-of-office then a reply": lambda m, s: [m.away(s.dana), m.reply(s.dana)],
    "an invitation then a rejection from another": lambda m, s: [
        m.reply(s.dana, NEXT_ROUND),
        m.reply(s.raj, REJECTION),
    ],
    "a rejection then a reply from another": lambda m, s: [
        m.reply(s.raj, REJECTION),
        m.reply(s.dana),
    ],
    "a decision date then an offer": lambda m, s: [
        m.reply(s.dana, DECISION),
        m.reply(s.raj, OFFER),
    ],
    "a bounce between replies": lambda m, s: [
        m.reply(s.dana, NEXT_ROUND),
        m.bounce(s.raj),
        m.reply(s.raj),
    ],
    "the same message twice": lambda m, s: [m.reply(s.dana)] * 2,
    "a reply by address after one by thread": lambda m, s: [
        m.away(s.raj),
        m.reply(s.dana, In_Reply_To=None),
    ],
    # the later ones of one person are re-planned from the facts the batch carries, with
    # the earlier ones' responses and notes in them
    "an invitation then a rejection from the same person": lambda m, s: [
        m.reply(s.dana, NEXT_ROUND),
        m.reply(s.dana, REJECTION),
    ],
    "a rejection then an invitation from the same person": lambda m, s: [
        m.reply(s.raj, REJECTION),
        m.reply(s.raj, NEXT_ROUND),
    ],
    "an out-of-office, an invitation, then a reply from the same person": lambda m, s: [
        m.away(s.dana),
        m.reply(s.dana, NEXT_ROUND),
        m.reply(s.dana),
    ],
    "a message that is none among them": lambda m, s: [
        m.reply(s.dana),
        b"just some words, no headers\n",
        m.reply(s.raj, REJECTION),
    ],
}


@pytest.mark.parametrize("sequence", SEQUENCES, ids=list(SEQUENCES))
def test_a_batch_ends_where_its_messages_heard_one_after_another_end(mail, app, sequence):
    raws = SEQUENCES[sequence](mail, mail.scene)

    (one_by_one, alone), (batch, together) = heard_both_ways(
        app, mail.scene.candidate.org_id, raws, utcnow()
    )

    assert batch == one_by_one
    assert together == alone


def test_many_replies_in_a_batch_record_every_response(mail, app, count):
    scene = mail.scene
    raws = [mail.reply(scene.dana), mail.reply(scene.raj, REJECTION), mail.away(scene.dana)]

    with app.extensions["touchbase.sessionmaker"]() as session:
        results = receive_many(
            session, scene.candidate.org_id, raws, source="imap", now=utcnow(), config=app.config
        )
        session.commit()

    assert [r.outcome for r in results] == ["recorded"] * 3
    assert count(Response) == 3
    assert count(InboundMail) == 3


def test_the_same_message_twice_in_a_batch_is_one_response(mail, app, count):
    raw = mail.reply(mail.scene.dana)

    with app.extensions["touchbase.sessionmaker"]() as session:
        results = receive_many(
            session,
            mail.scene.candidate.org_id,
            [raw, raw],
            source="imap",
            now=utcnow(),
            config=app.config,
        )
        session.commit()

    assert [r.outcome for r in results] == ["recorded", "duplicate"]
    assert count(Response) == 1


def test_a_message_heard_in_an_earlier_batch_is_a_duplicate(mail, app, count):
    raw = mail.reply(mail.scene.dana)
    org_id = mail.scene.candidate.org_id
    make_session = app.extensions["touchbase.sessionmaker"]
    with make_session() as session:
        receive_many(session, org_id, [raw], source="imap", now=utcnow(), config=app.config)
        session.commit()

    with make_session() as session:
        results = receive_many(
            session,
            org_id,
            [mail.reply(mail.scene.raj), raw],
            source="imap",
            now=utcnow(),
            config=app.config,
        )
        session.commit()

    assert [r.outcome for r in results] == ["recorded", "duplicate"]
    assert count(Response) == 2
