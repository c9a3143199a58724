"""What the worker's send-time work costs per touch, piece by piece, in one process.

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/send_time_parts.py            # N=1000

Seeds N due email touches in a scratch PostgreSQL database (``--url``, dropped and created,
dropped at the end), then times, with ``time.process_time`` (best of ``--repeat``), each
piece of the work the worker does for a touch apart from its protocol (lock, fence, record)
and the SMTP session, by the app's own functions:

- the batch's context load (``api.dispatch.context.load_contexts``, batches of 50);
- the freshness and daily-cap query (``fence_facts``, one statement per touch; the CPU on
  this side of it only);
- the policy re-check (``ledger.recheck`` with the batch's facts);
- the message check (``SendContext.check_message``);
- the message and its MIME form (``build_message``, ``build_email``, ``email_bytes``).

One process, the database otherwise idle: the figures are the work's own cost, without
the price of sharing two vCPUs with other workers, PostgreSQL and the sink (see
README.md). ``dispatch_bench.py``'s checked protocol floor measures the same work under
load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_bench import drop_database, scratch_database, worker_env  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

BATCH = 50


def per_touch_ms(work: Callable[[], None], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best / count * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="due touches (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each piece; best counts")
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "TOUCHBASE_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/touchbase_parts"
        ),
        help="PostgreSQL URL; its database is dropped and created",
    )
    args = parser.parse_args(argv)

    from api import ledger, migrate
    from api.app import create_app
    from api.db import make_engine
    from api.dispatch.context import fence_facts, load_contexts
    from api.dispatch.outgoing import build_message
    from api.models import Touch
    from channels import registry
    from channels.email import build_email, email_bytes
    from tests.dispatch.seeding import seed_due_touches

    url = scratch_database(args.url, make_url(args.url).database)
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        seeded = seed_due_touches(engine, args.n)
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="send-time-parts-") as tmp:
            os.environ.update(
                (k, v) for k, v in worker_env(url, Path(tmp)).items() if k.startswith("TOUCHBASE_")
            )
            app = create_app()
            with app.app_context():
                sessions = app.extensions["touchbase.sessionmaker"]
                with sessions() as session, session.begin():
                    touches = session.scalars(
                        select(Touch).where(Touch.id.in_(seeded.touch_ids)).order_by(Touch.id)
                    ).all()
                    channel = registry.get_channel("email")
                    contexts = {}
                    now = datetime.now(UTC)
                    count = len(touches)

                    def load():
                        for i in range(0, count, BATCH):
                            part = touches[i : i + BATCH]
                            contexts.update(
                                load_contexts(session, part, app.config, {"email": channel})
                            )

                    def facts():
                        for t in touches:
                            params = ledger.recheck_sends_params(t, contexts[t.id].contact, now)
                            fence_facts(session, t, params)

                    def recheck():
                        for t in touches:
                            ctx = contexts[t.id]
                            ledger.recheck(
                                session,
                                t,
                                now,
                                contact=ctx.contact,
                                application=ctx.application,
                                where=ctx.situation,
                                sends_today=0,
                            )

                    def check():
                        for t in touches:
                            contexts[t.id].check_message(t)

                    def build():
                        for t in touches:
                            ctx = contexts[t.id]
                            message = build_message(
                                session,
                                t,
                                ctx.contact,
                                ctx.parties.candidate,
                                channel.address_kind,
                                app.config,
                            )
                            email_bytes(build_email(message))

                    print(f"send-time work per touch, {count} touches, one process:")
                    total = 0.0
                    for name, work in (
                        (f"context load (batches of {BATCH})", load),
                        ("freshness and daily-cap query", facts),
                        ("policy re-check", recheck),
                        ("message check", check),
                        ("message and MIME build", build),
                    ):
                        ms = per_touch_ms(work, count, args.repeat)
                        total += ms
                        print(f"  {name:<34} {ms:6.3f} ms")
                    print(f"  {'total':<34} {total:6.3f} ms")
    finally:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
