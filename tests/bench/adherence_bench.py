"""What the adherence report costs for an organisation of 1,000 candidates and 100,000
touches on PostgreSQL (issue 15: under 500 ms).

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/adherence_bench.py --database-url postgresql+psycopg://...

The database's public schema is **dropped and recreated**, migrated, then filled with
``INSERT ... SELECT generate_series`` (seconds): 1,000 candidates with 5 contacts and 2
applications each, an interview per application (2,000, their ends spread over a year,
5,000 panel seats), 100,000 touches (thank-yous, follow-ups, calls, notes; mostly sent,
some drafts, scheduled, cancelled, skipped, unknown), 200,000 events plus 10,000 refusals by
rule, 10,000 responses and 1,000 unmatched inbound emails. Then, through the app (the
admin's token, so the whole organisation), it times ``GET /v1/reports/adherence`` as JSON
and as CSV, for the last 90 days and for a whole year (the widest range), and the chart:
the median and p90 of ``--runs`` runs each, after one warm-up. Last, EXPLAIN (ANALYZE) of
each statement one report runs: its time and its plan's top lines. Only the loopback
database is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select, text  # noqa: E402

from api import create_app, migrate  # noqa: E402
from api.auth import issue_token  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.models import Organization, User  # noqa: E402

CANDIDATES = 1000
CONTACTS_PER = 5
APPS_PER = 2
TOUCHES = 100_000
#: The year the data covers ends here (the report's ranges end here too).
YEAR_END = datetime(2026, 11, 30, tzinfo=UTC)
TABLES = ("users", "contacts", "interviews", "interviewers", "touches", "touch_events")
TABLES += ("responses", "inbound_mail")

SEED = [
    # candidates: ids 1001..2000
    """INSERT INTO users (id, org_id, email, name, role, timezone, created_at, updated_at)
       SELECT 1000 + g, :org, 'cand' || g || '@example.org', 'Candidate ' || g, 'candidate',
              'UTC', now(), now() FROM generate_series(1, :n) g""",
    # contacts: 5 per candidate, ids 1..5000; contact c belongs to candidate 1000 + (c-1)/5+1
    """INSERT INTO contacts (id, org_id, candidate_id, name, company, email, timezone,
              do_not_contact, sms_opted_out, created_at, updated_at,
              email_undeliverable_at)
       SELECT g, :org, 1000 + (g - 1) / 5 + 1, 'Contact ' || g, 'Acme',
              'c' || g || '@acme.example', 'UTC', false, false, now(), now(),
              CASE WHEN g % 97 = 0 THEN now() END
       FROM generate_series(1, :n * 5) g""",
    # applications: 2 per candidate, ids 1..2000
    """INSERT INTO applications (id, org_id, candidate_id, company, position, status,
              created_at, updated_at)
       SELECT g, :org, 1000 + (g - 1) / 2 + 1, 'Acme', 'Engineer', 'active', now(), now()
       FROM generate_series(1, :n * 2) g""",
    # one interview per application, ends spread over the year
    """INSERT INTO interviews (id, org_id, candidate_id, application_id, round, starts_at,
              ends_at, format, created_at, updated_at)
       SELECT g, :org, 1000 + (g - 1) / 2 + 1, g, 1,
              :year_end - (g * 4391 % 365) * interval '1 day' - interval '1 hour',
              :year_end - (g * 4391 % 365) * interval '1 day', 'video', now(), now()
       FROM generate_series(1, :n * 2) g""",
    # panels: application 2k-1 has the candidate's contacts 1-3, application 2k contacts 4-5
    """INSERT INTO interviewers (interview_id, contact_id, position)
       SELECT (c - 1) / 5 * 2 + CASE WHEN (c - 1) % 5 < 3 THEN 1 ELSE 2 END, c, (c - 1) % 5
       FROM generate_series(1, :n * 5) c""",
    # touches: 20 per contact; the first a thank-you, then follow-ups, calls, notes
    """INSERT INTO touches (id, org_id, candidate_id, contact_id, application_id, round, step,
              channel, status, automated, planned, sequence, attempts, flags, warnings,
              scheduled_for, sent_at, created_at, updated_at, approve_by)
       SELECT t, :org, cand, c, app, 1,
              CASE k WHEN 0 THEN 'thank_you' WHEN 1 THEN 'follow_up' WHEN 2 THEN 'call'
                     ELSE (ARRAY['follow_up', 'custom', 'call', 'thank_you'])[k % 4 + 1] END,
              CASE WHEN k = 2 THEN 'call' ELSE 'email' END,
              CASE WHEN t % 50 = 0 THEN 'draft' WHEN t % 53 = 0 THEN 'scheduled'
                   WHEN t % 31 = 0 THEN 'cancelled' WHEN t % 37 = 0 THEN 'skipped'
                   WHEN t % 211 = 0 THEN 'unknown' ELSE 'sent' END,
              true, true, 0, 1, '[]', '[]',
              ends + (2 + k * 50 + t % 40) * interval '1 hour',
              CASE WHEN t % 50 <> 0 AND t % 53 <> 0 AND t % 31 <> 0 AND t % 37 <> 0
                   THEN ends + (2 + k * 50 + t % 40) * interval '1 hour' END,
              now(), now(),
              CASE WHEN t % 50 = 0 THEN now() + (t % 3 - 1) * interval '1 day' END
       FROM (
         SELECT t, (t - 1) / 20 + 1 AS c, (t - 1) % 20 AS k FROM generate_series(1, :touches) t
       ) s
       JOIN LATERAL (
         SELECT 1000 + (s.c - 1) / 5 + 1 AS cand,
                (s.c - 1) / 5 * 2 + CASE WHEN (s.c - 1) % 5 < 3 THEN 1 ELSE 2 END AS app
       ) a ON true
       JOIN interviews iv ON iv.id = a.app
       CROSS JOIN LATERAL (SELECT iv.ends_at AS ends) e""",
    # two events a touch (created, and its status)
    """INSERT INTO touch_events (touch_id, kind, at, actor, data)
       SELECT id, 'created', created_at, 'system', CAST('{}' AS JSONB) FROM touches
       UNION ALL
       SELECT id, status, coalesce(sent_at, scheduled_for), 'system', CAST('{}' AS JSONB)
       FROM touches""",
    # refusals by rule
    """INSERT INTO touch_events (touch_id, kind, at, actor, rule, reason, data)
       SELECT t.id, (ARRAY['refused', 'skipped', 'cancelled'])[t.id % 3 + 1],
              t.scheduled_for, 'system',
              (ARRAY['R6', 'R7', 'R8', 'R2', 'R15', 'R9'])[t.id % 6 + 1], 'refused',
              CAST('{}' AS JSONB)
       FROM touches t WHERE t.id % 10 = 3""",
    # responses: 2 per contact
    """INSERT INTO responses (org_id, candidate_id, contact_id, application_id, round, kind,
              occurred_at, source, created_at, decision_date)
       SELECT :org, t.candidate_id, t.contact_id, t.application_id, 1,
              (ARRAY['replied', 'decision_date', 'rejected', 'next_round', 'offer',
                     'out_of_office', 'replied'])[t.id % 7 + 1],
              t.sent_at + (t.id % 72) * interval '1 hour', 'email', now(),
              CASE WHEN t.id % 7 = 1 THEN CAST(t.sent_at AS DATE) + 10 END
       FROM touches t WHERE t.id % 10 IN (1, 6) AND t.sent_at IS NOT NULL""",
    """INSERT INTO inbound_mail (org_id, candidate_id, dedupe_key, source, received_at,
              outcome)
       SELECT :org, 1000 + g, '<u' || g || '@x.example>', 'api', now(), 'unmatched'
       FROM generate_series(1, :n) g""",
]


def _fresh_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def seed(app) -> str:
    factory = app.extensions["touchbase.sessionmaker"]
    with factory() as session:
        org = Organization(name="Bench career office")
        session.add(org)
        session.flush()
        admin = User(org_id=org.id, email="admin@example.org", name="Admin", role="admin")
        session.add(admin)
        session.flush()
        _token, secret = issue_token(session, admin, "bench")
        session.commit()
        params = {"org": org.id, "n": CANDIDATES, "touches": TOUCHES, "year_end": YEAR_END}
        began = time.perf_counter()
        for statement in SEED:
            session.execute(text(statement), params)
        for table in ("users", "contacts", "applications", "interviews", "touches"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        session.commit()
    # as autovacuum would: statistics, and the visibility map index-only scans need
    engine = app.extensions["touchbase.engine"]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    with factory() as session:
        counts = {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
        print(f"seeded in {time.perf_counter() - began:.1f} s: {counts}")
    return secret


def timed(client, token: str, url: str, accept: str, runs: int) -> tuple[float, float, int]:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    answer = client.get(url, headers=headers)  # warm-up
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        answer = client.get(url, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    return statistics.median(times), p90, len(answer.get_data())


def _backend_cpu_ms(pid: int) -> float:
    """utime + stime of a PostgreSQL backend (same machine), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_costs(app, start: datetime, end: datetime, runs: int) -> tuple[float, float, float]:
    """The report built on one connection: median wall ms, and median CPU ms of this
    process plus of its PostgreSQL backend. On a shared, loaded machine the wall time
    waits for CPU; the CPU time is what the report costs (about its wall time when idle)."""
    from api.auth import Principal
    from api.models import User as UserModel
    from api.reports import adherence, tables

    engine = app.extensions["touchbase.engine"]
    walls, cpus = [], []
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        # every step in this backend, so its CPU is the whole cost (no parallel workers)
        conn.execute(text("SET max_parallel_workers_per_gather = 0"))
        conn.commit()
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            admin = session.scalars(select(UserModel).where(UserModel.role == "admin")).first()
            who = Principal(admin.id, admin.org_id, "admin", 0)
            for i in range(runs + 1):
                wall, cpu, db = time.perf_counter(), time.process_time(), _backend_cpu_ms(pid)
                found = adherence.report(session, who, start, end, datetime.now(UTC))
                json.dumps(found, default=str)
                tables.to_csv(found)
                if i:  # the first run warms the caches
                    walls.append((time.perf_counter() - wall) * 1000)
                    cpus.append((time.process_time() - cpu) * 1000 + _backend_cpu_ms(pid) - db)
                session.commit()
    return statistics.median(walls), statistics.median(cpus), os.getloadavg()[0]


