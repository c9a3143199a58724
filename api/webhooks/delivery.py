"""The workers' delivery pass: claim due deliveries, sign, POST, write down the answer.

Each attempt is written down on its own: 2xx is delivered; anything else (a refusal, a
timeout, a 500, a redirect) is retried after the next pause of ``WEBHOOK_RETRY_SCHEDULE``,
and failed once the schedule runs out. The ``webhook-id`` is the event's, the same on every
attempt and redelivery, so the portal drops the duplicates at-least-once delivery brings
(a worker that dies after the POST but before writing it down). The signature's timestamp
is the attempt's wall-clock time: receivers refuse one more than five minutes off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from api.webhooks import claim as claims
from api.webhooks import signing, transport
from api.webhooks.events import dumps

log = logging.getLogger("touchbase.webhooks")

BATCH = 20


def next_attempt(attempts: int, schedule: tuple[float, ...], now: datetime) -> datetime | None:
    """When attempt ``attempts + 1`` goes, or None when the schedule is spent (failed)."""
    if attempts > len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts - 1])


class DeliveryPass:
    """Delivers due webhooks on behalf of worker ``owner``."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        config: Mapping[str, Any],
        owner: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        post: Callable[..., transport.Attempt] = transport.post,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.config = config
        self.owner = owner
        self.clock = clock
        self.post = post

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=float(self.config.get("WEBHOOK_LEASE_SECONDS", 60)))

    @property
    def schedule(self) -> tuple[float, ...]:
        return tuple(self.config.get("WEBHOOK_RETRY_SCHEDULE", (5, 300)))

    def run_due(self, stop: threading.Event | None = None) -> int:
        """Deliver until nothing is due (a touch's next event becomes due as soon as the
        one before it is delivered); the number of attempts made."""
        made = 0
        while stop is None or not stop.is_set():
            ids = claims.claim(self.engine, self.owner, self.clock(), self.lease, BATCH)
            if not ids:
                break
            for index, delivery_id in enumerate(ids):
                if stop is not None and stop.is_set():
                    claims.release(self.engine, self.owner, ids[index:])
                    return made
                made += self.attempt(delivery_id)
        return made

    def attempt(self, delivery_id: int) -> int:
        """One attempt of a claimed delivery (0 when its lease was lost meanwhile)."""
        if not claims.renew(self.engine, self.owner, delivery_id, self.clock(), self.lease):
            return 0
        with self.sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
            if endpoint is None:  # deleted with its endpoint meanwhile
                return 0
            event = session.get(WebhookEvent, delivery.event_id)
            url, keys = endpoint.url, signing.signing_secrets(endpoint, utcnow())
            msg_id, body, attempts = event.msg_id, dumps(event.payload), delivery.attempts
        headers = signing.headers(keys, msg_id, datetime.now(UTC), body)
        try:
            result = self.post(
                url,
                body.encode(),
                headers,
                connect_timeout=float(self.config.get("WEBHOOK_CONNECT_TIMEOUT", 3)),
                read_timeout=float(self.config.get("WEBHOOK_READ_TIMEOUT", 5)),
                allow_private=bool(self.config.get("WEBHOOK_ALLOW_PRIVATE", False)),
            )
        except Exception as exc:  # a bug must cost one attempt, not a stuck lease
            log.exception("webhook delivery %s: the request failed unexpectedly", delivery_id)
            result = transport.Attempt(None, f"{type(exc).__name__}: {exc}"[:500])
        self.record(delivery_id, attempts + 1, result)
        return 1

    def record(self, delivery_id: int, attempts: int, result: transport.Attempt) -> None:
        now = self.clock()
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": result.status,
            "last_error": result.error,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if result.ok:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        else:
            when = next_attempt(attempts, self.schedule, now)
            values.update(status="pending" if when else "failed", next_attempt_at=when)
        C = WebhookDelivery.__table__.c
        stmt = (
            update(WebhookDelivery.__table__)
            .where(C.id == delivery_id, C.lease_owner == self.owner, C.status == "pending")
            .values(**values)
        )
        with self.engine.begin() as conn:
            written = conn.execute(stmt).rowcount
        level = logging.INFO if result.ok else logging.WARNING
        log.log(
            level,
            "webhook delivery %s: %s",
            delivery_id,
            values["status"] if written else "lease lost; another worker has it",
            extra={
                "touchbase": {
                    "event": "webhook_attempt",
                    "delivery": delivery_id,
                    "attempt": attempts,
                    "status": values["status"],
                    "http_status": result.status,
                    "error": result.error,
                }
            },
        )


class DeliveryThread(threading.Thread):
    """Runs :meth:`DeliveryPass.run_due` every ``tick`` seconds beside the worker's send
    loop (a slow portal never holds up a send)."""

    def __init__(self, deliveries: DeliveryPass, tick: float = 2.0) -> None:
        super().__init__(name="touchbase-webhooks", daemon=True)
        self.deliveries = deliveries
        self.tick = tick
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.deliveries.run_due(self._stop_event)
            except Exception:  # the database is away: wait it out
                log.exception("webhook delivery failed; retrying in %.1fs", self.tick)
            self._stop_event.wait(self.tick)

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)


def start_beside(worker: Any, once: bool) -> DeliveryThread | None:
    """The delivery pass of a dispatch worker (its engine, config, clock and id): a thread
    beside its loop, or with ``once`` one pass before it. ``WEBHOOK_TICK_SECONDS`` 0: none."""
    tick = float(worker.config.get("WEBHOOK_TICK_SECONDS", 2) or 0)
    if tick <= 0:
        return None
    deliveries = DeliveryPass(
        worker.engine, worker.sessions, worker.config, worker.id, clock=worker.clock
    )
    if once:
        try:
            deliveries.run_due()
        except Exception:  # the database is away: the sends will say so too
            log.exception("webhook delivery failed")
        return None
    thread = DeliveryThread(deliveries, tick=tick)
    thread.start()
    return thread
