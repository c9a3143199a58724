"""The email channel's session: one SMTP connection for a batch, against a real server."""

from __future__ import annotations

import dataclasses

import pytest

from channels import RetryLater, Sent, Unknown, make_message_id
from channels.email import EmailChannel
from channels.testing_peers import SmtpPeer

channel = EmailChannel()


@pytest.fixture
def batch(email_message):
    """Three messages, each with its own Message-ID."""
    return [
        dataclasses.replace(email_message, touch_id=n, message_id=make_message_id("t.test"))
        for n in range(1, 4)
    ]


@pytest.fixture
def session():
    opened = channel.open_session()
    yield opened
    opened.close()


def send_all(session, messages, raw_settings):
    settings = channel.load_settings(raw_settings)
    return [session.send(message, settings) for message in messages]


def received(peer) -> list[str]:
    return [mail.message["Message-ID"] for mail in peer.messages]


def test_a_batch_goes_over_one_connection_with_rset_between_messages(smtp_peer, session, batch):
    results = send_all(session, batch, smtp_peer.settings())

    assert all(isinstance(r, Sent) for r in results)
    assert [mail.connection for mail in smtp_peer.messages] == [1, 1, 1]
    assert smtp_peer.rsets == 2
    assert session.connections == 1


def test_a_connection_the_server_dropped_between_messages_is_replaced(smtp_peer, session, batch):
    smtp_peer.drop_at_next_rset()

    results = send_all(session, batch, smtp_peer.settings())

    assert all(isinstance(r, Sent) for r in results)
    assert [mail.connection for mail in smtp_peer.messages] == [1, 2, 2]
    assert received(smtp_peer) == [m.message_id for m in batch]  # each once


def test_a_reply_lost_on_a_reused_connection_is_unknown_and_never_sent_again(
    smtp_peer, session, batch
):
    send_all(session, batch[:1], smtp_peer.settings())
    smtp_peer.drop_next()  # the second message is received, its reply never comes

    second, third = send_all(session, batch[1:], smtp_peer.settings())

    assert isinstance(second, Unknown)
    assert isinstance(third, Sent)
    assert received(smtp_peer) == [m.message_id for m in batch]  # the second once only
    assert [mail.connection for mail in smtp_peer.messages] == [1, 1, 2]


def test_a_refusal_leaves_the_connection_usable_for_the_next_message(smtp_peer, session, batch):
    smtp_peer.reply_next("451 4.3.0 Try again later", stage="rcpt")

    first, second, third = send_all(session, batch, smtp_peer.settings())

    assert isinstance(first, RetryLater)
    assert isinstance(second, Sent) and isinstance(third, Sent)
    assert session.connections == 1


def test_each_smtp_server_gets_a_connection_of_its_own(smtp_peer, session, batch):
    with SmtpPeer() as other:
        send_all(session, batch[:1], smtp_peer.settings())
        send_all(session, batch[1:2], other.settings())
        send_all(session, batch[2:], smtp_peer.settings())

        assert [mail.connection for mail in smtp_peer.messages] == [1, 1]
        assert [mail.connection for mail in other.messages] == [1]
    assert session.connections == 2


def test_a_server_gone_for_good_is_a_retry_later(smtp_peer, session, batch):
    settings = smtp_peer.settings()
    send_all(session, batch[:1], settings)
    smtp_peer.stop()

    [result] = send_all(session, batch[1:2], settings)

    assert isinstance(result, RetryLater)
