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
  and peak RSS;
- where the CPU goes (Linux, PostgreSQL on this machine): per touch for the workers,
  PostgreSQL, the sink and the whole machine, and per message for the plain loop;
- the protocol floor: W processes doing the worker's protocol and nothing else (claim;
  per touch lock, write the previous answer, fence, commit, one SMTP session) on N fresh
  touches, with raw psycopg and prebuilt messages: what the exactly-once protocol costs
  here, apart from the worker's re-checks, message check, message building and ORM;
  then the same protocol with the send-time work the worker must do, by the app's own
  functions (context load, freshness and daily-cap query, policy re-check, message
  check, message build, the email channel's send): what any worker doing that work could
  reach here (``--no-floor`` skips both).
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


# ------------------------------------------------------------------------ CPU accounting
#
# Where the CPU goes, per touch and per message, read from /proc (Linux, with PostgreSQL on
# this machine; elsewhere the figures are left out). On a machine this small everything
# shares the same cores, so these figures say what bounds each throughput.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int | str) -> tuple[str, list[str]] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of one live process."""
    found = _stat_fields(pid)
    return None if found is None else (int(found[1][11]) + int(found[1][12])) / CLOCK_TICKS


def postgres_cpu() -> float | None:
    """CPU seconds of the local PostgreSQL server's processes, exited backends included
    (their time is added to the postmaster's children's time when it reaps them)."""
    procs = {}
    for entry in Path("/proc").iterdir() if Path("/proc/stat").exists() else ():
        if entry.name.isdigit():
            found = _stat_fields(entry.name)
            if found is not None and found[0] == "postgres":
                procs[entry.name] = found[1]
    if not procs:
        return None
    ticks = 0
    for fields in procs.values():
        ticks += int(fields[11]) + int(fields[12])
        if fields[1] not in procs:  # the postmaster: add its reaped children
            ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def machine_cpu() -> tuple[float, float] | None:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS, idle / CLOCK_TICKS


def cpu_snapshot(sink: Sink) -> dict:
    return {
        "sink": process_cpu(sink.proc.pid),
        "postgres": postgres_cpu(),
        "machine": machine_cpu(),
        "self": time.process_time(),
    }


def cpu_per_item(before: dict, after: dict, items: int) -> dict:
    """Milliseconds of CPU per item between two snapshots (None where unknown)."""

    def ms(key):
        if before[key] is None or after[key] is None:
            return None
        return (after[key] - before[key]) * 1000 / items

    out = {key: ms(key) for key in ("sink", "postgres", "self")}
    if before["machine"] and after["machine"]:
        busy = after["machine"][0] - before["machine"][0]
        idle = after["machine"][1] - before["machine"][1]
        out["machine_busy"] = busy * 1000 / items
        out["machine_idle_share"] = idle / (busy + idle) if busy + idle else None
    else:
        out["machine_busy"] = out["machine_idle_share"] = None
    return out


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


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
    """Each worker's last log line, plus ``startup_cpu_s`` from its first."""
    found = []
    for path in paths:
        startup = 0.0
        for line in path.read_text().splitlines():
            if not line.startswith("{"):
                continue
            if '"worker_started"' in line:
                startup = json.loads(line).get("cpu_s") or 0.0
            elif '"worker_stopped"' in line:
                found.append({**json.loads(line), "startup_cpu_s": startup})
    return found


#: ``touchbase worker`` with every database connection traced by libpq (``PQtrace``) into
#: a file of its own under argv[1]: each ``ReadyForQuery`` the server sends ends one round
#: trip (a statement, a BEGIN, a COMMIT, a pool ping), each ``Bind``/``Query`` the client
#: sends is one statement (prepared ones send no Parse).
TRACED_WORKER = r"""
import itertools, os, sys
from sqlalchemy import event
from sqlalchemy.pool import Pool
trace_dir, sys.argv = sys.argv[1], ["touchbase", *sys.argv[2:]]
numbers, files = itertools.count(), []

@event.listens_for(Pool, "connect")
def _trace(dbapi_conn, _record):
    path = os.path.join(trace_dir, f"{os.getpid()}-{next(numbers)}.trace")
    handle = open(path, "w")
    files.append(handle)  # kept open for the connection's life
    dbapi_conn.pgconn.trace(handle.fileno())

from api.cli import main
sys.exit(main())
"""


def round_trips(trace_dir: Path) -> tuple[int, int]:
    """(round trips, statements) in the libpq traces of ``TRACED_WORKER``."""
    trips = statements = 0
    for path in trace_dir.glob("*.trace"):
        for line in path.read_text(errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) < 4:
                continue
            if fields[1] == "B" and fields[3] == "ReadyForQuery":
                trips += 1
            elif fields[1] == "F" and fields[3] in ("Bind", "Query"):
                statements += 1
    return trips, statements


def worker_command(batch: int, fence_batch: int, trace_dir: Path | None) -> list[str]:
    args = ["worker", "--once", "--json-logs", "--batch", str(batch)]
    if fence_batch > 1:
        args += ["--fence-batch", str(fence_batch)]
    if trace_dir is None:
        return [TOUCHBASE, *args]
    return [sys.executable, "-c", TRACED_WORKER, str(trace_dir), *args]


def run_workers(
    url: str,
    tmp: Path,
    workers: int,
    batch: int,
    tag: str,
    fence_batch: int = 1,
    trace_dir: Path | None = None,
):
    env = worker_env(url, tmp)
    procs, paths = [], []
    for n in range(workers):
        path = tmp / f"{tag}-worker{n}.log"
        paths.append(path)
        with open(path, "wb") as log:
            procs.append(
                subprocess.Popen(
                    worker_command(batch, fence_batch, trace_dir),
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


def delivery_faults(counts: Counter, message_ids) -> tuple[int, int]:
    """(duplicates, losses) at the sink: extra copies of a Message-ID, and expected
    Message-IDs it never received."""
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    return duplicates, len(set(message_ids) - set(counts))


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


def reference_loops(sink: Sink, messages, channel_sample: int, env: dict, cpu: list):
    """(plain per connection, plain one connection, channel loop) in messages per second.
    Appends the per-connection loop's CPU per message to ``cpu``."""
    sink.reset()
    before = cpu_snapshot(sink)
    plain = plain_loop_per_connection(sink, messages)
    cpu.append((plain, cpu_per_item(before, cpu_snapshot(sink), len(messages))))
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


FLOOR_WORKER = r"""
import json, pickle, smtplib, sys, time
from datetime import timedelta
url, port, payload_file, owner, batch, mode = sys.argv[1:7]
checked = mode == "checked"
if checked:  # the app's own code for the send-time work (env: the worker's)
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from api import ledger, preflight
    from api.app import create_app
    from api.dispatch.context import fence_facts, load_contexts
    from api.dispatch.outgoing import build_message
    from api.models import Touch
    from channels import registry
    app = create_app()
    app.app_context().push()
    engine = app.extensions["touchbase.engine"]
else:
    from api.db import make_engine
    engine = make_engine(url)
    payloads = pickle.load(open(payload_file, "rb"))
from api.dispatch import claim
from api.models import utcnow
sa = engine.connect()
conn = sa.connection.driver_connection  # raw psycopg; SQLAlchemy only where the app's code is
LOCK = ("SELECT id FROM touches WHERE id = ANY(%s) AND lease_owner = %s "
        "ORDER BY id FOR UPDATE")
FENCE = ("UPDATE touches SET status = 'sending', attempts = attempts + 1, "
         "updated_at = now() WHERE id = %s")
SENT = ("UPDATE touches SET status = 'sent', sent_at = now(), provider_id = %s, "
        "lease_owner = NULL, lease_expires_at = NULL, updated_at = now() WHERE id = %s")
EVENT = ("INSERT INTO touch_events (touch_id, kind, at, actor, data) "
         "VALUES (%s, %s, now(), 'floor', '{}')")


def send_time_work(session, touch, ctx):
    # what the worker must do for a touch before its fence, apart from the protocol: the
    # freshness and daily-cap query, the policy re-check, the message check, the message
    # build (the channel's send comes after the fence)
    now = utcnow()
    _, sends = fence_facts(session, touch, ledger.recheck_sends_params(touch, ctx.contact, now))
    decision = ledger.recheck(session, touch, now, contact=ctx.contact,
                              application=ctx.application, where=ctx.situation,
                              sends_today=sends)
    if not decision.allowed or preflight.blocking(ctx.check_message(touch)):
        raise SystemExit(f"touch {touch.id} does not pass at send time: the bench is wrong")
    channel = registry.get_channel(touch.channel)
    message = build_message(session, touch, ctx.contact, ctx.parties.candidate,
                            channel.address_kind, app.config)
    return channel, message, ctx.channel_settings


started = time.process_time()
while ids := claim.claim(engine, owner, utcnow(), timedelta(minutes=5), int(batch)):
    if checked:  # the batch's send-time facts, as the worker loads them
        with Session(engine, expire_on_commit=False) as session, session.begin():
            touches = session.scalars(select(Touch).where(Touch.id.in_(ids))).all()
            channels = {name: registry.get_channel(name) for name in {t.channel for t in touches}}
            contexts = load_contexts(session, touches, app.config, channels)
        touches = {t.id: t for t in touches}
    waiting = None
    for touch_id in [*ids, None]:
        with sa.begin():  # answer for the previous touch + fence of this one
            cur = conn.cursor()
            mine = [t for t in (waiting, touch_id) if t is not None]
            cur.execute(LOCK, (mine, owner), prepare=True).fetchall()
            if waiting is not None:
                cur.execute(SENT, (provider_id, waiting), prepare=True)
                cur.execute(EVENT, (waiting, "sent"), prepare=True)
            if touch_id is not None:
                if checked:
                    with Session(bind=sa) as session:
                        work = send_time_work(session, touches[touch_id], contexts[touch_id])
                cur.execute(FENCE, (touch_id,), prepare=True)
                cur.execute(EVENT, (touch_id, "sending"), prepare=True)
        if touch_id is None:
            break
        if checked:
            result = work[0].send(work[1], work[2])
            provider_id = (result.provider_id or "")[:64] or None  # the column's size
        else:
            sender, to, payload, provider_id = payloads[touch_id]
            smtp = smtplib.SMTP("127.0.0.1", int(port))
            smtp.sendmail(sender, [to], payload)
            smtp.quit()
        waiting = touch_id
print(json.dumps({"cpu_s": time.process_time() - started}))
"""


def protocol_floor(url: str, engine, sink: Sink, args, tmp: Path, mode: str = "bare") -> dict:
    """The worker's protocol on N fresh due touches: claim a batch; per touch one
    transaction (lock, write the previous answer, fence) then one SMTP session, as the
    worker pipelines them; raw psycopg.

    ``bare``: messages built beforehand, nothing else: what any worker keeping the
    exactly-once protocol could reach here. ``checked``: the same, plus the send-time work
    the worker must do, with the app's own functions: the batch's context load, per touch
    the freshness and daily-cap query, the policy re-check, the message check, the
    message build, and the email channel's ``send``; still no ORM unit of work, no
    logging, no error handling. The distance from it to the dispatch figure is what the
    worker's own machinery costs."""
    import pickle

    from tests.dispatch.seeding import seed_due_touches

    sink.reset()
    seeded = seed_due_touches(engine, args.n, email_settings=sink.settings())
    payload_file = tmp / "floor-payloads.pickle"
    if mode == "bare":
        touch_of = {mid: tid for tid, mid in seeded.message_ids.items()}
        payloads = {
            touch_of[m.message_id]: (sender, to, payload, m.message_id[:64])
            for sender, to, payload, m in build_messages(engine, seeded.touch_ids)
        }
        payload_file.write_bytes(pickle.dumps(payloads))
    before = cpu_snapshot(sink)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                FLOOR_WORKER,
                url,
                str(sink.port),
                str(payload_file),
                f"floor{n}",
                str(args.batch),
                mode,
            ],
            cwd=ROOT,
            env=worker_env(url, tmp),
            stdout=subprocess.PIPE,
        )
        for n in range(args.workers)
    ]
    outs = [json.loads(proc.communicate()[0]) for proc in procs]
    if any(proc.returncode for proc in procs):
        raise SystemExit(f"a floor worker ({mode}) failed")
    cpu = cpu_per_item(before, cpu_snapshot(sink), args.n)
    cpu["workers"] = sum(out["cpu_s"] for out in outs) * 1000 / args.n
    rate, _ = dispatch_rate(engine, seeded.touch_ids)
    duplicates, losses = delivery_faults(sink.counts(), seeded.message_ids.values())
    statuses = status_counts(engine, seeded.touch_ids)
    if statuses != Counter(sent=args.n):
        raise SystemExit(f"the floor ({mode}) left touches unsent: {dict(statuses)}")
    sink.reset()
    return {
        "rate": rate,
        "duplicates": duplicates,
        "losses": losses,
        "cpu": cpu,
    }


