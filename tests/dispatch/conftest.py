"""Fixtures for the dispatch worker: a clock, a scene, workers, and real loopback peers.

Unit-level tests drive :class:`api.dispatch.Worker` in-process with a fixed clock;
process tests start ``touchbase worker`` subprocesses against the same database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.dispatch import Options, Worker
from api.models import ChannelSetting, PolicySetting, Touch, TouchEvent
from channels import registry
from channels.testing import smtp_peer, twilio_peer  # noqa: F401  (fixtures)
from channels.testing_peers import free_port
from channels.twilio_client import API_BASE_ENV
from tests import high_limits
from tests.dispatch.seeding import OPEN_POLICY

ROOT = Path(__file__).resolve().parents[2]
TOUCHBASE = str(Path(sys.executable).with_name("touchbase"))
#: Wednesday 18 Nov 2026, 10:05 in New York: inside the default send window.
WEDNESDAY_MORNING = datetime(2026, 11, 18, 15, 5, tzinfo=UTC)


def is_postgres_url(url: str) -> bool:
    return url.startswith("postgresql")


requires_postgres = pytest.mark.skipif(
    not is_postgres_url(os.environ.get("TOUCHBASE_TEST_DATABASE_URL", "")),
    reason="needs PostgreSQL: set TOUCHBASE_TEST_DATABASE_URL=postgresql+psycopg://...",
)


@pytest.fixture(autouse=True)
def _no_real_twilio(monkeypatch):
    """Unless ``twilio_peer`` points the channels at itself, Twilio is a closed port."""
    monkeypatch.delenv(registry.PLUGINS_ENV, raising=False)
    monkeypatch.setenv(API_BASE_ENV, f"http://127.0.0.1:{free_port()}")
    registry.reset()
    yield
    registry.reset()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY_MORNING)


@pytest.fixture
def make_worker(app, clock):
    """``make_worker(**options)``: a worker on the test database with the test clock."""

    def make(worker_id: str | None = None, **options) -> Worker:
        options.setdefault("lease", 30.0)
        options.setdefault("poll", 0.05)
        return Worker.from_app(app, options=Options(**options), clock=clock, worker_id=worker_id)

    return make


@pytest.fixture
def scene(world, factory):
    """The world's candidate, one interviewer in New York, their application."""

    class Scene:
        pass

    s = Scene()
    s.org = world.org
    s.candidate = world.candidate
    s.contact = factory.contact(world.candidate, name="Dana Jones", email="dana.jones@acme.example")
    s.application = factory.application(world.candidate)
    return s


@pytest.fixture
def touch_for(scene, factory, clock):
    """``touch_for(**kw)``: a scheduled touch to the scene's contact, due now."""

    def make(**kw) -> Touch:
        kw.setdefault("scheduled_for", clock.now - timedelta(minutes=5))
        kw.setdefault("subject", "Thank you for today")
        kw.setdefault(
            "body",
            "Dear Dana,\n\nThank you for your time today. I enjoyed our conversation about "
            "the Data Engineer role and I am excited about the team.\n\nBest regards,\n"
            f"{scene.candidate.name}\n",
        )
        return factory.touch(kw.pop("contact", scene.contact), scene.application, **kw)

    return make


def use_channel(db, org_id: int, channel: str, values: dict) -> None:
    db.add(ChannelSetting(org_id=org_id, candidate_id=None, channel=channel, values=values))
    db.commit()


def open_policy(db, org_id: int) -> None:
    """Send window open all day, every day: for tests on the real clock."""
    db.add(PolicySetting(org_id=org_id, candidate_id=None, contact_id=None, values=OPEN_POLICY))
    db.commit()


# Reads end their transaction: on SQLite every transaction takes the write lock
# (BEGIN IMMEDIATE), and an idle one would block the worker under test.


def reload(db, touch: Touch) -> Touch:
    db.expire_all()
    found = db.get(Touch, touch.id)
    db.commit()
    return found


def events(db, touch: Touch) -> list[TouchEvent]:
    db.expire_all()
    found = list(
        db.scalars(
            select(TouchEvent).where(TouchEvent.touch_id == touch.id).order_by(TouchEvent.id)
        )
    )
    db.commit()
    return found


def kinds(db, touch: Touch) -> list[str]:
    return [e.kind for e in events(db, touch)]


def no_tls_env(tmp_path: Path) -> dict[str, str]:
    """The email channel builds a default TLS context for every message, TLS or not, and
    loading the system CA bundle costs ~40 ms a message here. The loopback SMTP server
    speaks no TLS: an empty bundle keeps the many-message tests about the worker."""
    empty = tmp_path / "no-ca.pem"
    empty.write_text("")
    return {"SSL_CERT_FILE": str(empty), "SSL_CERT_DIR": str(tmp_path)}


def worker_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TOUCHBASE_DATABASE_URL=database_url,
        TOUCHBASE_INSTANCE_DIR=str(tmp_path / "instance"),
        TOUCHBASE_OUTBOX_DIR=str(tmp_path / "outbox"),
        TOUCHBASE_SECRET_KEY="dispatch-tests",
        PYTHONUNBUFFERED="1",
    )
    env.update(high_limits.ENV)  # an API process started with it serves load tests
    env.update(extra)
    return env


def start_worker(
    database_url: str, tmp_path: Path, *args: str, log_name: str = "worker", **env
) -> tuple[subprocess.Popen, Path]:
    """``touchbase worker --json-logs *args`` as a subprocess; its log goes to a file."""
    log_path = tmp_path / f"{log_name}.log"
    handle = open(log_path, "wb")  # noqa: SIM115  (closed with the process)
    proc = subprocess.Popen(
        [TOUCHBASE, "worker", "--json-logs", *args],
        cwd=tmp_path,
        env=worker_env(database_url, tmp_path, **env),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    return proc, log_path
