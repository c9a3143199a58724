"""Done when (issue 13): a reply sent from a loopback SMTP client into the candidate's
Dovecot mailbox, in answer to a thank-you Touchbase sent, stops that contact's sequence
within one poll interval, with no one typing anything.

Everything is real: the worker sends the thank-you over SMTP, the interviewer's reply goes
through an SMTP server that delivers it with dovecot-lda, and the same worker's mailbox
poller reads it over IMAP."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from api.dispatch import Options, Worker
from api.models import utcnow

POLL_SECONDS = 2
TICK_SECONDS = 1


class RunningClock:
    """The scene's time, moving on with the wall clock from ``start``."""

    def __init__(self, start: datetime) -> None:
        self.start, self.real = start, utcnow()

    def __call__(self) -> datetime:
        return self.start + (utcnow() - self.real)


def interviewer_reply(scene, thank_you, sent_at: datetime) -> EmailMessage:
    reply = EmailMessage()
    reply["From"] = f"Dana Jones <{scene.dana.email}>"
    reply["To"] = scene.candidate.email
    reply["Subject"] = "Re: " + thank_you["Subject"]
    reply["Date"] = format_datetime(sent_at)
    reply["Message-ID"] = make_msgid(domain="acme.example")
    reply["In-Reply-To"] = thank_you["Message-ID"]
    reply["References"] = thank_you["Message-ID"]
    reply.set_content("Thanks Ana, great to meet you too. We'll be in touch soon.\n\nDana\n")
    return reply


def test_a_reply_by_email_stops_the_sequence_within_one_poll(inbox, smtp_peer):
    scene, dovecot = inbox.scene, inbox.dovecot
    inbox.configure(imap_poll_seconds=POLL_SECONDS)
    scene.app.config["MAILBOX_TICK_SECONDS"] = TICK_SECONDS
    # The loopback SMTP server hands the candidate's mail to their Dovecot mailbox.
    smtp_peer.deliver = lambda mail: [
        dovecot.deliver(inbox.user, mail.data, mail.mail_from)
        for rcpt in mail.rcpt_tos
        if rcpt.lower() == scene.candidate.email.lower()
    ]
    sent_at = datetime.fromisoformat(scene.thank_you["scheduled_for"])
    scene.send_due(sent_at)  # the real worker sends the thank-you over SMTP
    [sent] = [m.message for m in smtp_peer.messages]
    assert set(scene.pending()) == {"follow_up", "call"}

    clock = RunningClock(sent_at + timedelta(hours=2))
    worker = Worker.from_app(scene.app, options=Options(poll=0.2), clock=clock)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while inbox.mailbox().status != "ok":  # the worker's first look at the mailbox
            assert time.monotonic() < deadline, dovecot.log()
            time.sleep(0.05)
        with smtplib.SMTP(smtp_peer.host, smtp_peer.port, timeout=10) as smtp:
            smtp.send_message(interviewer_reply(scene, sent, sent_at + timedelta(hours=1)))
        delivered = time.monotonic()
        while scene.pending():
            waited = time.monotonic() - delivered
            assert waited < POLL_SECONDS + TICK_SECONDS + 1, f"still pending after {waited:.1f}s"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)

    responses = scene.ok("get", f"/v1/responses?contact_id={scene.dana.id}")
    assert [(r["kind"], r["channel"]) for r in responses] == [("replied", "email")]
    cancelled = [t["step"] for t in scene.touches() if t["status"] == "cancelled"]
    assert sorted(cancelled) == ["call", "follow_up"]
