"""Soak: many portal clients against two API processes and two workers on PostgreSQL.

    .venv/bin/python tests/bench/soak_bench.py --database-url URL [--clients 50] [--seconds 600]

The database's `public` schema is dropped and recreated: give it a test database only.
Set-up is done the way an office would: `touchbase db upgrade`, `touchbase bootstrap`, then
the API (an open send window, the email channel pointed at a loopback SMTP sink, three
candidates with a token each per client: a portal serves many candidates, and one alone
would reach the daily cap of 100 sends within the run). Then two `touchbase serve
--no-worker` processes and two `touchbase worker` processes run while each client loops:
apply to a new company every third round (a panel of three), as the next of its
candidates, record a contact and an interview with them, plan it (the thank-you is due
at once, so the workers send it), read the calendar and the budget, and, every other
round, record the contact's reply (which cancels the rest of their sequence, R8). A short
pause between requests stands for the portal's user.

It prints requests, errors, latency per window (p50/p99), the RSS of every process after
warm-up and at the end, and what the sink received; and exits 1 unless: no errors (every
answer is the status its request should get), the last window's p99 is within 1.5x of the
first's, every process's RSS grew by less than 15% + 8 MiB after warm-up, and no message
reached the sink twice.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from channels.testing_peers import SmtpPeer  # noqa: E402
from tests.dispatch.conftest import TOUCHBASE, no_tls_env, start_worker, worker_env  # noqa: E402
from tests.dispatch.seeding import OPEN_POLICY, midday_zone  # noqa: E402
from tests.faults.harness import (  # noqa: E402
    cpu_seconds,
    machine_busy_seconds,
    percentile,
    postgres_cpu_seconds,
    rss_kib,
    start_api,
    stop,
)

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
P99_RATIO_LIMIT = 1.5
#: Interviewers per application: a job search has many applications with small panels.
PANEL = 3
#: Candidates each client acts for, in turn, one application each.
CANDIDATES_PER_CLIENT = 3


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def setup(url: str, tmp: Path, base: str, sink: SmtpPeer, clients: int) -> list[str]:
    """Migrate and bootstrap with the CLI, then configure through the API; the candidates'
    tokens, CANDIDATES_PER_CLIENT for each client."""
    env = worker_env(url, tmp)
    subprocess.run([TOUCHBASE, "db", "upgrade"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [TOUCHBASE, "bootstrap", "--org", "Soak office", "--email", "admin@soak.example"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    admin = re.search(r"(tb_\S+)", out).group(1)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {admin}"

    def must(response, status):
        if response.status_code != status:
            raise SystemExit(f"set-up failed: {response.request.url} {response.text}")
        return response.json() if response.content else None

    # Planned touches go out as soon as due: the soak measures the workers too.
    policy = {**OPEN_POLICY, "daily_cap": 100, "approval": "auto"}
    must(http.put(base + "/v1/policy", json=policy), 200)
    must(http.put(base + "/v1/channels/email/settings", json=sink.settings()), 200)
    tokens = []
    for n in range(clients * CANDIDATES_PER_CLIENT):
        user = must(
            http.post(
                base + "/v1/users",
                json={
                    "email": f"cand{n}@soak.example",
                    "name": f"Ana Silva {n}",
                    "role": "candidate",
                },
            ),
            201,
        )
        token = must(
            http.post(base + "/v1/tokens", json={"name": "portal", "user_id": user["id"]}), 201
        )
        tokens.append(token["token"])
    return tokens


class Portal(threading.Thread):
    """One portal user: a candidate following up their interviews, in a loop."""

    def __init__(self, n: int, bases: list[str], tokens: list[str], think: float, until: float):
        super().__init__(daemon=True)
        self.n, self.bases, self.think, self.until = n, bases, think, until
        self.tokens = tokens
        self.http = requests.Session()
        self.answers: list[tuple[float, float, str, int, int]] = []  # at, seconds, what, got, want
        self.rng = random.Random(n)

    def call(self, what: str, want: int, method: str, path: str, **kw):
        base = self.bases[len(self.answers) % len(self.bases)]
        sent = time.monotonic()
        try:
            response = self.http.request(method, base + path, timeout=30, **kw)
            got = response.status_code
        except requests.RequestException:
            response, got = None, 0
        self.answers.append((sent, time.monotonic() - sent, what, got, want))
        time.sleep(self.think * (0.5 + self.rng.random()))
        return response.json() if response is not None and got == want else None

    def run(self) -> None:
        zone = midday_zone()
        application = None
        round_ = 0
        while time.monotonic() < self.until:
            round_ += 1
            if round_ % PANEL == 1 or application is None:  # a new company, a new panel
                token = self.tokens[(round_ // PANEL) % len(self.tokens)]
                self.http.headers["Authorization"] = f"Bearer {token}"
                application = self.call(
                    "create_application",
                    201,
                    "POST",
                    "/v1/applications",
                    json={"company": f"Acme {round_}", "position": "Data Engineer"},
                )
                if application is None:
                    continue
            contact = self.call(
                "create_contact",
                201,
                "POST",
                "/v1/contacts",
                json={
                    "name": f"Dana Jones {self.n}-{round_}",
                    "company": application["company"],
                    "email": f"dana.{self.n}.{round_}@acme.example",
                    "timezone": zone,
                },
            )
            if contact is None:
                continue
            ended = datetime.now(UTC) - timedelta(hours=3)
            interview = self.call(
                "create_interview",
                201,
                "POST",
                "/v1/interviews",
                json={
                    "application_id": application["id"],
                    "starts_at": (ended - timedelta(hours=1)).isoformat(),
                    "ends_at": ended.isoformat(),
                    "interviewers": [
                        {"contact_id": contact["id"], "specific_point": "the billing migration"}
                    ],
                },
            )
            if interview is not None:
                self.call("plan", 200, "POST", f"/v1/interviews/{interview['id']}/plan")
            self.call("list_touches", 200, "GET", f"/v1/touches?contact_id={contact['id']}")
            self.call(
                "budget",
                200,
                "GET",
                f"/v1/contacts/{contact['id']}/budget?application_id={application['id']}",
            )
            self.call("list_contacts", 200, "GET", "/v1/contacts?page_size=20")
            if round_ % 2 == 0:
                self.call(
                    "response",
                    201,
                    "POST",
                    "/v1/responses",
                    json={
                        "contact_id": contact["id"],
                        "application_id": application["id"],
                        "kind": "replied",
                    },
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL; its schema is reset")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--think", type=float, default=0.2, help="mean pause between requests")
    parser.add_argument("--warmup", type=float, help="seconds before the first RSS reading")
    args = parser.parse_args()
    window = min(60.0, args.seconds / 4)
    warmup = args.warmup if args.warmup is not None else min(30.0, args.seconds / 6)

    reset(args.database_url)
    with (
        tempfile.TemporaryDirectory(prefix="touchbase-soak-") as name,
        SmtpPeer() as sink,
        contextlib.ExitStack() as cleanup,
    ):
        tmp = Path(name)
        env = no_tls_env(tmp)
        procs: dict[str, subprocess.Popen] = {}
        apis = []
        for n in range(2):
            api = start_api(args.database_url, tmp, f"api{n}", **env)
            cleanup.callback(stop, api.proc)
            procs[f"api{n}"] = api.proc
            apis.append(api)
        bases = [api.base for api in apis]
        tokens = setup(args.database_url, tmp, bases[0], sink, args.clients)
        for n in range(2):
            proc, _log = start_worker(
                args.database_url, tmp, "--poll", "0.5", log_name=f"worker{n}", **env
            )
            cleanup.callback(stop, proc)
            procs[f"worker{n}"] = proc
        started = time.monotonic()
        portals = [
            Portal(
                n,
                bases,
                tokens[n * CANDIDATES_PER_CLIENT : (n + 1) * CANDIDATES_PER_CLIENT],
                args.think,
                started + args.seconds,
            )
            for n in range(args.clients)
        ]
        for portal in portals:
            portal.start()
        # CPU per process over the first and the last window (what grew, if latency did),
        # and RSS after warm-up.
        marks = sorted({0.0, window, warmup, args.seconds - window, args.seconds})
        cpu: dict[float, dict[str, float]] = {}
        rss_start: dict[str, int] = {}
        for mark in marks:
            time.sleep(max(0.0, started + mark - time.monotonic()))
            if mark == warmup:
                rss_start = {name: rss_kib(proc.pid) for name, proc in procs.items()}
            sample = {name: cpu_seconds(proc.pid) for name, proc in procs.items()}
            sample["postgres"] = postgres_cpu_seconds()
            sample["clients+sink"] = sum(os.times()[:2])
            sample["machine"] = machine_busy_seconds()
            cpu[mark] = sample
        for portal in portals:
            portal.join(timeout=60)
        rss_end = {name: rss_kib(proc.pid) for name, proc in procs.items()}
        time.sleep(3)  # the workers send what the last plans made due
        alive = {name: proc.poll() is None for name, proc in procs.items()}
        for proc in procs.values():
            stop(proc)
        delivered = Counter(
            MESSAGE_ID.search(m.data).group(1).decode() for m in list(sink.messages)
        )

    answers = sorted((a for p in portals for a in p.answers), key=lambda a: a[0])
    errors = [a for a in answers if a[3] != a[4]]
    first = [a[1] for a in answers if a[0] - started < window]
    last = [a[1] for a in answers if a[0] - started >= args.seconds - window]
    p99_first, p99_last = percentile(first, 0.99), percentile(last, 0.99)
    ratio = p99_last / p99_first if p99_first else float("inf")
    print(
        f"soak: {args.clients} clients, {args.seconds:.0f} s, 2 API processes, 2 workers, "
        f"think {args.think}s: {len(answers)} requests ({len(answers) / args.seconds:.0f}/s), "
        f"{len(errors)} errors"
    )
    for what, got, want in sorted({(a[2], a[3], a[4]) for a in errors})[:20]:
        print(f"  error: {what} answered {got}, expected {want}")
    print(
        f"latency, first {window:.0f} s: p50 {percentile(first, 0.5) * 1000:.0f} ms, "
        f"p99 {p99_first * 1000:.0f} ms; last {window:.0f} s: p50 "
        f"{percentile(last, 0.5) * 1000:.0f} ms, p99 {p99_last * 1000:.0f} ms; "
        f"ratio {ratio:.2f} (limit {P99_RATIO_LIMIT})"
    )
    print(f"{'request':<20} {'first p50':>10} {'first p99':>10} {'last p50':>10} {'last p99':>10}")
    for what in sorted({a[2] for a in answers}):
        f = [a[1] for a in answers if a[2] == what and a[0] - started < window]
        la = [a[1] for a in answers if a[2] == what and a[0] - started >= args.seconds - window]
        print(
            f"{what:<20} {percentile(f, 0.5) * 1000:>8.0f}ms {percentile(f, 0.99) * 1000:>8.0f}ms "
            f"{percentile(la, 0.5) * 1000:>8.0f}ms {percentile(la, 0.99) * 1000:>8.0f}ms"
        )
    first_cpu_at, last_cpu_at = cpu[0.0], cpu[args.seconds - window]
    for name in first_cpu_at:
        first_cpu = (cpu[window][name] - first_cpu_at[name]) / window
        last_cpu = (cpu[args.seconds][name] - last_cpu_at[name]) / window
        print(f"CPU {name}: {first_cpu:.0%} of a core in the first window, {last_cpu:.0%} last")
    grew = []
    for name in procs:
        start, end = rss_start[name], rss_end[name]
        print(f"RSS {name}: {start / 1024:.1f} MiB after {warmup:.0f} s -> {end / 1024:.1f} MiB")
        if end > start * 1.15 + 8 * 1024:
            grew.append(name)
    twice = [m for m, n in delivered.items() if n > 1]
    print(f"sink: {len(delivered)} messages, {len(twice)} received twice")
    failed = (
        bool(errors)
        or ratio > P99_RATIO_LIMIT
        or bool(grew)
        or bool(twice)
        or not all(alive.values())
    )
    if failed:
        print(
            "SOAK FAILED: "
            + ", ".join(
                reason
                for reason, bad in (
                    ("errors", errors),
                    ("p99 grew", ratio > P99_RATIO_LIMIT),
                    (f"memory grew ({', '.join(grew)})", grew),
                    ("sent twice", twice),
                    ("a process died", not all(alive.values())),
                )
                if bad
            )
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
