"""The test Dovecot itself: users added while it runs can log in, folders are kept apart."""

from __future__ import annotations


def test_a_named_user_added_while_running_can_log_in(dovecot):
    user = dovecot.add_user("carol", "carol-secret")

    with dovecot.client(user) as client:
        assert client.folder_exists("INBOX")


def test_the_predefined_users_log_in_with_their_passwords(dovecot):
    for user in (dovecot.users["alice"], dovecot.users["bob"]):
        with dovecot.client(user) as client:
            assert client.folder_exists("INBOX")


def test_sent_and_drafts_exist_for_a_new_user(dovecot, mailbox_user):
    with dovecot.client(mailbox_user) as client:
        assert {"Sent", "Drafts"} <= {name for _, _, name in client.list_folders()}


def test_recreating_a_folder_gives_it_a_new_uidvalidity(dovecot, mailbox_user):
    dovecot.recreate_folder(mailbox_user, "Replies")
    before = dovecot.uidvalidity(mailbox_user, "Replies")

    dovecot.recreate_folder(mailbox_user, "Replies")

    assert dovecot.uidvalidity(mailbox_user, "Replies") != before