def dispatch_mode(label, url, engine, sink, args, tmp, seeded, fence_batch: int) -> dict:
    """W workers deliver the seeded touches, ``fence_batch`` touches per fence."""
    ids = seeded.touch_ids
    wall = time.perf_counter()
    cpu_before = cpu_snapshot(sink)
    stats = run_workers(url, tmp, args.workers, args.batch, f"{label}-{fence_batch}", fence_batch)
    dispatch_cpu = cpu_per_item(cpu_before, cpu_snapshot(sink), args.n)
    wall = time.perf_counter() - wall
    rate, seconds = dispatch_rate(engine, ids)
    duplicates, lost = delivery_faults(sink.counts(), seeded.message_ids.values())
    statuses = status_counts(engine, ids)
    rss = [s["peak_rss_kb"] / 1024 for s in stats]
    cpu = sum(s["cpu_s"] for s in stats)
    startup = sum(s["startup_cpu_s"] for s in stats)
    dispatch_cpu["workers"] = (cpu - startup) * 1000 / args.n
    print(
        f"dispatch      {rate:>9,.1f} touches/s, fence batch {fence_batch} "
        f"({args.n} in {seconds:.1f}s; {wall:.1f}s with start-up)",
        flush=True,
    )
    print(f"  statuses {dict(statuses)}; duplicates {duplicates}; losses {lost}")
    print(
        f"  workers: peak RSS {', '.join(f'{r:.0f}' for r in rss)} MiB; "
        f"CPU {cpu:.1f}s (start-up {startup:.1f}s of it); "
        f"sent per worker {[s['outcomes'].get('sent', 0) for s in stats]}",
        flush=True,
    )
    print(
        f"  CPU per touch: workers {fmt_ms(dispatch_cpu['workers'])} (start-up not counted), "
        f"PostgreSQL {fmt_ms(dispatch_cpu['postgres'])}, sink {fmt_ms(dispatch_cpu['sink'])}; "
        f"machine busy {fmt_ms(dispatch_cpu['machine_busy'])} "
        f"({os.cpu_count()} CPUs, {_share(dispatch_cpu['machine_idle_share'])} idle)",
        flush=True,
    )
    sink.reset()
    return {
        "rate": rate,
        "duplicates": duplicates,
        "losses": lost,
        "statuses": dict(statuses),
        "rss": rss,
        "worker_cpu_ms_per_touch": cpu / args.n * 1000,
        "cpu_ms_per_touch": dispatch_cpu,
    }


