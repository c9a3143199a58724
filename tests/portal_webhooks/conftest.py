"""A loopback portal that verifies every webhook with the standardwebhooks library, and an
org with an endpoint pointing at it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from api import ledger
from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.delivery import DeliveryPass
from api.webhooks.signing import new_secret

#: Short pauses between attempts, so a test sees the whole schedule in a second.
SCHEDULE = (0.05, 0.05, 0.05, 0.05)


@dataclass
class Heard:
    """One request the portal received, and what verifying it said."""

    headers: dict[str, str]
    body: bytes
    verified_with: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


class Portal:
    """The receiving end: answers ``status`` (503 while ``down``), after ``delay`` seconds,
    and keeps every request with the secrets that verify it."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.heard: list[Heard] = []
        self.down = False
        self.status = 204
        self.delay = 0.0
        self.redirect_to: str | None = None
        self._lock = threading.Lock()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if portal.delay:
                    time.sleep(portal.delay)
                portal._hear({k.lower(): v for k, v in self.headers.items()}, body)
                if portal.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", portal.redirect_to)
                else:
                    self.send_response(503 if portal.down else portal.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _hear(self, headers: dict[str, str], body: bytes) -> None:
        heard = Heard(headers, body)
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            heard.verified_with.append(secret)
        with self._lock:
            self.heard.append(heard)

    def ids(self) -> list[str]:
        with self._lock:
            return [h.id for h in self.heard]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def portal() -> Iterator[Portal]:
    found = Portal()
    yield found
    found.close()


@pytest.fixture
def hooks_config(app):
    app.config.update(
        WEBHOOK_ALLOW_PRIVATE=True,  # the portal is on loopback
        WEBHOOK_RETRY_SCHEDULE=SCHEDULE,
        WEBHOOK_CONNECT_TIMEOUT=1.0,
        WEBHOOK_READ_TIMEOUT=1.0,
        WEBHOOK_LEASE_SECONDS=30,
    )
    return app.config


@pytest.fixture
def endpoint(db, world, portal, hooks_config) -> WebhookEndpoint:
    """The first org's endpoint at the portal, hearing every event type."""
    from api.models.webhooks import WEBHOOK_EVENT_TYPES

    secret = new_secret()
    row = WebhookEndpoint(
        org_id=world.org.id, url=portal.url, event_types=list(WEBHOOK_EVENT_TYPES), secret=secret
    )
    db.add(row)
    db.commit()
    portal.secrets.append(secret)
    return row


@pytest.fixture
def scene(factory, world):
    """A contact of the candidate, an application, and a scheduled touch to them."""

    class Scene:
        pass

    s = Scene()
    s.contact = factory.contact(world.candidate)
    s.application = factory.application(world.candidate)
    s.touch = factory.touch(s.contact, s.application)
    return s


@pytest.fixture
def happen(db):
    """happen(touch, kind, status=None): a touch event recorded and committed, through the
    ledger as every write path does."""

    def _happen(touch, kind: str, status: str | None = None) -> None:
        if status is not None:
            touch.status = status
        ledger.record_event(db, touch, kind, "user:1")
        db.commit()

    return _happen


@pytest.fixture
def deliveries(app, hooks_config) -> DeliveryPass:
    return DeliveryPass(
        app.extensions["touchbase.engine"],
        app.extensions["touchbase.sessionmaker"],
        app.config,
        "test-worker",
    )


@pytest.fixture
def drain(deliveries, engine):
    """Run the delivery pass until no delivery is pending (or ``seconds`` pass)."""

    def _drain(seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        pending = select(WebhookDelivery.id).where(WebhookDelivery.status == "pending").limit(1)
        while True:
            deliveries.run_due()
            with engine.connect() as conn:  # not the test's session: it keeps its objects
                if conn.scalar(pending) is None or time.monotonic() > deadline:
                    return
            time.sleep(0.02)

    return _drain
