"""What planning and re-planning one application costs, for 3 and 30 pending touches.

Not a test (pytest does not collect it). Run from the repository root::

    .venv/bin/python tests/bench/replan_bench.py                      # SQLite, temp file
    .venv/bin/python tests/bench/replan_bench.py --database-url postgresql+psycopg://...

For a panel of 1 and of 10 interviewers (3 and 30 pending touches) it times, in one run:

- ``plan``: ``POST /v1/interviews/{id}/plan`` through the app (compose, message check,
  store, re-plan), on a fresh application each time;
- ``replan``: ``api.scheduling.replan`` of the planned application (load the facts, place,
  compare; nothing moves), the cost every fact change pays;
- ``place``: the pure placement alone, on facts loaded once.

Prints the median and p90 in ms of each. Only the loopback database is contacted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from api import create_app, migrate, scheduling  # noqa: E402
from api.auth import issue_token  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.models import (  # noqa: E402
    Application,
    ChannelSetting,
    Contact,
    Interview,
    Interviewer,
    Organization,
    User,
    utcnow,
)

STARTS = datetime(2030, 6, 4, 13, 0, tzinfo=UTC)


def _fresh_schema(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def _seed(session, org, candidate, size: int, n: int) -> Interview:
    contacts = [
        Contact(
            org_id=org.id,
            candidate_id=candidate.id,
            name=f"Dana Jones {n}-{i}",
            company="Acme Corp",
            email=f"dana{n}-{i}@acme.example",
            phone=f"+1415{n:03d}{i:04d}",
            timezone="America/New_York",
            country="US",
        )
        for i in range(size)
    ]
    session.add_all(contacts)
    application = Application(
        org_id=org.id, candidate_id=candidate.id, company="Acme Corp", position="Engineer"
    )
    session.add(application)
    session.flush()
    interview = Interview(
        org_id=org.id,
        candidate_id=candidate.id,
        application_id=application.id,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=1),
        interviewers=[
            Interviewer(contact_id=c.id, position=i, specific_point="the billing pipeline")
            for i, c in enumerate(contacts)
        ],
    )
    session.add(interview)
    session.commit()
    return interview


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="replan-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        _fresh_schema(url)
        app = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_DIR": tmp,
                "OUTBOX_DIR": str(Path(tmp) / "outbox"),
                "SECRET_KEY": "bench",
                "TESTING": True,
            }
        )
        session = app.extensions["touchbase.sessionmaker"]()
        org = Organization(name="Bench office")
        session.add(org)
        session.flush()
        candidate = User(org_id=org.id, email="ana@example.org", name="Ana Silva", role="candidate")
        session.add(candidate)
        session.flush()
        _, token = issue_token(session, candidate, "bench")
        account = {"account_sid": "AC" + "0" * 32, "auth_token": "x", "from_number": "+14155550100"}
        session.add_all(
            ChannelSetting(org_id=org.id, candidate_id=None, channel=name, values=account)
            for name in ("sms", "call")
        )
        session.commit()
        client = app.test_client()
        print(f"database: {make_engine(url).dialect.name}, {args.repeats} repeats")
        n = 0
        for size in (1, 10):
            plans, replans, places = [], [], []
            for _ in range(args.repeats):
                n += 1  # a candidate each: one's daily cap is not the subject here
                candidate = User(
                    org_id=org.id, email=f"ana{n}@example.org", name="Ana Silva", role="candidate"
                )
                session.add(candidate)
                session.flush()
                _, token = issue_token(session, candidate, "bench")
                headers = {"Authorization": f"Bearer {token}"}
                interview = _seed(session, org, candidate, size, n)
                started = time.perf_counter()
                answer = client.post(f"/v1/interviews/{interview.id}/plan", headers=headers)
                plans.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.get_json()
                created = [s for s in answer.get_json()["steps"] if s["status"] == "created"]
                assert len(created) == 3 * size, answer.get_json()
                application = session.get(Application, interview.application_id)
                session.commit()
                started = time.perf_counter()
                moved = scheduling.replan(session, application, utcnow(), "bench")
                session.commit()
                replans.append(time.perf_counter() - started)
                assert moved == [], moved
                facts, _ = scheduling.load_facts(session, application, utcnow())
                session.commit()
                started = time.perf_counter()
                scheduling.place(facts)
                places.append(time.perf_counter() - started)
            pending = 3 * size
            print(f"{pending:>3} pending touches  plan    {_ms(plans)}")
            print(f"{pending:>3} pending touches  replan  {_ms(replans)}")
            print(f"{pending:>3} pending touches  place   {_ms(places)}")
        session.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
