"""What outbound webhooks cost: writing the outbox with the change, and delivering.

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/webhook_bench.py                   # SQLite, temp file
    .venv/bin/python tests/bench/webhook_bench.py -n 2000 --database-url postgresql+psycopg://...

The PostgreSQL database named is emptied (its public schema dropped) first.

- ``commit``: one touch event per transaction, as the worker writes them, with no endpoint
  (the outbox's one small query) and with one endpoint hearing every type (an event row and
  a delivery row more): the median and p90 in ms;
- ``deliver``: one :class:`DeliveryPass` draining the backlog to a loopback receiver that
  answers 204: deliveries per second (sign, POST, write down).

Only loopback addresses are contacted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from api import create_app, ledger, migrate  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.models import (  # noqa: E402
    Application,
    Contact,
    Organization,
    Touch,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from api.models.webhooks import WEBHOOK_EVENT_TYPES  # noqa: E402
from api.webhooks.delivery import DeliveryPass  # noqa: E402
from api.webhooks.signing import new_secret  # noqa: E402


class _Quiet(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


def _fresh_schema(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def _touches(session, n: int) -> list[Touch]:
    org = Organization(name="Bench office")
    session.add(org)
    session.flush()
    candidate = User(org_id=org.id, email="c@example.org", name="C", role="candidate")
    session.add(candidate)
    session.flush()
    contact = Contact(org_id=org.id, candidate_id=candidate.id, name="Dana", email="d@x.example")
    application = Application(
        org_id=org.id, candidate_id=candidate.id, company="Acme", position="Engineer"
    )
    session.add_all([contact, application])
    session.flush()
    at = datetime(2030, 6, 4, 13, 0, tzinfo=UTC)
    touches = [
        Touch(
            org_id=org.id,
            candidate_id=candidate.id,
            contact_id=contact.id,
            application_id=application.id,
            step="thank_you",
            channel="email",
            status="scheduled",
            scheduled_for=at,
        )
        for _ in range(n)
    ]
    session.add_all(touches)
    session.commit()
    return touches


def _commits(session, touches: list[Touch]) -> list[float]:
    times = []
    for touch in touches:
        started = time.perf_counter()
        ledger.record_event(session, touch, "scheduled", "bench")
        session.commit()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _show(name: str, times: list[float]) -> None:
    p90 = statistics.quantiles(times, n=10)[-1]
    print(f"{name:28s} median {statistics.median(times):6.2f} ms   p90 {p90:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000, help="events (default 1000)")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    _fresh_schema(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WEBHOOK_ALLOW_PRIVATE": True})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sessions = app.extensions["touchbase.sessionmaker"]
    with sessions() as session:
        touches = _touches(session, 2 * args.n)
        _show("commit, no endpoint", _commits(session, touches[: args.n]))
        session.add(
            WebhookEndpoint(
                org_id=touches[0].org_id,
                url=f"http://127.0.0.1:{server.server_address[1]}/hook",
                event_types=list(WEBHOOK_EVENT_TYPES),
                secret=new_secret(),
            )
        )
        session.commit()
        _show("commit, one endpoint", _commits(session, touches[args.n :]))
    deliveries = DeliveryPass(
        app.extensions["touchbase.engine"], sessions, app.config, "bench-worker"
    )
    started = time.perf_counter()
    made = deliveries.run_due()
    seconds = time.perf_counter() - started
    with sessions() as session:
        done = session.scalar(select(func.count()).where(WebhookDelivery.status == "delivered"))
    print(f"deliver: {made} attempts, {done} delivered in {seconds:.2f} s "
          f"= {done / seconds:.0f}/s")  # fmt: skip
    server.shutdown()


if __name__ == "__main__":
    main()
