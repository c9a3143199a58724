"""A realistic organisation for the inbound benchmark (tests/bench/inbound_bench.py).

Candidates with two applications each, interview panels of one to three contacts (one
company domain per application), each interview planned through the real planner
(``POST /v1/interviews/{id}/plan``, so the pending touches are exactly what the scheduling
core would place and a recorded reply re-plans real work), then every thank-you marked
sent, as the worker would have. Replies then answer those thank-yous by their stored
Message-IDs (In-Reply-To), or come from the contacts' addresses.

The interviews ended between two hours and two days ago and the org's send window is open
all day, so the planner places the thank-you now and the follow-ups in the coming days,
whatever the hour the bench runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import text

from api.auth import issue_token
from api.models import (
    Application,
    ChannelSetting,
    Contact,
    Interview,
    Interviewer,
    Organization,
    PolicySetting,
    User,
)
from tests.dispatch.seeding import FIRST_NAMES, LAST_NAMES, OPEN_POLICY

ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
PANELS = (1, 2, 3, 2, 1, 2)  # interviewers per interview, cycled: 1.83 on average
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell")


@dataclass(frozen=True)
class SeededContact:
    """What a message generator needs of one contact: who, where, and the thank-you."""

    id: int
    name: str
    email: str
    company_domain: str
    candidate_email: str
    candidate_name: str
    thank_you_id: str  # the Message-ID stored on the contact's (sent) thank-you


@dataclass(frozen=True)
class SeededOrg:
    org_id: int
    contacts: list[SeededContact]
    applications: int
    touches: int


def seed_org(
    app: Flask, applications: int, *, planned: int = 48, now: datetime | None = None
) -> SeededOrg:
    """An org with about ``applications`` planned interviews (two per candidate), every
    thank-you sent. The first ``planned`` go through the real planner (about 0.1 s each on
    PostgreSQL); the rest are copies of those made in SQL (:func:`_clone`), each with its
    own candidate, company domain, addresses and Message-IDs. PostgreSQL only."""
    now = now or datetime.now(UTC)
    planned = max(len(PANELS), min(planned, applications))
    tag = secrets.token_hex(3)
    make_session = app.extensions["touchbase.sessionmaker"]
    client = app.test_client()
    with make_session() as session:
        org = Organization(name=f"Inbound bench office {tag}")
        session.add(org)
        session.flush()
        session.add(
            PolicySetting(
                org_id=org.id, candidate_id=None, values=OPEN_POLICY | {"approval": "auto"}
            )
        )
        email = {"host": "127.0.0.1", "port": 9, "security": "none", "timeout": 1.0}
        account = {"account_sid": "AC" + "0" * 32, "auth_token": "x", "from_number": "+14155550100"}
        session.add(ChannelSetting(org_id=org.id, candidate_id=None, channel="email", values=email))
        session.add_all(
            ChannelSetting(org_id=org.id, candidate_id=None, channel=name, values=account)
            for name in ("sms", "call")
        )
        session.commit()
        org_id = org.id
        n_contact = 0
        token = ""
        candidate = None
        for a in range(planned):
            if a % 2 == 0:
                candidate = User(
                    org_id=org_id,
                    email=f"cand{a // 2}.{tag}@candidates.example",
                    name=f"Alex Doe{a // 2}",
                    role="candidate",
                    timezone="America/New_York",
                )
                session.add(candidate)
                session.flush()
                _, token = issue_token(session, candidate, "bench")
            company = f"{COMPANIES[a % len(COMPANIES)]}{a}"
            domain = f"{company.lower()}.example"
            application = Application(
                org_id=org_id, candidate_id=candidate.id, company=company, position="Engineer"
            )
            session.add(application)
            panel = []
            for i in range(PANELS[a % len(PANELS)]):
                first = FIRST_NAMES[n_contact % len(FIRST_NAMES)]
                last = LAST_NAMES[(n_contact // len(FIRST_NAMES)) % len(LAST_NAMES)]
                panel.append(
                    Contact(
                        org_id=org_id,
                        candidate_id=candidate.id,
                        name=f"{first} {last}",
                        company=company,
                        email=f"{first.lower()}.{last.lower()}{n_contact}@{domain}",
                        phone=f"+1415{n_contact:07d}",
                        timezone=ZONES[(a + i) % len(ZONES)],
                        country="US",
                    )
                )
                n_contact += 1
            session.add_all(panel)
            session.flush()
            ends = now - timedelta(hours=2 + (a * 7) % 46)
            interview = Interview(
                org_id=org_id,
                candidate_id=candidate.id,
                application_id=application.id,
                starts_at=ends - timedelta(hours=1),
                ends_at=ends,
                interviewers=[
                    Interviewer(contact_id=c.id, position=i, specific_point="the billing pipeline")
                    for i, c in enumerate(panel)
                ],
            )
            session.add(interview)
            session.commit()
            answer = client.post(
                f"/v1/interviews/{interview.id}/plan", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.get_json()
        session.execute(
            text(
                "UPDATE touches SET status = 'sent', sent_at = :at, attempts = 1 "
                "WHERE org_id = :org AND step = 'thank_you' AND status = 'scheduled'"
            ),
            {"org": org_id, "at": now - timedelta(minutes=90)},
        )
        session.commit()
        copies = -(-applications // planned) - 1
        spans = {  # the originals' largest ids: copy k shifts every id by k spans
            table: session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
            for table in CLONED
            if table != "interviewers"
        }
        for k in range(1, copies + 1):
            _clone(session, org_id, k, spans)
        session.commit()
        session.execute(text("ANALYZE"))
        rows = session.execute(
            text(
                "SELECT c.id, c.name, c.email, u.email, u.name, t.message_id "
                "FROM contacts c JOIN users u ON u.id = c.candidate_id "
                "JOIN touches t ON t.contact_id = c.id AND t.step = 'thank_you' "
                "AND t.status = 'sent' WHERE c.org_id = :org ORDER BY c.id"
            ),
            {"org": org_id},
        ).all()
        contacts = [
            SeededContact(r[0], r[1], r[2], r[2].split("@", 1)[1], r[3], r[4], r[5]) for r in rows
        ]
        touches = session.scalar(
            text("SELECT count(*) FROM touches WHERE org_id = :org"), {"org": org_id}
        )
    return SeededOrg(org_id, contacts, planned * (copies + 1), touches)


#: The tables copied, parents first; for each, its columns that point at a copied table.
CLONED = {
    "users": {},
    "applications": {"candidate_id": "users"},
    "contacts": {"candidate_id": "users"},
    "interviews": {"candidate_id": "users", "application_id": "applications"},
    "interviewers": {"interview_id": "interviews", "contact_id": "contacts"},
    "touches": {
        "candidate_id": "users",
        "contact_id": "contacts",
        "application_id": "applications",
        "interview_id": "interviews",
        "thread_of_id": "touches",
    },
    "touch_events": {"touch_id": "touches"},
}
#: Text columns made distinct in each copy (``{k}`` is the copy's number).
RENAMED = {
    "users": {"email": "replace(email, '@', '.c{k}@')"},
    "contacts": {
        "email": "replace(email, '.example', '-c{k}.example')",
        "company": "company || '-c{k}'",
    },
    "applications": {"company": "company || '-c{k}'"},
    "touches": {"message_id": "replace(message_id, '.touchbase@', '.c{k}.touchbase@')"},
}


def _clone(session, org_id: int, k: int, spans: dict[str, int]) -> None:
    """Copy number ``k`` of the org's original rows (those with ids up to each table's
    span), ids shifted by ``k`` spans so every foreign key lands in the same copy."""
    for table, refs in CLONED.items():
        columns = session.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = :t "
                "ORDER BY ordinal_position"
            ),
            {"t": table},
        ).all()
        values = []
        for column in columns:
            if column == "id":
                values.append(f"id + {k * spans[table]}")
            elif column in refs:
                values.append(f"{column} + {k * spans[refs[column]]}")
            elif column in RENAMED.get(table, {}):
                values.append(RENAMED[table][column].format(k=k))
            else:
                values.append(column)
        if table == "interviewers":
            where = f"interview_id <= {spans['interviews']}"
        else:
            where = f"id <= {spans[table]}"
        if "org_id" in columns:
            where += f" AND org_id = {org_id}"
        session.execute(
            text(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join(values)} FROM {table} WHERE {where}"
            )
        )
    for table in spans:
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        )