def explain(app, client, token: str, url: str, lines: int) -> None:
    """EXPLAIN ANALYZE of each statement one report runs: time and top of the plan."""
    engine = app.extensions["touchbase.engine"]
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "anonymous" not in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    client.get(url, headers={"Authorization": f"Bearer {token}"})
    event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement, parameters in seen:
            if "FROM api_tokens" in statement or "FROM policy_settings" in statement:
                continue
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + statement, parameters)
                plan = [row[0] for row in cur.fetchall()]
            total = next((line for line in plan if line.startswith("Execution Time")), "")
            head = " ".join(statement.split())[:90]
            print(f"\n-- {head}...\n   {total}")
            for line in plan[:lines]:
                print("   " + line[:150])
            raw.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL; its schema is reset")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--plan-lines", type=int, default=6, help="lines of each plan shown")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the benchmark needs PostgreSQL (generate_series)")
    _fresh_schema(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench", "TESTING": True})
    token = seed(app)
    client = app.test_client()
    year = f"start={(YEAR_END - timedelta(days=365)).isoformat()}&end={YEAR_END.isoformat()}"
    quarter = f"start={(YEAR_END - timedelta(days=90)).isoformat()}&end={YEAR_END.isoformat()}"
    quarter, year = (q.replace("+", "%2B") for q in (quarter, year))
    print(f"\n{'what':<34} {'median ms':>10} {'p90 ms':>8} {'bytes':>9}")
    for name, path, accept in (
        ("JSON, 90 days", f"/v1/reports/adherence?{quarter}", "application/json"),
        ("JSON, 365 days", f"/v1/reports/adherence?{year}", "application/json"),
        ("CSV, 90 days", f"/v1/reports/adherence?{quarter}", "text/csv"),
        ("CSV, 365 days", f"/v1/reports/adherence?{year}", "text/csv"),
        ("chart (SVG), 365 days", f"/v1/reports/adherence.svg?{year}", "image/svg+xml"),
    ):
        median, p90, size = timed(client, token, path, accept, args.runs)
        print(f"{name:<34} {median:>10.1f} {p90:>8.1f} {size:>9}")
    wall, cpu, load = cpu_costs(app, YEAR_END - timedelta(days=365), YEAR_END, args.runs)
    print(
        f"\nreport (365 days, JSON and CSV built) on one connection: median wall {wall:.0f} ms,"
        f" median CPU (this process + its PostgreSQL backend) {cpu:.0f} ms;"
        f" load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    if not args.no_explain:
        explain(app, client, token, f"/v1/reports/adherence?{year}", args.plan_lines)


if __name__ == "__main__":
    main()
