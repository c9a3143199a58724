"""API benchmark: Touchbase's per-request cost against a bare flask-smorest app, under the
same WSGI server and the same load generator, in one run.

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/api_bench.py                     # PostgreSQL and SQLite
    .venv/bin/python tests/bench/api_bench.py --seconds 5 --only sqlite

Needs ``wrk`` (Debian: ``apt-get install wrk``). ``--url`` (or ``TOUCHBASE_BENCH_URL``)
names a PostgreSQL database that is **dropped and created** for the run, and dropped at
the end; SQLite runs on a temporary file. Rate limits count in Redis (``--redis``) on
PostgreSQL, as in production, with limits the run does not reach; in memory on SQLite.

Each app runs in its own process under waitress (what ``touchbase serve`` runs) with
``--threads`` threads; wrk drives it with ``--connections`` connections for ``--seconds``
after a short warm-up. Printed per endpoint: req/s, p50, p99, and against the bare app
(one indexed SELECT by primary key, a 3-field schema) the ratio of req/s. Endpoints:

- ``GET /v1/me``: the token, its user and organisation;
- ``GET /v1/touches?page_size=50``: a page of 50 touches (the candidate has 50);
- ``POST /v1/touches``: a logged (manual) thank-you, each to a fresh contact.

Targets (issue 16): on PostgreSQL ``/v1/me`` >= 0.5, the list >= 0.2, the POST >= 0.15
of the bare app; on SQLite p99 <= 4 x p50 with 8 connections.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

#: Contacts (each with its own application) prepared for the POSTs, one per request.
POST_CONTACTS = 40_000
LIST_ROWS = 50
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/touchbase_apibench"
HIGH = "100000000/minute"

BARE_APP = r"""
import sys
import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

class Base(DeclarativeBase):
    pass

class Item(Base):
    __tablename__ = "bench_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))

class ItemSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String()

