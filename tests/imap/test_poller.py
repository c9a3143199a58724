"""Mailbox polling: the candidate's IMAP folder is read on a schedule, each message heard
once, by one worker at a time (issue 13, "Mailbox polling over IMAP")."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from api.models import InboundMail, Mailbox, Response, utcnow
from channels.hookspecs import hookimpl
from channels.registry import get_plugin_manager
from tests.api.helpers import assert_problem
from tests.inbound.conftest import build

THANKS = "Thank you Ana, it was a pleasure to meet you too. We will be in touch.\n"


def reply(inbox, body: str = THANKS, **headers) -> bytes:
    scene = inbox.scene
    headers.setdefault("From", f"Dana Jones <{scene.dana.email}>")
    headers.setdefault("In_Reply_To", scene.thank_you["message_id"])
    headers.setdefault("Date", "Wed, 5 Jun 2030 09:00:00 -0400")
    return build(body, **headers)


def test_settings_that_name_a_mailbox_make_one_for_the_candidate(inbox):
    box = inbox.mailbox()

    assert (box.candidate_id, box.channel, box.status) == (
        inbox.scene.candidate.id,
        "email",
        "new",
    )
    assert box.source == (
        f"imap://{inbox.user.name}@{inbox.dovecot.host}:{inbox.dovecot.port}/INBOX"
    )


def test_a_reply_in_the_mailbox_stops_that_contacts_sequence_at_the_next_poll(inbox):
    inbox.dovecot.append(inbox.user, reply(inbox))

    report = inbox.poll()

    assert report.outcomes == {"recorded": 1}
    assert inbox.scene.pending() == {}  # R8: nothing more goes to Dana this round


def test_a_message_is_heard_once_however_often_the_mailbox_is_polled(inbox, count):
    inbox.dovecot.append(inbox.user, reply(inbox))
    inbox.poll()

    again = inbox.poll()

    assert again.heard == 0
    assert count(Response) == 1
    assert inbox.mailbox().heard == 1


def test_the_cursor_remembers_the_folders_uidvalidity_and_last_uid(inbox):
    uid = inbox.dovecot.append(inbox.user, reply(inbox))

    inbox.poll()

    assert inbox.mailbox().cursor == {
        "uidvalidity": inbox.dovecot.uidvalidity(inbox.user),
        "last_uid": uid,
    }


def test_mail_that_was_there_before_the_mailbox_was_configured_is_not_replayed(inbox, count):
    inbox.configure(imap_host="")  # no mailbox...
    an_hour_ago = utcnow() - timedelta(hours=1)  # ...while old mail sits in the folder
    inbox.dovecot.append(inbox.user, reply(inbox), when=an_hour_ago)
    inbox.configure()  # then one again: it starts from now

    report = inbox.poll()

    assert report.heard == 0
    assert count(Response) == 0


def test_only_the_named_folder_is_read_never_sent(inbox, count):
    inbox.dovecot.append(inbox.user, reply(inbox), folder="Sent")

    inbox.poll()

    assert count(InboundMail) == 0


def test_a_renumbered_folder_is_read_again_without_hearing_anything_twice(inbox, count):
    inbox.dovecot.append(inbox.user, reply(inbox), folder="Replies")
    inbox.configure(imap_folder="Replies")
    inbox.dovecot.append(inbox.user, reply(inbox), folder="Replies")
    inbox.poll()
    inbox.dovecot.recreate_folder(inbox.user, "Replies")  # a new UIDVALIDITY...
    inbox.dovecot.append(inbox.user, reply(inbox), folder="Replies")  # ...the same mail again

    report = inbox.poll()

    assert report.outcomes == {"duplicate": 1}
    assert count(Response) == 1
    assert inbox.mailbox().cursor["uidvalidity"] == inbox.dovecot.uidvalidity(inbox.user, "Replies")


def test_a_mailbox_that_refuses_the_login_is_unavailable_with_the_reason(inbox):
    inbox.configure(imap_password="wrong")

    report = inbox.poll()

    box = inbox.mailbox()
    assert box.status == "unavailable"
    assert "login" in box.last_error and inbox.user.name in box.last_error
    assert box.next_poll_at > inbox.scene.clock() + timedelta(seconds=30)  # backed off
    assert report.unavailable == [box.last_error]


def test_a_mailbox_back_after_trouble_skips_nothing(inbox, count):
    inbox.configure(imap_password="wrong")
    inbox.dovecot.append(inbox.user, reply(inbox))
    inbox.poll()

    inbox.configure(imap_password=inbox.user.password)
    inbox.poll()

    assert inbox.mailbox().status == "ok"
    assert count(Response) == 1


def test_a_mailbox_held_by_one_worker_is_not_claimed_by_another(inbox):
    inbox.make_due()
    first = inbox.poller("poller-a").claim()

    second = inbox.poller("poller-b").claim()

    assert (len(first), second) == (1, [])


def test_a_lapsed_lease_is_taken_over(inbox):
    inbox.make_due()
    inbox.poller("poller-a").claim()
    with inbox.app.extensions["touchbase.engine"].begin() as conn:
        conn.execute(update(Mailbox).values(lease_expires_at=inbox.scene.clock() - timedelta(1)))

    assert len(inbox.poller("poller-b").claim()) == 1


def test_a_poller_that_lost_its_lease_hears_nothing_more(inbox, count):
    inbox.dovecot.append(inbox.user, reply(inbox))
    inbox.make_due()
    poller = inbox.poller("poller-a")
    [mailbox_id] = poller.claim()
    with inbox.app.extensions["touchbase.engine"].begin() as conn:
        conn.execute(update(Mailbox).values(lease_owner="poller-b"))

    poller.poll(mailbox_id)

    assert count(InboundMail) == 0


def test_a_sent_folder_is_refused_naming_the_field(inbox, snapshot):
    before = snapshot()

    answer = inbox.configure(imap_folder="Sent")

    assert_problem(answer, 422, "imap_folder")
    assert snapshot() == before


def test_a_mailbox_without_a_password_is_refused_naming_the_field(inbox):
    url = f"/v1/users/{inbox.scene.candidate.id}/channels/email/settings"
    body = {"imap_host": "127.0.0.1", "imap_username": "ana", "imap_password": None}

    answer = inbox.scene._call("put", url, inbox.admin, json=body)

    assert_problem(answer, 422, "imap_password")


def test_removing_the_mailbox_from_the_settings_stops_its_polling(inbox, count):
    inbox.configure(imap_host="")

    assert count(Mailbox) == 0


class Listener:
    def __init__(self) -> None:
        self.events = []

    @hookimpl
    def inbound_message(self, event):
        self.events.append(event)


def test_plugins_hear_each_inbound_message_after_it_is_committed(inbox):
    listener = Listener()
    manager = get_plugin_manager()
    manager.register(listener, name="test-listener")
    try:
        inbox.dovecot.append(inbox.user, reply(inbox))
        inbox.poll()
    finally:
        manager.unregister(name="test-listener")

    [event] = listener.events
    assert (event.outcome, event.classification, event.source) == ("recorded", "replied", "email")
    assert event.contact_id == inbox.scene.dana.id


def test_the_candidate_sees_their_mailbox_and_why_it_cannot_be_read(inbox):
    inbox.configure(imap_password="wrong")
    inbox.poll()

    [box] = inbox.scene.ok("get", "/v1/mailboxes")

    assert (box["status"], box["candidate_id"]) == ("unavailable", inbox.scene.candidate.id)
    assert "login" in box["last_error"]
    assert "wrong" not in str(box)  # the password is never shown


def test_another_candidate_does_not_see_the_mailbox(inbox, world):
    answer = inbox.scene._call("get", "/v1/mailboxes", world.tokens["other_candidate"])

    assert answer.get_json() == []
