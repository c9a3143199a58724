"""What one policy decision costs when the history is long, before and after
api.ledger.relevant, and what the daily-cap count costs at 1M touches of one candidate,
without and with its index. Both in one run, on PostgreSQL.

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/history_bench.py
    .venv/bin/python tests/bench/history_bench.py --database-url postgresql+psycopg://... \\
        --app-touches 10000 --cap-touches 1000000 --repeats 30

``--database-url`` (default ``TOUCHBASE_BENCH_URL`` or the local ``bench_history``) names
a database whose ``public`` schema is **dropped and re-created**. Only loopback is used.

1. **decision**: one application with ``--app-touches`` touches (100 people; the contact
   judged has a fifth of them, three a round over two years, and a thank-you sent three
   days ago and a follow-up due in four in the current round). ``ledger.decide`` for the
   follow-up's send-time re-check and for a new call, each from a fresh session: *before*
   with the whole history (``ledger.situation`` without ``since``, what ``decide`` loaded
   until now), *after* with ``decide``'s own load (the relevant rows); same verdict
   asserted. Median and p90 in ms.
2. **daily cap**: a second candidate with ``--cap-touches`` automated touches, one a minute
   back from now, in one application to 1,000 people. ``ledger.SENDS_ON_LOCAL_DAY`` for
   today: *before* with ``ix_touches_cap_day`` dropped inside a transaction that is rolled
   back (PostgreSQL's DDL is transactional), *after* with it; the plans are printed. Also
   the decision for one of these 1,000 people after (the whole history would be read
   in tens of seconds; ``--old-at-scale`` times it too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from api import ledger, migrate  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.models import (  # noqa: E402
    Application,
    Contact,
    Interview,
    Interviewer,
    Organization,
    Touch,
    User,
    utcnow,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_history"

_INSERT = text(
    "INSERT INTO touches (org_id, candidate_id, contact_id, application_id, round, step,"
    " channel, status, automated, planned, sequence, attempts, flags, warnings,"
    " scheduled_for, sent_at, created_at, updated_at)"
    " SELECT :org, :cand, c.id, :app, 1 + i / (3 * :people), 'custom', 'email', 'sent', true,"
    " false, 0, 0, '[]', '[]', t, t, t, t"
    " FROM (SELECT i, :start - make_interval(secs => :step * i) AS t"
    "       FROM generate_series(0, :n - 1) AS i) AS s"
    " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM contacts"
    "       WHERE candidate_id = :cand AND id <> ALL(:skip)) AS c ON c.k = i % :people"
)


def _fresh_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def _people(session, org, candidate, n: int, tag: str) -> list[Contact]:
    found = [
        Contact(
            org_id=org.id,
            candidate_id=candidate.id,
            name=f"Person {tag}{i}",
            company="Acme Corp",
            email=f"p{tag}{i}@acme.example",
            phone=None,
            timezone="America/New_York",
            country="US",
        )
        for i in range(n)
    ]
    session.add_all(found)
    session.flush()
    return found


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered) * 1000:9.2f} ms   p90 {p90 * 1000:9.2f} ms"


def _seed_application(session, org, n: int, now):
    """The application of ``n`` touches, and the contact judged with its current round."""
    candidate = User(org_id=org.id, email="ana@example.org", name="Ana Silva", role="candidate")
    session.add(candidate)
    session.flush()
    people = _people(session, org, candidate, 100, "a")
    dana = people[0]
    dana.phone = "+14155550123"
    application = Application(
        org_id=org.id, candidate_id=candidate.id, company="Acme Corp", position="Engineer"
    )
    session.add(application)
    session.flush()
    mine, others = n // 5, n - n // 5
    two_years = 2 * 365 * 86400
    common = {"org": org.id, "cand": candidate.id, "app": application.id}
    session.execute(  # the judged contact's past: three touches a round
        _INSERT,
        {**common, "people": 1, "skip": [p.id for p in people[1:]], "n": mine}
        | {"start": now - timedelta(days=30), "step": two_years / max(mine, 1)},
    )
    session.execute(
        _INSERT,
        {**common, "people": 99, "skip": [dana.id], "n": others}
        | {"start": now - timedelta(days=1), "step": two_years / max(others, 1)},
    )
    current = 1 + mine // 3 + 1
    ends = now - timedelta(days=3, hours=2)
    session.add(
        Interview(
            org_id=org.id,
            candidate_id=candidate.id,
            application_id=application.id,
            round=current,
            starts_at=ends - timedelta(hours=1),
            ends_at=ends,
            interviewers=[Interviewer(contact_id=dana.id, position=0, specific_point="billing")],
        )
    )
    sent = now - timedelta(days=3)
    base = {
        "org_id": org.id,
        "candidate_id": candidate.id,
        "contact_id": dana.id,
        "application_id": application.id,
        "round": current,
        "channel": "email",
    }
    session.add(Touch(**base, step="thank_you", status="sent", scheduled_for=sent, sent_at=sent))
    follow_up = Touch(
        **base, step="follow_up", status="scheduled", scheduled_for=now + timedelta(days=4)
    )
    session.add(follow_up)
    session.commit()
    return dana.id, application.id, current, follow_up.id


def _decide(sm, contact_id, app_id, asked, whole: bool):
    session = sm()
    try:
        contact, application = session.get(Contact, contact_id), session.get(Application, app_id)
        started = time.perf_counter()
        where = None
        if whole:
            where = ledger.situation(session, contact, application, asked["round_"])
        decision = ledger.decide(session, contact, application, where=where, **asked)
        return time.perf_counter() - started, decision
    finally:
        session.close()


def _compare(sm, label, contact_id, app_id, asked, repeats, *, old: bool = True) -> None:
    before, after = [], []
    for _ in range(repeats):
        if old:
            took, expected = _decide(sm, contact_id, app_id, asked, whole=True)
            before.append(took)
        took, decision = _decide(sm, contact_id, app_id, asked, whole=False)
        after.append(took)
        if old:
            assert decision == expected, (decision, expected)
    verdict = "allowed" if decision.allowed else f"refused {decision.rule}"
    if old:
        print(f"  {label:<34} before (whole history)   {_ms(before)}")
    print(f"  {label:<34} after  (relevant rows)   {_ms(after)}   [{verdict}]")
    if old:
        ratio = statistics.median(before) / statistics.median(after)
        print(f"  {label:<34} speed-up {ratio:8.1f} x")


def _cap(sm, contact_id, now, repeats) -> None:
    session = sm()
    contact = session.get(Contact, contact_id)
    params = ledger.daily_cap_params(
        contact, channel="email", at=now, automated=True, now=now, touch_id=None
    )
    state = ledger.SENDS_ON_LOCAL_DAY.compile(session.get_bind()).construct_expanded_state(params)
    session.close()

    def run(drop: bool) -> tuple[list[float], int, str]:
        s = sm()
        conn = s.connection()
        if drop:
            conn.exec_driver_sql("DROP INDEX ix_touches_cap_day")
        plan = "\n".join(
            "    " + r[0]
            for r in conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS) {state.statement}", state.parameters
            )
        )
        samples, count = [], 0
        for _ in range(repeats):
            started = time.perf_counter()
            count = s.execute(ledger.SENDS_ON_LOCAL_DAY, params).scalar()
            samples.append(time.perf_counter() - started)
        s.rollback()  # gives the index back
        s.close()
        return samples, count, plan

    before, n_before, plan_before = run(drop=True)
    after, n_after, plan_after = run(drop=False)
    assert n_before == n_after
    print(f"  daily-cap count ({n_after} today)     before (no index)        {_ms(before)}")
    print(f"  daily-cap count                    after  (ix_touches_cap_day) {_ms(after)}")
    ratio = statistics.median(before) / statistics.median(after)
    print(f"  daily-cap count                    speed-up {ratio:8.1f} x")
    print("  plan before:\n" + plan_before)
    print("  plan after:\n" + plan_after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("TOUCHBASE_BENCH_URL", DEFAULT_URL)
    )
    parser.add_argument("--app-touches", type=int, default=10_000)
    parser.add_argument("--cap-touches", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--old-at-scale", action="store_true")
    args = parser.parse_args(argv)
    _fresh_schema(args.database_url)
    engine = make_engine(args.database_url)
    assert engine.dialect.name == "postgresql", "the benchmark runs on PostgreSQL"
    sm = sessionmaker(engine, expire_on_commit=False)
    now = utcnow()

    session = sm()
    org = Organization(name="Bench office")
    session.add(org)
    session.flush()
    started = time.perf_counter()
    dana, app_id, current, follow_up = _seed_application(session, org, args.app_touches, now)
    big = User(org_id=org.id, email="bo@example.org", name="Bo Berg", role="candidate")
    session.add(big)
    session.flush()
    crowd = _people(session, org, big, 1000, "b")
    big_app = Application(org_id=org.id, candidate_id=big.id, company="Globex", position="Eng")
    session.add(big_app)
    session.flush()
    session.execute(
        _INSERT,
        {"org": org.id, "cand": big.id, "app": big_app.id, "people": 1000, "skip": [0]}
        | {"n": args.cap_touches, "start": now, "step": 60},
    )
    session.commit()
    crowd_id, big_app_id = crowd[0].id, big_app.id
    session.connection().exec_driver_sql("ANALYZE")
    session.commit()
    session.close()
    print(
        f"PostgreSQL; {args.app_touches} touches in the application judged, "
        f"{args.cap_touches} of the second candidate; seeded in "
        f"{time.perf_counter() - started:.1f} s; {args.repeats} repeats each"
    )

    recheck = {
        "round_": current,
        "step": "follow_up",
        "channel": "email",
        "at": now + timedelta(days=4),
        "automated": True,
        "now": now,
        "touch_id": follow_up,
    }
    call = {**recheck, "step": "call", "channel": "call", "touch_id": None}
    print(f"decision, one contact in an application of {args.app_touches} touches:")
    _compare(sm, "send-time re-check of a follow-up", dana, app_id, recheck, args.repeats)
    _compare(sm, "a new call", dana, app_id, call, args.repeats)
    print(f"daily cap, one candidate with {args.cap_touches} touches:")
    _cap(sm, crowd_id, now, args.repeats)
    print(f"decision, one of 1,000 people in an application of {args.cap_touches} touches:")
    fresh = {**call, "round_": 10_000, "step": "thank_you", "channel": "email"}
    _compare(
        sm, "a new thank-you", crowd_id, big_app_id, fresh, args.repeats, old=args.old_at_scale
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
