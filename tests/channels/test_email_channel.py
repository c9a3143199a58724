"""The email channel against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import dataclasses

import pytest
from marshmallow import ValidationError

from channels import Failed, RetryLater, Sent, Unknown, make_message_id
from channels.email import EmailChannel, reply_subject
from channels.testing_peers import SmtpPeer, free_port

channel = EmailChannel()


def send(message, raw_settings):
    return channel.send(message, channel.load_settings(raw_settings))


# --------------------------------------------------------------------------- delivery


def test_a_message_reaches_the_server_from_the_candidate_to_the_contact(smtp_peer, email_message):
    result = send(email_message, smtp_peer.settings())

    assert isinstance(result, Sent)
    [mail] = smtp_peer.messages
    assert mail.mail_from == "alex.doe@example.org"
    assert mail.rcpt_tos == ["dana.jones@example.com"]
    received = mail.message
    assert received["From"] == "Alex Doe <alex.doe@example.org>"
    assert received["To"] == "Dana Jones <dana.jones@example.com>"
    assert received["Reply-To"] == "alex.doe@example.org"
    assert received["Subject"] == "Thank you for the Data Analyst interview"
    assert received.get_content().startswith("Dear Ms. Jones,")


def test_the_provider_id_is_the_message_id(smtp_peer, email_message):
    result = send(email_message, smtp_peer.settings())

    assert result.provider_id == email_message.message_id
    assert smtp_peer.messages[0].message["Message-ID"] == email_message.message_id


def test_a_retry_sends_the_same_message_id(smtp_peer, email_message):
    smtp_peer.reply_next("451 4.3.0 Try again later")
    first = send(email_message, smtp_peer.settings())
    second = send(email_message, smtp_peer.settings())

    assert isinstance(first, RetryLater) and isinstance(second, Sent)
    ids = {m.message["Message-ID"] for m in smtp_peer.refused + smtp_peer.messages}
    assert ids == {email_message.message_id}


def test_a_follow_up_is_threaded_onto_the_thank_you_note(smtp_peer, email_message):
    thank_you_id = make_message_id("touchbase.test")
    follow_up = dataclasses.replace(
        email_message,
        step="follow_up",
        subject="Thank you for the Data Analyst interview",
        message_id=make_message_id("touchbase.test"),
        in_reply_to=thank_you_id,
        references=[thank_you_id],
    )

    send(follow_up, smtp_peer.settings())

    received = smtp_peer.messages[0].message
    assert received["In-Reply-To"] == thank_you_id
    assert received["References"] == thank_you_id
    assert received["Subject"] == "Re: Thank you for the Data Analyst interview"


def test_references_keep_the_thread_and_end_with_the_parent(smtp_peer, email_message):
    root, parent = make_message_id("a.test"), make_message_id("b.test")
    reply = dataclasses.replace(email_message, in_reply_to=parent, references=[root])

    send(reply, smtp_peer.settings())

    assert smtp_peer.messages[0].message["References"] == f"{root} {parent}"


def test_a_long_parent_message_id_is_not_folded(smtp_peer, email_message):
    parent = "<" + "7" * 70 + ".touchbase@touchbase.test>"

    send(dataclasses.replace(email_message, in_reply_to=parent), smtp_peer.settings())

    assert f"\r\nIn-Reply-To: {parent}\r\n".encode() in smtp_peer.messages[0].data


def test_reply_subject_adds_re_only_once():
    assert reply_subject("Data Analyst interview") == "Re: Data Analyst interview"
    assert reply_subject("RE: Data Analyst interview") == "RE: Data Analyst interview"
    assert reply_subject("re:Data Analyst interview") == "re:Data Analyst interview"


def test_html_goes_as_an_alternative_to_the_text(smtp_peer, email_message):
    message = dataclasses.replace(email_message, html="<p>Dear Ms. Jones,</p>")

    send(message, smtp_peer.settings())

    received = smtp_peer.messages[0].message
    assert received.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content() for p in received.iter_parts()}
    assert parts["text/html"].strip() == "<p>Dear Ms. Jones,</p>"
    assert parts["text/plain"].startswith("Dear Ms. Jones,")


def test_a_line_starting_with_a_dot_arrives_intact(smtp_peer, email_message):
    message = dataclasses.replace(email_message, body="Line one\n.\n.hidden\nEnd\n")

    send(message, smtp_peer.settings())

    content = smtp_peer.messages[0].message.get_content().replace("\r\n", "\n")
    assert content == "Line one\n.\n.hidden\nEnd\n"


def test_non_ascii_names_subject_and_body_arrive_as_written(smtp_peer, email_message):
    message = dataclasses.replace(
        email_message,
        to_name="María López",
        from_name="Zoë Brontë",
        subject="Merci pour l\u2019entretien",
        body="Chère Mme López,\n\nMerci — à bientôt.\n",
    )

    send(message, smtp_peer.settings())

    mail = smtp_peer.messages[0]
    assert mail.data.isascii()  # encoded words and quoted-printable: any server relays it
    received = mail.message
    assert received["To"] == "María López <dana.jones@example.com>"
    assert received["From"] == "Zoë Brontë <alex.doe@example.org>"
    assert received["Subject"] == "Merci pour l\u2019entretien"
    assert (
        received.get_content().replace("\r\n", "\n") == "Chère Mme López,\n\nMerci — à bientôt.\n"
    )


def test_a_line_break_in_a_subject_or_name_cannot_add_a_header(smtp_peer, email_message):
    message = dataclasses.replace(
        email_message,
        subject="Thank you\r\nBcc: everyone@example.net",
        to_name="Dana\nX-Injected: yes",
    )

    send(message, smtp_peer.settings())

    received = smtp_peer.messages[0].message
    assert received["Bcc"] is None and received["X-Injected"] is None
    assert received["Subject"] == "Thank you Bcc: everyone@example.net"


def test_a_line_longer_than_smtp_allows_arrives_intact(smtp_peer, email_message):
    long_line = "word " * 300  # 1,500 characters on one line
    message = dataclasses.replace(email_message, body=f"Dear Ms. Jones,\n{long_line}\n")

    send(message, smtp_peer.settings())

    mail = smtp_peer.messages[0]
    assert max(len(line) for line in mail.data.split(b"\r\n")) <= 998
    assert mail.message.get_content().replace("\r\n", "\n") == f"Dear Ms. Jones,\n{long_line}\n"


def test_a_non_ascii_domain_goes_with_smtputf8(smtp_peer, email_message):
    message = dataclasses.replace(email_message, to_address="dana@bücher.example", to_name="José")

    result = send(message, smtp_peer.settings())

    assert isinstance(result, Sent)
    mail = smtp_peer.messages[0]
    assert mail.rcpt_tos == ["dana@bücher.example"]
    assert mail.message["To"] == "José <dana@bücher.example>"


def test_envelope_from_sets_the_bounce_address_only(smtp_peer, email_message):
    send(email_message, smtp_peer.settings(envelope_from="bounces@touchbase.test"))

    mail = smtp_peer.messages[0]
    assert mail.mail_from == "bounces@touchbase.test"
    assert mail.message["From"] == "Alex Doe <alex.doe@example.org>"


def test_smtp_auth_logs_in_with_the_configured_account(email_message):
    with SmtpPeer(auth={"relay": "s3cret"}) as peer:
        result = send(email_message, peer.settings(username="relay", password="s3cret"))

    assert isinstance(result, Sent)
    assert len(peer.messages) == 1


# --------------------------------------------------------------------------- refusals


def test_a_451_at_end_of_data_means_retry_later(smtp_peer, email_message):
    smtp_peer.reply_next("451 4.3.0 Mailbox temporarily unavailable")

    result = send(email_message, smtp_peer.settings())

    assert isinstance(result, RetryLater)
    assert "451" in result.reason
    assert smtp_peer.messages == []


def test_a_550_at_end_of_data_fails_with_the_servers_code_and_reply(smtp_peer, email_message):
    smtp_peer.reply_next("550 5.7.1 Message rejected as spam")

    result = send(email_message, smtp_peer.settings())

    assert result == Failed("smtp:550", "5.7.1 Message rejected as spam")


def test_a_recipient_refused_with_550_fails(smtp_peer, email_message):
    smtp_peer.reply_next("550 5.1.1 No such user here", stage="rcpt")

    result = send(email_message, smtp_peer.settings())

    assert result == Failed("smtp:550", "5.1.1 No such user here")


def test_a_recipient_refused_with_450_means_retry_later(smtp_peer, email_message):
    smtp_peer.reply_next("450 4.2.1 Greylisted, try again", stage="rcpt")

    result = send(email_message, smtp_peer.settings())

    assert isinstance(result, RetryLater)


def test_a_sender_refused_with_553_fails(smtp_peer, email_message):
    smtp_peer.reply_next("553 5.7.1 Sender not allowed", stage="mail")

    result = send(email_message, smtp_peer.settings())

    assert result == Failed("smtp:553", "5.7.1 Sender not allowed")


def test_wrong_smtp_credentials_fail(email_message):
    with SmtpPeer(auth={"relay": "s3cret"}) as peer:
        result = send(email_message, peer.settings(username="relay", password="wrong"))

    assert isinstance(result, Failed)
    assert result.code == "smtp:535"
    assert peer.messages == []


def test_a_closed_port_means_retry_later(email_message):
    settings = {"host": "127.0.0.1", "port": free_port(), "security": "none", "timeout": 2}

    result = send(email_message, settings)

    assert isinstance(result, RetryLater)


def test_starttls_required_but_not_offered_fails(smtp_peer, email_message):
    result = send(email_message, smtp_peer.settings(security="starttls"))

    assert isinstance(result, Failed)
    assert result.code == "smtp:starttls_unsupported"
    assert smtp_peer.messages == []


# --------------------------------------------------------------------------- unknown outcome


def test_no_reply_after_the_message_was_transmitted_is_unknown(smtp_peer, email_message):
    smtp_peer.hang_next(3.0)

    result = send(email_message, smtp_peer.settings(data_timeout=0.5))

    assert isinstance(result, Unknown)
    assert len(smtp_peer.messages) == 1  # the server did have it


def test_a_slow_acceptance_within_data_timeout_is_sent(smtp_peer, email_message):
    smtp_peer.hang_next(1.0)

    result = send(email_message, smtp_peer.settings(timeout=0.5, data_timeout=5))

    assert isinstance(result, Sent)


def test_connection_dropped_after_the_message_was_transmitted_is_unknown(smtp_peer, email_message):
    smtp_peer.drop_next()

    result = send(email_message, smtp_peer.settings())

    assert isinstance(result, Unknown)


# --------------------------------------------------------------------------- refused before sending


def test_an_invalid_contact_address_fails_before_connecting(smtp_peer, email_message):
    result = send(dataclasses.replace(email_message, to_address="dana@"), smtp_peer.settings())

    assert isinstance(result, Failed) and result.code == "invalid_address"
    assert smtp_peer.messages == []


def test_a_message_without_message_id_is_refused(smtp_peer, email_message):
    result = send(dataclasses.replace(email_message, message_id=None), smtp_peer.settings())

    assert isinstance(result, Failed) and result.code == "invalid_message"
    assert smtp_peer.messages == []


@pytest.mark.parametrize(
    "address", ["dana.jones@example.com", "d+tag@mail.example.co.uk", "o'neil@example.ie"]
)
def test_check_address_accepts_plain_addresses(address):
    assert channel.check_address(address) is None


@pytest.mark.parametrize(
    "address",
    ["", "dana", "dana@", "@example.com", "dana@localhost", "Dana <dana@example.com>", " a@b.co"],
)
def test_check_address_refuses_anything_else(address):
    assert channel.check_address(address)


def test_settings_need_a_password_with_a_username():
    with pytest.raises(ValidationError) as caught:
        channel.load_settings({"host": "127.0.0.1", "username": "relay"})

    assert "password" in caught.value.messages


def test_the_password_is_never_dumped():
    settings = channel.load_settings({"host": "127.0.0.1", "username": "u", "password": "p"})

    assert "password" not in channel.settings_schema().dump(settings)
