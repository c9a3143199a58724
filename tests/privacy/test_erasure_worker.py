"""Nothing is sent after an erasure, even by a worker that had claimed the touch."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from api.models import ChannelSetting, Touch
from tests.dispatch.seeding import midday_zone
from tests.privacy.conftest import now


def test_a_claimed_touch_erased_before_its_send_is_never_sent(
    make_worker, call, world, factory, app, open_window
):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    touch = factory.touch(contact, application, scheduled_for=now() - timedelta(minutes=5))
    worker = make_worker()
    assert worker.claim() == [touch.id]
    answer = call(
        "post",
        f"/v1/users/{world.candidate.id}/erasure",
        world.tokens["admin"],
        json={"confirm": world.candidate.email},
    )
    assert answer.status_code == 200
    assert answer.get_json()["cancelled_touches"] == 1
    worker.work([touch.id])
    assert dict(worker.stats.outcomes) == {"lost": 1}
    outbox = Path(app.config["OUTBOX_DIR"])
    assert not outbox.exists() or list(outbox.iterdir()) == []


BODY = (
    "Dear Dana,\n\nThank you for your time today. I enjoyed our conversation about the Data "
    "Engineer role and I am excited about the team.\n\nBest regards,\nAna\n"
)


def _erase(call, world):
    return call(
        "post",
        f"/v1/users/{world.candidate.id}/erasure",
        world.tokens["admin"],
        json={"confirm": world.candidate.email},
    )


def test_a_send_in_flight_is_finished_before_the_erasure(
    make_worker, call, world, factory, db, smtp_peer, open_window, row, count
):
    db.add(ChannelSetting(org_id=world.org.id, channel="email", values=smtp_peer.settings()))
    db.commit()
    # where it is about noon: the open window's one closed minute (23:59) never falls in
    contact = factory.contact(
        world.candidate, name="Dana Jones", email="dana.jones@acme.example", timezone=midday_zone()
    )
    touch = factory.touch(
        contact, factory.application(world.candidate), scheduled_for=now() - timedelta(minutes=5),
        subject="Thank you for today", body=BODY,
    )  # fmt: skip
    smtp_peer.hang_next(1.5)  # the server sits on the message: the worker is mid-send
    worker = threading.Thread(target=make_worker().run_once)
    worker.start()
    deadline = time.monotonic() + 10
    while row(Touch, touch.id)["status"] != "sending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row(Touch, touch.id)["status"] == "sending"
    busy = _erase(call, world)
    worker.join(timeout=30)
    assert busy.status_code == 409
    assert "Retry-After" in busy.headers
    assert row(Touch, touch.id)["status"] == "sent"
    assert _erase(call, world).status_code == 200
    assert count(Touch, candidate_id=world.candidate.id) == 0
    assert len(smtp_peer.messages) == 1