def trip_count(url, engine, sink, args, tmp, fence_batch: int) -> dict:
    """Database round trips per touch: W traced workers deliver ``--trip-n`` fresh touches
    (not timed: tracing costs)."""
    from tests.dispatch.seeding import seed_due_touches

    sink.reset()
    seeded = seed_due_touches(engine, args.trip_n, email_settings=sink.settings())
    trace_dir = Path(tempfile.mkdtemp(prefix=f"trips-{fence_batch}-", dir=tmp))
    run_workers(url, tmp, args.workers, args.batch, f"trips-{fence_batch}", fence_batch, trace_dir)
    statuses = status_counts(engine, seeded.touch_ids)
    if statuses != Counter(sent=args.trip_n):
        raise SystemExit(f"the traced workers left touches unsent: {dict(statuses)}")
    trips, statements = round_trips(trace_dir)
    sink.reset()
    return {
        "round_trips_per_touch": trips / args.trip_n,
        "statements_per_touch": statements / args.trip_n,
    }


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
    plain_cpu: list = []
    before = reference_loops(sink, messages, args.channel_sample, env, plain_cpu)

    modes = {}
    for n_mode, fence_batch in enumerate(args.fence_batches):
        if n_mode:  # each mode delivers N fresh touches
            sink.reset()
            seeded = seed_due_touches(engine, args.n, email_settings=sink.settings())
        modes[fence_batch] = dispatch_mode(label, url, engine, sink, args, tmp, seeded, fence_batch)
    trips = {}
    if args.trip_n:
        for fence_batch in args.fence_batches:
            trips[fence_batch] = trip_count(url, engine, sink, args, tmp, fence_batch)
            print(
                f"round trips   fence batch {fence_batch}: "
                f"{trips[fence_batch]['round_trips_per_touch']:.2f} per touch, "
                f"{trips[fence_batch]['statements_per_touch']:.2f} statements per touch "
                f"(libpq traces of {args.workers} workers over {args.trip_n} touches, "
                "claims, context loads, heartbeats and reaper included)",
                flush=True,
            )
    sink.reset()
    after = reference_loops(sink, messages, args.channel_sample, env, plain_cpu)
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
    # CPU of the plain loop's faster run: client (this process), sink, machine
    plain_used = max(plain_cpu, key=lambda pair: pair[0])[1]
    print(
        f"  plain loop CPU per message: client {fmt_ms(plain_used['self'])}, "
        f"sink {fmt_ms(plain_used['sink'])}; machine busy {fmt_ms(plain_used['machine_busy'])}"
    )
    for fence_batch, mode in modes.items():
        rate = mode["rate"]
        print(
            f"ratio         fence batch {fence_batch}: dispatch/plain {rate / plain:.2f} "
            f"(per connection), {rate / reuse:.2f} (one connection); "
            f"dispatch/channel loop {rate / chan:.2f}",
            flush=True,
        )
    rate = modes[args.fence_batches[0]]["rate"]
    floors = {}
    if args.floor:
        for mode, what in (
            ("bare", "fence, send, record alone"),
            ("checked", "the same + the send-time work"),
        ):
            floor = floors[mode] = protocol_floor(url, engine, sink, args, tmp, mode)
            fc = floor["cpu"]
            print(
                f"protocol floor, {mode:<7} {floor['rate']:>8,.1f} touches/s ({what}; "
                f"duplicates {floor['duplicates']}, losses {floor['losses']}): "
                f"/plain {floor['rate'] / plain:.2f}, dispatch/it {rate / floor['rate']:.2f}"
                f"\n  CPU per touch: floor workers {fmt_ms(fc['workers'])}, "
                f"PostgreSQL {fmt_ms(fc['postgres'])}, sink {fmt_ms(fc['sink'])}; "
                f"machine busy {fmt_ms(fc['machine_busy'])}",
                flush=True,
            )
    first = modes[args.fence_batches[0]]
    return {
        "label": label,
        "rows": rows,
        "modes": {str(k): v for k, v in modes.items()},
        "round_trips": {str(k): v for k, v in trips.items()},
        "dispatch_per_s": rate,
        "plain_per_connection_per_s": plain,
        "plain_one_connection_per_s": reuse,
        "channel_loop_per_s": chan,
        "references_before": before,
        "references_after": after,
        "duplicates": first["duplicates"],
        "losses": first["losses"],
        "statuses": first["statuses"],
        "claim_only_per_s": claims["rate"],
        "worker_peak_rss_mib": first["rss"],
        "claimer_peak_rss_mib": claims["peak_rss_kb"] / 1024,
        "plain_cpu_ms_per_message": plain_used,
        "protocol_floor": floors.get("bare"),
        "protocol_floor_checked": floors.get("checked"),
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
    parser.add_argument(
        "--fence-batches",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 50],
        help="the workers' --fence-batch values to run, one dispatch each (default 1,50)",
    )
    parser.add_argument(
        "--trip-n",
        type=int,
        default=500,
        help="touches of the traced pass counting round trips per touch (0: skip)",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the protocol floors (bare, and checked with the send-time work)",
    )
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
