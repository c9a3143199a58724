"""Internationalised addresses, which the API accepts, go out: with SMTPUTF8 to a server
that offers it, and as they are into the outbox."""

from __future__ import annotations

import dataclasses

from channels.base import Failed, Sent
from channels.email import EmailChannel, check_email_address
from channels.testing_peers import SmtpPeer

channel = EmailChannel()


def test_a_non_ascii_local_part_is_an_address_the_channel_takes():
    assert check_email_address("dänä@example.org") is None


def test_a_non_ascii_local_part_goes_with_smtputf8(smtp_peer, email_message):
    message = dataclasses.replace(email_message, to_address="dänä@example.org")

    result = channel.send(message, channel.load_settings(smtp_peer.settings()))

    assert isinstance(result, Sent), result
    mail = smtp_peer.messages[0]
    assert mail.rcpt_tos == ["dänä@example.org"]
    assert mail.message["To"] == "Dana Jones <dänä@example.org>"


def test_a_non_ascii_address_is_written_to_the_outbox_as_it_is(tmp_path, email_message):
    message = dataclasses.replace(email_message, to_address="dänä@example.org")

    result = channel.send(message, channel.load_settings({"outbox_dir": str(tmp_path)}))

    assert isinstance(result, Sent), result
    written = next(tmp_path.glob("*.eml")).read_bytes()
    assert "To: Dana Jones <dänä@example.org>".encode() in written


def test_a_server_without_smtputf8_fails_it_saying_so(email_message):
    message = dataclasses.replace(email_message, to_address="dänä@example.org")

    with SmtpPeer(smtputf8=False) as peer:
        result = channel.send(message, channel.load_settings(peer.settings()))

    assert isinstance(result, Failed)
    assert result.code == "smtp:smtputf8_unsupported"
    assert peer.messages == []


def test_a_special_use_domain_is_refused_before_connecting(smtp_peer, email_message):
    message = dataclasses.replace(email_message, to_address="dana@localhost")

    result = channel.send(message, channel.load_settings(smtp_peer.settings()))

    assert result.code == "invalid_address"
    assert smtp_peer.messages == []
