"""fetch_new against a real Dovecot: what is read, what is never read, and where it resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from channels.imap import MailboxState, MailboxUnavailable, fetch_new
from channels.testing_peers import free_port


def message(n: int, subject: str = "Re: Thank you") -> bytes:
    return (
        f"From: Ines Interviewer <ines@example.com>\r\n"
        f"To: cand@example.org\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <reply-{n}@example.com>\r\n"
        f"\r\n"
        f"Reply number {n}.\r\n"
    ).encode()


def test_an_empty_inbox_gives_nothing_and_remembers_its_uidvalidity(
    dovecot, mailbox_user, mailbox_settings
):
    messages, state = fetch_new(mailbox_settings(), MailboxState())

    assert messages == []
    assert state == MailboxState(dovecot.uidvalidity(mailbox_user), last_uid=0)


def test_a_message_appended_to_the_inbox_is_fetched_raw_with_uid_and_date(
    dovecot, mailbox_user, mailbox_settings
):
    when = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    uid = dovecot.append(mailbox_user, message(1), when=when)

    messages, state = fetch_new(mailbox_settings(), MailboxState())

    assert [(m.uid, m.raw, m.internal_date) for m in messages] == [(uid, message(1), when)]
    assert state.last_uid == uid


def test_the_returned_state_gives_only_what_arrived_since(dovecot, mailbox_user, mailbox_settings):
    dovecot.append(mailbox_user, message(1))
    _, state = fetch_new(mailbox_settings(), MailboxState())
    second = dovecot.append(mailbox_user, message(2))

    messages, state = fetch_new(mailbox_settings(), state)
    again, _ = fetch_new(mailbox_settings(), state)

    assert [m.uid for m in messages] == [second]
    assert again == []


def test_a_message_in_sent_is_never_read(dovecot, mailbox_user, mailbox_settings):
    dovecot.append(mailbox_user, message(1, subject="Re: our own follow-up"), folder="Sent")
    dovecot.append(mailbox_user, message(2, subject="Re: our own draft"), folder="Drafts")

    messages, _ = fetch_new(mailbox_settings(), MailboxState())

    assert messages == []


def test_fetching_leaves_messages_unread(dovecot, mailbox_user, mailbox_settings):
    dovecot.append(mailbox_user, message(1))

    fetch_new(mailbox_settings(), MailboxState())

    with dovecot.client(mailbox_user) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"]) != []


def test_a_new_uidvalidity_starts_over_from_the_first_message(
    dovecot, mailbox_user, mailbox_settings
):
    settings = mailbox_settings(folder="Replies")
    for n in (1, 2, 3):
        dovecot.append(mailbox_user, message(n), folder="Replies")
    _, old_state = fetch_new(settings, MailboxState())
    dovecot.recreate_folder(mailbox_user, "Replies")  # the server renumbers the folder
    dovecot.append(mailbox_user, message(4), folder="Replies")
    dovecot.append(mailbox_user, message(5), folder="Replies")

    messages, state = fetch_new(settings, old_state)

    assert [m.raw for m in messages] == [message(4), message(5)]
    assert state.uidvalidity != old_state.uidvalidity
    assert state.last_uid == messages[-1].uid


def test_the_limit_bounds_one_call_and_the_next_continues_in_uid_order(
    dovecot, mailbox_user, mailbox_settings
):
    uids = [dovecot.append(mailbox_user, message(n)) for n in range(1, 8)]

    first, state = fetch_new(mailbox_settings(), MailboxState(), limit=3)
    second, state = fetch_new(mailbox_settings(), state, limit=3)
    third, state = fetch_new(mailbox_settings(), state, limit=3)

    assert [[m.uid for m in batch] for batch in (first, second, third)] == [
        uids[0:3],
        uids[3:6],
        uids[6:7],
    ]
    assert state.last_uid == uids[-1]


def test_a_backlog_larger_than_one_fetch_batch_comes_whole_and_in_order(
    dovecot, mailbox_user, mailbox_settings
):
    with dovecot.client(mailbox_user) as client:  # one connection for 120 appends
        for n in range(120):
            client.append("INBOX", message(n))

    messages, _ = fetch_new(mailbox_settings(), MailboxState(), limit=500)

    assert [m.raw for m in messages] == [message(n) for n in range(120)]


def test_a_last_uid_at_the_top_does_not_refetch_the_newest_message(
    dovecot, mailbox_user, mailbox_settings
):
    dovecot.append(mailbox_user, message(1))
    _, state = fetch_new(mailbox_settings(), MailboxState())
    ahead = MailboxState(state.uidvalidity, last_uid=state.last_uid + 10)

    messages, after = fetch_new(mailbox_settings(), ahead)

    assert messages == []  # "UID n:*" still names the highest UID: it must be filtered out
    assert after == ahead


def test_a_wrong_password_is_mailbox_unavailable_naming_the_login(mailbox_settings):
    with pytest.raises(MailboxUnavailable, match=r"login as .* refused"):
        fetch_new(mailbox_settings(password="not-the-password"), MailboxState())


def test_a_closed_port_is_mailbox_unavailable_naming_the_server(mailbox_settings):
    port = free_port()

    with pytest.raises(MailboxUnavailable, match=f"cannot reach IMAP server 127.0.0.1:{port}"):
        fetch_new(mailbox_settings(port=port), MailboxState())


def test_a_missing_folder_is_mailbox_unavailable_naming_the_folder(mailbox_settings):
    with pytest.raises(MailboxUnavailable, match="folder 'Nowhere' cannot be opened"):
        fetch_new(mailbox_settings(folder="Nowhere"), MailboxState())


def test_the_settings_repr_hides_the_password(mailbox_settings):
    assert "password" not in repr(mailbox_settings(password="hunter2"))
    assert "hunter2" not in repr(mailbox_settings(password="hunter2"))


def test_an_unknown_tls_mode_is_refused(mailbox_settings):
    with pytest.raises(ValueError, match="tls must be one of"):
        mailbox_settings(tls="maybe")


def test_internal_dates_are_utc(dovecot, mailbox_user, mailbox_settings):
    local = datetime(2026, 11, 30, 4, 15, tzinfo=timezone(timedelta(hours=-5)))
    dovecot.append(mailbox_user, message(1), when=local)

    [fetched], _ = fetch_new(mailbox_settings(), MailboxState())

    assert fetched.internal_date == local and fetched.internal_date.tzinfo == UTC


def test_starttls_on_a_server_without_it_is_mailbox_unavailable_not_plain_text(
    mailbox_settings,
):
    with pytest.raises(MailboxUnavailable, match="STARTTLS refused"):
        fetch_new(mailbox_settings(tls="starttls"), MailboxState())


def test_ssl_to_a_plain_text_port_is_mailbox_unavailable(mailbox_settings):
    with pytest.raises(MailboxUnavailable, match="TLS with IMAP server"):
        fetch_new(mailbox_settings(tls="ssl", timeout=3.0), MailboxState())
