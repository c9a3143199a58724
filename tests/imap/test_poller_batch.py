"""The poller hears each fetched batch at once, in one transaction with the cursor past
it: a batch whose commit fails leaves nothing heard and the cursor where it was, and a
message that breaks the pipeline is skipped without jamming the rest of its batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

import api.inbound.pipeline as pipeline
from api.models import InboundMail, Mailbox, Response
from tests.imap.test_poller import reply

REJECTION = (
    "Dear Ana,\n\nThank you for your time. Unfortunately we have decided to move forward "
    "with other candidates.\n"
)


def backlog(inbox, *bodies: str) -> None:
    inbox.dovecot.append_many(
        inbox.user,
        [
            reply(inbox, body, Message_ID=f"<batch-{n}@mail.acme.example>")
            for n, body in enumerate(bodies)
        ],
    )


def test_a_fetched_batch_is_heard_whole(inbox, count):
    backlog(inbox, "Thanks, Ana!\n", REJECTION, "One more thing: thanks.\n")

    report = inbox.poll()

    assert (report.heard, report.outcomes) == (3, {"recorded": 3})
    assert count(Response) == 3
    assert inbox.mailbox().heard == 3


@pytest.fixture
def broken_by_poison(monkeypatch):
    """A classifier bug that only one message triggers (what no real peer can make)."""
    real = pipeline.classify

    def classify(msg, **kwargs):
        if "POISON" in msg.get_body().get_content():
            raise RuntimeError("a bug this message triggers")
        return real(msg, **kwargs)

    monkeypatch.setattr(pipeline, "classify", classify)


def test_a_message_that_breaks_the_pipeline_is_skipped_and_its_batch_heard(
    inbox, count, broken_by_poison
):
    backlog(inbox, "Thanks, Ana!\n", "POISON\n", REJECTION)

    report = inbox.poll()

    assert report.outcomes == {"recorded": 2, "error": 1}
    assert count(Response) == 2
    assert inbox.poll().heard == 0  # the cursor is past all three


@pytest.fixture
def failing_commit():
    """The database refuses the first commit of a transaction that recorded responses."""
    failed: list[bool] = []

    def note(session: Session, _context) -> None:
        if any(isinstance(o, Response) for o in session.new):
            session.info["recorded responses"] = True

    def refuse(session: Session) -> None:
        if session.in_nested_transaction() or failed:
            return
        if session.info.pop("recorded responses", False):
            failed.append(True)
            raise RuntimeError("the database went away")

    event.listen(Session, "after_flush", note)
    event.listen(Session, "before_commit", refuse)
    yield failed
    event.remove(Session, "before_commit", refuse)
    event.remove(Session, "after_flush", note)


def test_a_batch_whose_commit_fails_is_heard_again_whole_and_once(inbox, count, failing_commit):
    backlog(inbox, "Thanks, Ana!\n", REJECTION, "One more thing: thanks.\n")
    cursor = inbox.mailbox().cursor

    assert inbox.poll().heard == 0  # the failure is logged; the lease lapses
    assert failing_commit == [True]
    assert (count(InboundMail), inbox.mailbox().cursor) == (0, cursor)

    with inbox.app.extensions["touchbase.engine"].begin() as conn:
        conn.execute(update(Mailbox).values(lease_expires_at=inbox.scene.clock() - timedelta(1)))
    report = inbox.poll("poller-b")

    assert report.outcomes == {"recorded": 3}
    assert (count(InboundMail), count(Response)) == (3, 3)
    assert inbox.mailbox().heard == 3
