"""Fixtures for the privacy tests: a candidate whose every record carries a marker, the
worker on the real clock, and what the database, the files and the logs hold."""

from __future__ import annotations

import io
import logging
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from api.dispatch import Options, Worker
from api.models import Base, PolicySetting
from channels.testing import smtp_peer  # noqa: F401  (fixture, the in-flight send)
from tests.api.conftest import count, engine_of, row, snapshot  # noqa: F401  (fixtures)
from tests.dispatch.conftest import _no_real_twilio  # noqa: F401  (autouse fixture)
from tests.dispatch.seeding import OPEN_POLICY, midday_zone

#: What every personal field of the candidate's data carries.
MARKER = "qzvmarkerq"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def make_worker(app):
    """``make_worker()``: a worker on the test database and the real clock."""

    def make(**options) -> Worker:
        options.setdefault("lease", 30.0)
        options.setdefault("poll", 0.05)
        return Worker.from_app(app, options=Options(**options))

    return make


@pytest.fixture
def open_window(db, world):
    """The org sends any day at any hour (for tests on the real clock)."""
    db.add(PolicySetting(org_id=world.org.id, values=OPEN_POLICY))
    db.commit()


def _json(answer, status: int = 200) -> dict:
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


class Marked:
    """A candidate whose records all carry MARKER, built through the API: contact,
    application, interview with notes, a sent thank-you (outbox .eml), a heard reply,
    candidate channel settings, a template, a token made by the admin, an idempotent POST."""

    def __init__(self, call, world, make_worker, factory) -> None:
        self.call, self.world = call, world
        admin = world.tokens["admin"]
        self.admin = admin
        self.user = _json(
            call(
                "post",
                "/v1/users",
                admin,
                json={
                    "email": f"ana.{MARKER}@example.org",
                    "name": f"Ana {MARKER.title()}",
                    "role": "candidate",
                    "timezone": "Europe/Lisbon",
                    "phone": "+14155550142",
                },
            ),
            201,
        )
        self.id = self.user["id"]
        self.token = _json(
            call("post", "/v1/tokens", admin, json={"name": "portal", "user_id": self.id}), 201
        )["token"]
        self.contact = _json(
            call(
                "post",
                "/v1/contacts",
                admin,
                json={
                    "candidate_id": self.id,
                    "name": f"Dana {MARKER.title()}",
                    "title": "Engineering Manager",
                    "company": "Acme",
                    "email": f"dana.{MARKER}@acme.example",
                    "timezone": midday_zone(),
                    "notes": f"Met at the fair; {MARKER} likes data quality.",
                },
                headers={"Idempotency-Key": "contact-1"},
            ),
            201,
        )
        app_ = _json(
            call(
                "post",
                "/v1/applications",
                admin,
                json={"candidate_id": self.id, "company": "Acme", "position": "Data Engineer"},
            ),
            201,
        )
        start = now() - timedelta(hours=4)
        self.interview = _json(
            call(
                "post",
                "/v1/interviews",
                admin,
                json={
                    "application_id": app_["id"],
                    "starts_at": start.isoformat(timespec="seconds"),
                    "ends_at": (start + timedelta(hours=1)).isoformat(timespec="seconds"),
                    "location": f"Room {MARKER}",
                    "interviewers": [
                        {
                            "contact_id": self.contact["id"],
                            "specific_point": f"the {MARKER} migration of the billing pipeline",
                            "topics": f"{MARKER} data quality",
                        }
                    ],
                },
            ),
            201,
        )
        _json(
            call(
                "put",
                f"/v1/users/{self.id}/channels/email/settings",
                admin,
                json={"envelope_from": f"bounces.{MARKER}@example.org"},
            )
        )
        _json(call("post", f"/v1/interviews/{self.interview['id']}/plan", admin))
        touches = _json(
            call("get", f"/v1/touches?candidate_id={self.id}&step=thank_you&status=draft", admin)
        )
        self.thanks = touches[0]
        _json(call("post", f"/v1/touches/{self.thanks['id']}/approve", admin))
        make_worker().run_once()
        self.thanks = _json(call("get", f"/v1/touches/{self.thanks['id']}", admin))
        assert self.thanks["status"] == "sent", self.thanks
        reply = (
            f"From: Dana <dana.{MARKER}@acme.example>\r\nTo: ana.{MARKER}@example.org\r\n"
            f"Subject: Re: Thank you {MARKER}\r\nIn-Reply-To: {self.thanks['message_id']}\r\n"
            f"Message-ID: <reply-{MARKER}@acme.example>\r\n\r\n"
            f"Thanks Ana, it was a pleasure meeting you too. {MARKER}\r\n"
        ).encode()
        heard = call(
            "post",
            f"/v1/inbound/email?candidate_id={self.id}",
            admin,
            data=reply,
            headers={"Content-Type": "message/rfc822"},
        )
        assert heard.status_code == 202, heard.get_json()


@pytest.fixture
def marked(all_logs, call, world, make_worker, factory, open_window) -> Marked:
    return Marked(call, world, make_worker, factory)


@pytest.fixture
def traces(app, engine_of):  # noqa: F811
    """``traces(needle)``: where ``needle`` still is: "table:<name>" for a row of a table,
    "file:<path>" for a file of the instance or the outbox, "sqlite-file" for the bytes of
    the SQLite database after a checkpoint."""

    def find(needle: str) -> list[str]:
        needle = needle.lower()
        found = []
        with engine_of.connect() as conn:
            for table in Base.metadata.sorted_tables:
                for values in conn.execute(select(table)).all():
                    if needle in repr(tuple(values)).lower():
                        found.append(f"table:{table.name}")
                        break
        for folder in (app.config["INSTANCE_DIR"], app.config["OUTBOX_DIR"]):
            for path in Path(folder).rglob("*") if Path(folder).exists() else ():
                if path.is_file() and needle.encode() in path.read_bytes().lower():
                    found.append(f"file:{path}")
        if engine_of.dialect.name == "sqlite":
            database = Path(engine_of.url.database)
            raw = sqlite3.connect(database, isolation_level=None)  # no BEGIN around it
            try:
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            for path in (database, database.with_name(database.name + "-wal")):
                if path.exists() and needle.encode() in path.read_bytes().lower():
                    found.append(f"sqlite-file:{path.name}")
        return found

    return find


@pytest.fixture
def all_logs(caplog):
    """``all_logs()``: every log line of the app at every level, of the seeding and of the
    test (the test SMTP server's own log is not the app's)."""
    caplog.set_level(logging.DEBUG)

    def lines() -> str:
        records = caplog.get_records("setup") + caplog.get_records("call")
        return "\n".join(
            f"{r.getMessage()} {r.__dict__.get('touchbase', '')} {r.exc_text or ''}"
            for r in records
            if not r.name.startswith("mail.log")  # the loopback SMTP server's, not the app's
        )

    return lines


def unzip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


__all__ = ["MARKER", "Marked", "count", "row", "snapshot", "text", "unzip"]
