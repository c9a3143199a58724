"""Bulk data for the worker's process tests and its benchmark (tests/bench/dispatch_bench.py).

Many due email touches that pass the policy and the message check *now*, whatever the
day and hour: the organisation's policy opens the send window all day, every day
(no holidays), and each contact lives in a fixed-offset zone where it is around midday,
so a run never straddles the one minute (23:59) the window is closed.
Ten touches per candidate (the default daily cap), one touch per contact (R6/R7).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, text

from api.models import (
    Application,
    ChannelSetting,
    Contact,
    Organization,
    PolicySetting,
    Touch,
    User,
)

OPEN_POLICY = {
    "business_days": [0, 1, 2, 3, 4, 5, 6],
    "observe_holidays": False,
    "send_window_start": "00:00",
    "send_window_end": "23:59",
    "call_window_start": "00:00",
    "call_window_end": "23:59",
}
PER_CANDIDATE = 10
FIRST_NAMES = ("Dana", "Raj", "Asha", "Lena", "Tomas", "Ingrid", "Kofi", "Mei", "Olga", "Pablo")
LAST_NAMES = ("Jones", "Patel", "Rao", "Meyer", "Novak", "Berg", "Mensah", "Chen", "Ivanova")


def midday_zone(now: datetime | None = None) -> str:
    """A fixed-offset IANA zone (``Etc/GMT+5`` is UTC-5) where it is about noon now."""
    hour = (now or datetime.now(UTC)).hour
    offset = 12 - hour  # local = utc + offset
    if offset > 12:
        offset -= 24
    if offset < -12:
        offset += 24
    offset = max(-12, min(12, offset))
    if offset == 0:
        return "Etc/GMT"
    # POSIX sign convention: Etc/GMT-3 is UTC+3.
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def body_for(first: str, last: str, candidate: str) -> str:
    return (
        f"Dear {first} {last},\n\n"
        "Thank you for taking the time to talk with me today about the Data Engineer role. "
        "I enjoyed our conversation and I am excited about the work of your team.\n\n"
        f"Best regards,\n{candidate}\n"
    )


@dataclass
class Seeded:
    org_id: int
    touch_ids: list[int]
    message_ids: dict[int, str]


def seed_due_touches(
    engine: Engine,
    count: int,
    *,
    due_at: datetime | None = None,
    email_settings: dict | None = None,
    tz: str | None = None,
    batch: int = 2000,
) -> Seeded:
    """``count`` scheduled email thank-you notes due at ``due_at`` (default: a second ago),
    in a new organisation whose email channel uses ``email_settings`` (e.g. an SMTP peer)."""
    due_at = due_at or datetime.now(UTC) - timedelta(seconds=1)
    tz = tz or midday_zone(due_at)
    tag = secrets.token_hex(4)
    candidates = max(1, -(-count // PER_CANDIDATE))
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Organization).returning(Organization.id), {"name": f"Bench office {tag}"}
        ).scalar_one()
        conn.execute(
            insert(PolicySetting),
            {"org_id": org_id, "candidate_id": None, "contact_id": None, "values": OPEN_POLICY},
        )
        if email_settings is not None:
            conn.execute(
                insert(ChannelSetting),
                {
                    "org_id": org_id,
                    "candidate_id": None,
                    "channel": "email",
                    "values": email_settings,
                },
            )
        user_rows = [
            {
                "org_id": org_id,
                "email": f"cand{i}.{tag}@candidates.example",
                "name": f"Alex Doe{i}",
                "role": "candidate",
                "timezone": "UTC",
            }
            for i in range(candidates)
        ]
        user_ids = _insert_ids(conn, User, user_rows, batch)
        app_ids = _insert_ids(
            conn,
            Application,
            [
                {
                    "org_id": org_id,
                    "candidate_id": uid,
                    "company": "Acme Corp",
                    "position": "Data Engineer",
                }
                for uid in user_ids
            ],
            batch,
        )
        contact_rows = []
        for i in range(count):
            first = FIRST_NAMES[i % PER_CANDIDATE]
            last = LAST_NAMES[(i // PER_CANDIDATE) % len(LAST_NAMES)]
            contact_rows.append(
                {
                    "org_id": org_id,
                    "candidate_id": user_ids[i // PER_CANDIDATE],
                    "name": f"{first} {last}",
                    "company": "Acme Corp",
                    "email": f"{first.lower()}.{i}.{tag}@acme.example",
                    "timezone": tz,
                    "country": None,
                }
            )
        contact_ids = _insert_ids(conn, Contact, contact_rows, batch)
        touch_rows = []
        message_ids = []
        for i in range(count):
            c = contact_rows[i]
            first, last = c["name"].split(" ", 1)
            message_id = f"<bench.{tag}.{i}@candidates.example>"
            message_ids.append(message_id)
            touch_rows.append(
                {
                    "org_id": org_id,
                    "candidate_id": c["candidate_id"],
                    "contact_id": contact_ids[i],
                    "application_id": app_ids[i // PER_CANDIDATE],
                    "round": 1,
                    "step": "thank_you",
                    "channel": "email",
                    "status": "scheduled",
                    "automated": True,
                    "scheduled_for": due_at,
                    "subject": "Thank you for today",
                    "body": body_for(first, last, f"Alex Doe{i // PER_CANDIDATE}"),
                    "message_id": message_id,
                }
            )
        touch_ids = _insert_ids(conn, Touch, touch_rows, batch)
    return Seeded(org_id, touch_ids, dict(zip(touch_ids, message_ids, strict=True)))


def _insert_ids(conn, model, rows: list[dict], batch: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        result = conn.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), chunk
        )
        ids.extend(result.scalars().all())
    return ids


def fill_ledger(engine: Engine, rows: int, *, org_id: int | None = None) -> int:
    """PostgreSQL only: add ``rows`` touches that are finished or due far in the future
    (a ledger that has grown for years), with ``INSERT ... SELECT generate_series``.
    90 % are sent, 10 % scheduled next year: they sit in the due index too."""
    with engine.begin() as conn:
        if org_id is None:
            org_id = conn.execute(
                insert(Organization).returning(Organization.id), {"name": "History office"}
            ).scalar_one()
        user_id = conn.execute(
            insert(User).returning(User.id),
            {
                "org_id": org_id,
                "email": f"history.{secrets.token_hex(4)}@candidates.example",
                "name": "History Candidate",
                "role": "candidate",
                "timezone": "UTC",
            },
        ).scalar_one()
        app_id = conn.execute(
            insert(Application).returning(Application.id),
            {
                "org_id": org_id,
                "candidate_id": user_id,
                "company": "Old Corp",
                "position": "Analyst",
            },
        ).scalar_one()
        contact_id = conn.execute(
            insert(Contact).returning(Contact.id),
            {
                "org_id": org_id,
                "candidate_id": user_id,
                "name": "Old Contact",
                "email": "old@old.example",
                "timezone": "UTC",
            },
        ).scalar_one()
        conn.execute(
            text(
                """
                INSERT INTO touches (org_id, candidate_id, contact_id, application_id, round,
                    step, channel, status, automated, planned, scheduled_for, sent_at,
                    subject, body, attempts, flags, warnings, message_id, provider_id,
                    created_at, updated_at)
                SELECT :org, :user, :contact, :app, 1, 'thank_you', 'email',
                    CASE WHEN g % 10 = 0 THEN 'scheduled' ELSE 'sent' END,
                    true, false,
                    CASE WHEN g % 10 = 0 THEN now() + interval '400 days'
                         ELSE now() - (g || ' seconds')::interval END,
                    CASE WHEN g % 10 = 0 THEN NULL ELSE now() - (g || ' seconds')::interval END,
                    'Thank you', 'Dear Old Contact, thank you.', 1, '[]'::jsonb, '[]'::jsonb,
                    '<history.' || g || '@old.example>', NULL, now(), now()
                FROM generate_series(1, :rows) AS g
                """
            ),
            {"org": org_id, "user": user_id, "contact": contact_id, "app": app_id, "rows": rows},
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE touches"))
    return org_id
