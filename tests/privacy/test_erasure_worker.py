"""Nothing is sent after an erasure, even by a worker that had claimed the touch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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