def make(url):
    engine = create_engine(url, pool_size=16)
    Base.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        if s.get(Item, 1) is None:
            s.add(Item(id=1, name="one", kind="bench"))
    app = Flask("bare")
    app.config.update(API_TITLE="bare", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = Blueprint("items", "items", url_prefix="/items")

    @blp.route("/<int:item_id>")
    class One(MethodView):
        @blp.response(200, ItemSchema)
        def get(self, item_id):
            with Session(engine) as s:
                return s.scalars(select(Item).where(Item.id == item_id)).one()

    api.register_blueprint(blp)
    return app
"""

SERVE = r"""
import logging, sys, waitress
logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" per burst
kind, url, port, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "bare":
    ns = {}
    exec(compile(BARE, "bare_app", "exec"), ns)
    app = ns["make"](url)
else:
    from api import create_app
    app = create_app()
waitress.serve(app, host="127.0.0.1", port=port, threads=threads, ident=None,
               _quiet=True, connection_limit=1000, channel_timeout=120)
"""

POST_LUA = r"""
local n = 0
local first = %(first)d
local count = %(count)d
local app_offset = %(app_offset)d
local threads = {}
local token = "%(token)s"
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = tid
end
function request()
  local i = n %% count
  n = n + %(wrk_threads)d
  local body = string.format(
    '{"contact_id":%%d,"application_id":%%d,"channel":"manual","step":"thank_you","occurred_at":"2026-01-02T10:00:00Z"}',
    first + i, first + i + app_offset)
  return wrk.format("POST", "/v1/touches", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end
"""

WRK_THREADS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, path: str, seconds: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not come up")


def start(kind: str, url: str, threads: int, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    code = f"BARE = {BARE_APP!r}\n" + SERVE
    proc = subprocess.Popen(
        [sys.executable, "-c", code, kind, url, str(port), str(threads)],
        cwd=ROOT,
        env=env,
    )
    wait_up(port, proc, "/items/1" if kind == "bare" else "/healthz")
    return proc, port


LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(port, path, seconds, connections, headers=(), script=None) -> dict:
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", script]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lat = {m.group(1): float(m.group(2)) * UNIT[m.group(3)] for m in LATENCY.finditer(out)}
    bad = NON2XX.search(out)
    return {
        "rps": float(RPS.search(out).group(1)),
        "p50": lat.get("50", float("nan")),
        "p99": lat.get("99", float("nan")),
        "non2xx": int(bad.group(1)) if bad else 0,
    }


def prepare(url: str) -> dict:
    """Migrate, bootstrap; a candidate with 50 touches and POST_CONTACTS fresh contacts."""
    from sqlalchemy import func, insert, select

    from api import create_app, migrate
    from api.bootstrap import bootstrap
    from api.db import session_scope
    from api.models import Application, Contact, Touch, User

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "RATELIMIT_STORAGE_URI": "memory://"})
    factory = app.extensions["touchbase.sessionmaker"]
    with session_scope(factory) as session:
        token = bootstrap(session, "Bench office", "admin@example.org", "Admin")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}

    def call(method, path, body):
        answer = client.open(path, method=method, json=body, headers=auth)
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.get_json())
        return answer.get_json()

    call(
        "PUT",
        "/v1/policy",
        {
            "business_days": [0, 1, 2, 3, 4, 5, 6],
            "observe_holidays": False,
            "send_window_start": "00:00",
            "send_window_end": "23:59",
        },
    )
    candidate = call(
        "POST",
        "/v1/users",
        {"email": "ana@example.org", "name": "Ana Silva", "role": "candidate"},
    )["id"]
    with session_scope(factory) as session:
        org_id = session.scalar(select(User.org_id).where(User.id == candidate))
        rows = [
            {
                "org_id": org_id,
                "candidate_id": candidate,
                "name": f"Contact {i}",
                "company": "Acme",
                "email": f"c{i}@acme.example",
                "timezone": "UTC",
            }
            for i in range(POST_CONTACTS + LIST_ROWS)
        ]
        session.execute(insert(Contact), rows)
        apps = [
            {"org_id": org_id, "candidate_id": candidate, "company": "Acme", "position": f"P{i}"}
            for i in range(POST_CONTACTS + LIST_ROWS)
        ]
        session.execute(insert(Application), apps)
        first_contact = session.scalar(select(func.min(Contact.id)))
        first_app = session.scalar(select(func.min(Application.id)))
    for i in range(LIST_ROWS):
        call(
            "POST",
            "/v1/touches",
            {
                "contact_id": first_contact + i,
                "application_id": first_app + i,
                "channel": "manual",
                "step": "thank_you",
                "occurred_at": "2026-01-02T10:00:00Z",
            },
        )
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(Touch)) == LIST_ROWS
    app.extensions["touchbase.engine"].dispose()
    return {
        "token": token,
        "first": first_contact + LIST_ROWS,
        "app_offset": first_app - first_contact,
    }


def run_backend(name: str, url: str, args, redis: str | None) -> dict:
    data = prepare(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHBASE_")}
    env.update(
        TOUCHBASE_DATABASE_URL=url,
        TOUCHBASE_RATELIMIT_PER_TOKEN=HIGH,
        TOUCHBASE_RATELIMIT_AUTH_FAILURES=HIGH,
        TOUCHBASE_RATELIMIT_PUBLIC=HIGH,
        TOUCHBASE_DB_POOL_SIZE=str(args.threads + 2),
        TOUCHBASE_INSTANCE_DIR=tempfile.mkdtemp(prefix="apibench-"),
    )
    if redis:
        env["TOUCHBASE_RATELIMIT_STORAGE_URL"] = redis
    auth = f"Authorization: Bearer {data['token']}"
    results = {}
    bare, bare_port = start("bare", url, args.threads, env)
    app, app_port = start("app", url, args.threads, env)
    try:
        lua = Path(tempfile.mkstemp(suffix=".lua")[1])
        lua.write_text(
            POST_LUA
            % {
                "first": data["first"],
                "count": POST_CONTACTS,
                "app_offset": data["app_offset"],
                "token": data["token"],
                "wrk_threads": WRK_THREADS,
            }
        )
        # Warm up both (imports, pools, caches).
        wrk(bare_port, "/items/1", 2, args.connections)
        wrk(app_port, "/v1/me", 2, args.connections, [auth])
        plan = [
            ("bare  GET /items/1", bare_port, "/items/1", (), None),
            ("GET /v1/me", app_port, "/v1/me", [auth], None),
            ("GET /v1/touches (50)", app_port, "/v1/touches?page_size=50", [auth], None),
            ("POST /v1/touches", app_port, "/v1/touches", [auth], str(lua)),
            ("bare  GET /items/1 (again)", bare_port, "/items/1", (), None),
        ]
        for label, port, path, headers, script in plan:
            results[label] = wrk(port, path, args.seconds, args.connections, headers, script)
    finally:
        for proc in (bare, app):
            proc.terminate()
            proc.wait(timeout=30)
    bare_rps = max(
        results["bare  GET /items/1"]["rps"], results["bare  GET /items/1 (again)"]["rps"]
    )
    print(
        f"\n== {name}: waitress, {args.threads} threads; wrk {args.connections} connections, "
        f"{args.seconds}s each; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>8} {'ratio':>6} non-2xx")
    for label, r in results.items():
        ratio = r["rps"] / bare_rps
        print(
            f"{label:28} {r['rps']:9.1f} {r['p50']:8.2f} {r['p99']:8.2f} "
            f"{r['p99'] / r['p50']:8.1f} {ratio:6.3f} {r['non2xx']}"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TOUCHBASE_BENCH_URL", DEFAULT_URL))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--only", choices=("postgresql", "sqlite"))
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if args.only != "sqlite":
        url = make_url(args.url)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        try:
            run_backend("PostgreSQL", url.render_as_string(hide_password=False), args, args.redis)
        finally:
            if not args.keep_db:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            admin.dispose()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("SQLite", f"sqlite:///{tmp}/bench.db", args, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
