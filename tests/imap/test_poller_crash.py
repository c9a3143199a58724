"""A worker killed (SIGKILL) in the middle of reading a mailbox loses no message and hears
none twice: each fetched batch and the cursor past it are committed together (issue 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from api.inbound.poller import MailboxPoller
from api.models import InboundMail, Mailbox
from tests.inbound.conftest import build

BACKLOG = 500
TOUCHBASE = str(Path(sys.executable).with_name("touchbase"))


def _heard(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.coalesce(func.sum(Mailbox.heard), 0)))


def _worker(app, workdir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHBASE_")}
    env.update(
        TOUCHBASE_DATABASE_URL=app.config["DATABASE_URL"],
        TOUCHBASE_INSTANCE_DIR=str(workdir / "instance"),
        TOUCHBASE_MAILBOX_TICK_SECONDS="1",
        TOUCHBASE_MAILBOX_LEASE_SECONDS="2",
        # Small batches, so the backlog takes many commits and the kill lands between two
        # (with the default 200, three commits can all land before the kill).
        TOUCHBASE_MAILBOX_BATCH="10",
    )
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [TOUCHBASE, "worker", "--poll", "0.2"], cwd=workdir, env=env, stdout=log, stderr=log
    )


def test_a_worker_killed_mid_poll_loses_nothing_and_hears_nothing_twice(
    inbox, tmp_path, engine, count
):
    backlog = [
        build(
            f"Message {n}: thanks for reaching out.\n",
            From=f"someone{n}@elsewhere.example",
            Message_ID=f"<backlog-{n}@elsewhere.example>",
            In_Reply_To=None,
        )
        for n in range(BACKLOG)
    ]
    inbox.dovecot.append_many(inbox.user, backlog)
    worker = _worker(inbox.app, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while _heard(engine) < 5:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker heard nothing in 60 s"
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    at_kill = _heard(engine)
    assert at_kill < BACKLOG, "the kill came too late to be mid-poll"

    time.sleep(2.1)  # the dead worker's lease runs out
    survivor = MailboxPoller(inbox.app.extensions["touchbase.sessionmaker"], inbox.app.config, "b")
    while survivor.poll_due().heard:
        inbox.make_due()

    assert count(InboundMail) == BACKLOG  # none lost
    assert _heard(engine) == BACKLOG  # none processed twice, not even as a duplicate
