"""Dispatch benchmark: W ``touchbase worker`` processes deliver N due email touches on
PostgreSQL to a loopback SMTP sink, compared with plain smtplib loops to the same sink.

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/dispatch_bench.py                 # N=10000, W=4, 1M rows
    .venv/bin/python tests/bench/dispatch_bench.py -n 2000 --ledger-rows 100000

It creates (and at the end drops) its own database ``touchbase_bench`` on the server of
``--url``. Figures printed, for a small ledger (the N touches) and again after adding
``--ledger-rows`` finished or far-future touches (default 1,000,000):

- dispatch: touches/s from the first 'sending' to the last 'sent' (DB timestamps, so
  process start-up is not counted), duplicates and losses counted by Message-ID at the
  sink, each worker's peak RSS and CPU seconds;
- the same N messages sent by a plain smtplib loop (one connection per message, as the
  email channel does; and one connection for all), and by the email channel alone in a
  loop, each just before and just after the workers; the faster of the two is the
  reference, and the ratios are taken against it;
- claim-only: W processes claiming batches (no sending) until nothing is due: claims/s
  and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
TOUCHBASE = str(Path(sys.executable).with_name("touchbase"))

SINK_CODE = r"""
import json, re, sys
from channels.testing_peers import SmtpPeer
MID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.I | re.M)
peer = SmtpPeer().start()
print(peer.port, flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "count":
        counts = {}
        for mail in list(peer.messages):
            m = MID.search(mail.data)
            key = m.group(1).decode() if m else "?"
            counts[key] = counts.get(key, 0) + 1
        print(json.dumps(counts), flush=True)
    elif cmd == "reset":
        peer.messages.clear()
        print("ok", flush=True)
"""


class Sink:
    """The loopback SMTP server (channels.testing_peers.SmtpPeer) in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SINK_CODE],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())

    def counts(self) -> Counter:
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return Counter(json.loads(self.proc.stdout.readline()))

    def reset(self) -> None:
        self.proc.stdin.write("reset\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def settings(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "security": "none", "timeout": 30.0}

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


# ------------------------------------------------------------------------ database


def scratch_database(url: str, name: str) -> str:
    admin = make_url(url).set(database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    engine.dispose()


# ------------------------------------------------------------------------ helpers


def worker_env(url: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TOUCHBASE_DATABASE_URL=url,
        TOUCHBASE_INSTANCE_DIR=str(tmp / "instance"),
        TOUCHBASE_OUTBOX_DIR=str(tmp / "outbox"),
        TOUCHBASE_SECRET_KEY="bench",
    )
    return env


def summaries(paths: list[Path]) -> list[dict]:
    found = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.startswith("{") and '"worker_stopped"' in line:
                found.append(json.loads(line))
    return found


def run_workers(url: str, tmp: Path, workers: int, batch: int, tag: str):
    env = worker_env(url, tmp)
    procs, paths = [], []
    for n in range(workers):
        path = tmp / f"{tag}-worker{n}.log"
        paths.append(path)
        with open(path, "wb") as log:
            procs.append(
                subprocess.Popen(
                    [TOUCHBASE, "worker", "--once", "--json-logs", "--batch", str(batch)],
                    cwd=tmp,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"a worker failed; see {paths}")
    return summaries(paths)


def dispatch_rate(engine, ids: list[int]) -> tuple[float, float]:
    from api.models import Touch, TouchEvent

    with engine.connect() as conn:
        first = conn.scalar(
            select(func.min(TouchEvent.at)).where(
                TouchEvent.touch_id.in_(ids), TouchEvent.kind == "sending"
            )
        )
        last = conn.scalar(select(func.max(Touch.sent_at)).where(Touch.id.in_(ids)))
    seconds = (last - first).total_seconds()
    return len(ids) / seconds, seconds


def status_counts(engine, ids: list[int]) -> Counter:
    from api.models import Touch

    with engine.connect() as conn:
        rows = conn.execute(
            select(Touch.status, func.count()).where(Touch.id.in_(ids)).group_by(Touch.status)
        ).all()
    return Counter(dict(rows))


def build_messages(engine, ids: list[int]) -> list[tuple[str, str, bytes, object]]:
    """The same N messages, built as the worker builds them (not timed)."""
    from sqlalchemy.orm import Session

    from api.dispatch.outgoing import build_message
    from api.models import Contact, Touch, User
    from channels.email import build_email, email_bytes

    out = []
    with Session(engine) as session:
        touches = session.scalars(select(Touch).where(Touch.id.in_(ids))).all()
        contacts = {c.id: c for c in session.scalars(select(Contact))}
        users = {u.id: u for u in session.scalars(select(User))}
        for touch in touches:
            contact = contacts[touch.contact_id]
            message = build_message(session, touch, contact, users[touch.candidate_id], "email", {})
            payload = email_bytes(build_email(message))
            out.append((message.from_address, message.to_address, payload, message))
        session.rollback()
    return out


def plain_loop_per_connection(sink: Sink, messages) -> float:
    started = time.perf_counter()
    for sender, to, payload, _ in messages:
        smtp = smtplib.SMTP("127.0.0.1", sink.port)
        smtp.sendmail(sender, [to], payload)
        smtp.quit()
    return len(messages) / (time.perf_counter() - started)


def plain_loop_one_connection(sink: Sink, messages) -> float:
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", sink.port)
    for sender, to, payload, _ in messages:
        smtp.sendmail(sender, [to], payload)
    smtp.quit()
    return len(messages) / (time.perf_counter() - started)


CHANNEL_LOOP = r"""
import json, pickle, sys, time
from channels.email import EmailChannel
messages = pickle.load(sys.stdin.buffer)
channel = EmailChannel()
settings = channel.load_settings(json.loads(sys.argv[1]))
started = time.perf_counter()
for message in messages:
    channel.send(message, settings)
print(len(messages) / (time.perf_counter() - started))
"""


def reference_loops(sink: Sink, messages, channel_sample: int, env: dict):
    """(plain per connection, plain one connection, channel loop) in messages per second."""
    sink.reset()
    plain = plain_loop_per_connection(sink, messages)
    sink.reset()
    reuse = plain_loop_one_connection(sink, messages)
    sink.reset()
    chan = channel_loop(sink, messages[: min(len(messages), channel_sample)], env)
    sink.reset()
    return plain, reuse, chan


def channel_loop(sink: Sink, messages, env: dict) -> float:
    """The email channel alone (build + SMTP session per message), in its own process."""
    import pickle

    data = pickle.dumps([m for *_, m in messages])
    proc = subprocess.run(
        [sys.executable, "-c", CHANNEL_LOOP, json.dumps(sink.settings())],
        input=data,
        capture_output=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    return float(proc.stdout.decode().strip())


CLAIMER = r"""
import json, sys, time
from datetime import timedelta
from api.db import make_engine
from api.dispatch import claim
from api.dispatch.worker import peak_rss_kb
from api.models import utcnow
url, batch, start_at, owner = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
engine = make_engine(url)
with engine.connect() as conn:
    conn.exec_driver_sql("SELECT 1")
while time.time() < start_at:
    time.sleep(0.001)
claimed, started = 0, time.perf_counter()
while True:
    ids = claim.claim(engine, owner, utcnow(), timedelta(minutes=10), batch)
    if not ids:
        break
    claimed += len(ids)
elapsed = time.perf_counter() - started
print(json.dumps({"claimed": claimed, "elapsed": elapsed, "peak_rss_kb": peak_rss_kb()}))
"""


def claim_only(url: str, engine, ids: list[int], workers: int, batch: int) -> dict:
    start_at = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, url, str(batch), str(start_at), f"claimer{n}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    results = [json.loads(p.communicate()[0]) for p in procs]
    from api.models import Touch

    with engine.begin() as conn:  # give the claims back: the touches are due again
        conn.execute(
            update(Touch).where(Touch.id.in_(ids)).values(lease_owner=None, lease_expires_at=None)
        )
    claimed = sum(r["claimed"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    return {
        "claimed": claimed,
        "rate": claimed / elapsed,
        "peak_rss_kb": max(r["peak_rss_kb"] for r in results),
    }


# ------------------------------------------------------------------------ the run


def one_round(label, url, engine, sink, args, tmp) -> dict:
    from tests.dispatch.seeding import seed_due_touches

    sink.reset()
    seeded = seed_due_touches(engine, args.n, email_settings=sink.settings())
    ids = seeded.touch_ids
    with engine.connect() as conn:
        rows = conn.scalar(text("SELECT count(*) FROM touches"))
    print(f"\n== {label}: {args.n} due touches, {rows:,} touches in the table", flush=True)

    claims = claim_only(url, engine, ids, args.workers, args.batch)
    print(
        f"claim-only    {claims['rate']:>9,.0f} claims/s  ({claims['claimed']} claimed by "
        f"{args.workers} processes, batch {args.batch}; peak RSS "
        f"{claims['peak_rss_kb'] / 1024:.0f} MiB)",
        flush=True,
    )

    messages = build_messages(engine, ids)
    env = worker_env(url, tmp)
    before = reference_loops(sink, messages, args.channel_sample, env)

    wall = time.perf_counter()
    stats = run_workers(url, tmp, args.workers, args.batch, label)
    wall = time.perf_counter() - wall
    rate, seconds = dispatch_rate(engine, ids)
    counts = sink.counts()
    expected = set(seeded.message_ids.values())
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(expected - set(counts))
    statuses = status_counts(engine, ids)
    rss = [s["peak_rss_kb"] / 1024 for s in stats]
    cpu = sum(s["cpu_s"] for s in stats)
    print(
        f"dispatch      {rate:>9,.1f} touches/s ({args.n} in {seconds:.1f}s; "
        f"{wall:.1f}s with start-up)",
        flush=True,
    )
    print(f"  statuses {dict(statuses)}; duplicates {duplicates}; losses {lost}")
    print(
        f"  workers: peak RSS {', '.join(f'{r:.0f}' for r in rss)} MiB; "
        f"CPU {cpu:.1f}s = {cpu / args.n * 1000:.1f} ms/touch; "
        f"sent per worker {[s['outcomes'].get('sent', 0) for s in stats]}",
        flush=True,
    )

    sink.reset()
    after = reference_loops(sink, messages, args.channel_sample, env)
    # The references run just before and just after the workers, and the faster of the
    # two counts: on a shared machine the speed drifts, and the ratio must not gain by it.
    plain, reuse, chan = (max(pair) for pair in zip(before, after, strict=True))
    for name, i, what in (
        ("plain smtplib", 0, "one connection per message"),
        ("plain smtplib", 1, "one connection for all"),
        ("email channel", 2, f"channel.send in a loop, {min(len(messages), args.channel_sample)}"),
    ):
        print(
            f"{name} {max(before[i], after[i]):>9,.1f} msg/s ({what}; "
            f"{before[i]:,.1f} before the workers, {after[i]:,.1f} after)"
        )
    print(
        f"ratio         dispatch/plain {rate / plain:.2f} (per connection), "
        f"{rate / reuse:.2f} (one connection); dispatch/channel loop {rate / chan:.2f}",
        flush=True,
    )
    return {
        "label": label,
        "rows": rows,
        "dispatch_per_s": rate,
        "plain_per_connection_per_s": plain,
        "plain_one_connection_per_s": reuse,
        "channel_loop_per_s": chan,
        "references_before": before,
        "references_after": after,
        "duplicates": duplicates,
        "losses": lost,
        "statuses": dict(statuses),
        "claim_only_per_s": claims["rate"],
        "worker_peak_rss_mib": rss,
        "claimer_peak_rss_mib": claims["peak_rss_kb"] / 1024,
        "worker_cpu_ms_per_touch": cpu / args.n * 1000,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="due touches (default 10000)")
    parser.add_argument("-w", "--workers", type=int, default=4, help="worker processes")
    parser.add_argument("--batch", type=int, default=50, help="claim batch size")
    parser.add_argument(
        "--ledger-rows", type=int, default=1_000_000, help="rows added for the big round (0: skip)"
    )
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "TOUCHBASE_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/touchbase_bench"
        ),
        help="PostgreSQL URL; its database is dropped and created",
    )
    parser.add_argument("--channel-sample", type=int, default=2000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args(argv)

    from api import migrate
    from api.db import make_engine
    from tests.dispatch.seeding import fill_ledger

    url = scratch_database(args.url, make_url(args.url).database)
    migrate.upgrade(url)
    engine = make_engine(url)
    sink = Sink()
    results = []
    print(
        f"dispatch bench: N={args.n} W={args.workers} batch={args.batch} "
        f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as tmp:
            results.append(one_round("small table", url, engine, sink, args, Path(tmp)))
            if args.ledger_rows:
                started = time.perf_counter()
                fill_ledger(engine, args.ledger_rows)
                print(
                    f"\n(added {args.ledger_rows:,} finished/far-future touches in "
                    f"{time.perf_counter() - started:.1f}s)",
                    flush=True,
                )
                results.append(one_round("big table", url, engine, sink, args, Path(tmp)))
    finally:
        sink.close()
        engine.dispose()
        if not args.keep_db:
            drop_database(url)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print("\nload average at the end:", ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
