"""The dispatch worker delivers webhooks beside its send loop (so `touchbase serve`, API and
worker in one process, does too); a worker SIGKILLed mid-delivery loses none."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from api import ledger
from api.dispatch.worker import Worker
from api.models import WebhookDelivery, WebhookEvent
from api.webhooks.delivery import DeliveryPass
from tests.dispatch.conftest import open_policy

BACKLOG = 60
TOUCHBASE = str(Path(sys.executable).with_name("touchbase"))


def test_a_running_worker_delivers_webhooks(endpoint, scene, happen, portal, app, db):
    app.config["WEBHOOK_TICK_SECONDS"] = 0.05
    scene.touch.scheduled_for = datetime(2030, 6, 4, 13, 0, tzinfo=UTC)  # not due: not sent
    db.commit()
    stop = threading.Event()
    worker = Worker.from_app(app, poll=0.05)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        happen(scene.touch, "scheduled")
        deadline = time.monotonic() + 10
        while not portal.heard and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)

    assert len(portal.heard) == 1 and portal.heard[0].verified_with == portal.secrets


def _worker(app, workdir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHBASE_")}
    env.update(
        TOUCHBASE_DATABASE_URL=app.config["DATABASE_URL"],
        TOUCHBASE_INSTANCE_DIR=str(workdir / "instance"),
        TOUCHBASE_MAILBOX_TICK_SECONDS="0",
        TOUCHBASE_WEBHOOK_TICK_SECONDS="0.1",
        TOUCHBASE_WEBHOOK_LEASE_SECONDS="2",
        TOUCHBASE_WEBHOOK_ALLOW_PRIVATE="1",
    )
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [TOUCHBASE, "worker", "--poll", "0.2"], cwd=workdir, env=env, stdout=log, stderr=log
    )


def test_a_worker_killed_mid_delivery_loses_no_event(
    endpoint, factory, world, db, portal, drain, app, tmp_path
):
    contact, application = factory.contact(world.candidate), factory.application(world.candidate)
    touches = [factory.touch(contact, application) for _ in range(BACKLOG)]
    for touch in touches:
        ledger.record_event(db, touch, "scheduled", "user:1")
    db.commit()
    portal.delay = 0.03  # each delivery is in flight for a while: the kill lands in one
    worker = _worker(app, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while len(portal.heard) < 5:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker delivered nothing in 60 s"
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    at_kill = len(set(portal.ids()))
    assert at_kill < BACKLOG, "the kill came too late to be mid-delivery"

    time.sleep(2.1)  # the dead worker's leases run out
    drain()

    events = set(db.scalars(select(WebhookEvent.msg_id)).all())
    statuses = set(db.scalars(select(WebhookDelivery.status)).all())
    db.commit()
    assert set(portal.ids()) == events  # every event arrived, none invented
    assert statuses == {"delivered"}
    assert all(h.verified_with == portal.secrets for h in portal.heard)


def test_a_touch_the_worker_sends_reaches_the_portal_as_touch_sent(
    endpoint, scene, portal, app, db, world
):
    open_policy(db, world.org.id)  # the send window is open now, on the real clock

    Worker.from_app(app).run_once()

    types = [json.loads(h.body)["type"] for h in portal.heard]
    assert types == ["touch.sent"]
    assert json.loads(portal.heard[0].body)["data"]["touch_id"] == scene.touch.id


def test_two_workers_share_the_backlog_each_event_once_and_in_order_per_touch(
    endpoint, factory, world, db, portal, app, hooks_config
):
    contact, application = factory.contact(world.candidate), factory.application(world.candidate)
    touches = [factory.touch(contact, application) for _ in range(8)]
    for kind in ("scheduled", "rescheduled", "sent", "delivered"):
        for touch in touches:
            ledger.record_event(db, touch, kind, "user:1")
        db.commit()
    passes = [
        DeliveryPass(
            app.extensions["touchbase.engine"],
            app.extensions["touchbase.sessionmaker"],
            app.config,
            f"worker-{n}",
        )
        for n in range(2)
    ]

    def work(deliveries: DeliveryPass) -> None:
        deadline = time.monotonic() + 30
        while len(portal.heard) < 32 and time.monotonic() < deadline:
            deliveries.run_due()
            time.sleep(0.01)

    threads = [threading.Thread(target=work, args=(p,)) for p in passes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = portal.ids()
    assert len(ids) == len(set(ids)) == 32  # each event once
    kinds: dict[int, list[str]] = {}
    for heard in portal.heard:
        data = json.loads(heard.body)["data"]
        kinds.setdefault(data["touch_id"], []).append(data["event"]["kind"])
    assert all(k == ["scheduled", "rescheduled", "sent", "delivered"] for k in kinds.values())
