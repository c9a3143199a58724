"""Fixtures shared by the whole suite.

The suite runs on a SQLite file by default and on PostgreSQL when
TOUCHBASE_TEST_DATABASE_URL is set. A given URL that cannot be reached fails the run:
it is never a silent skip. The schema is built by the Alembic migrations, not create_all,
so every test also exercises them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from api import create_app, migrate
from api.auth import issue_token
from api.db import make_engine
from api.models import (
    Application,
    Assignment,
    Base,
    ChannelSetting,
    Contact,
    Interview,
    Interviewer,
    Organization,
    PolicySetting,
    Response,
    Touch,
    User,
)
from tests import high_limits


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker process gets a PostgreSQL database of its own beside
    the given one (`<name>_gw0`, ...), so workers never wipe each other's rows. Tests that
    read TOUCHBASE_TEST_DATABASE_URL (subprocess servers, scratch databases) see it too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    given = make_url(url)
    name = f"{given.database}_{worker}"
    admin = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a given database that cannot be reached is a failure
        pytest.exit(f"test database server of {url!r} is unreachable: {exc}", returncode=3)
    finally:
        admin.dispose()
    mine = given.set(database=name).render_as_string(hide_password=False)
    os.environ["TOUCHBASE_TEST_DATABASE_URL"] = mine
    return mine


PG_URL = _database_of_this_worker(os.environ.get("TOUCHBASE_TEST_DATABASE_URL", ""))


def pytest_report_header(config):
    return f"touchbase database: {PG_URL or 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if PG_URL:
        return PG_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'touchbase-test.db'}"


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # a given database that cannot be reached is a failure
        pytest.exit(f"test database {database_url!r} is unreachable: {exc}", returncode=3)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(database_url)
    yield engine
    engine.dispose()


def _wipe(engine: Engine, again: bool = True) -> None:
    # DELETE, not TRUNCATE: on tables this small it is ~15x cheaper per test on PostgreSQL.
    try:
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    except DBAPIError as exc:
        # A fault test left a connection the database dropped in the pool (the API's
        # engine does not ping): SQLAlchemy has replaced the pool's connections; once more.
        if not (again and exc.connection_invalidated):
            raise
        _wipe(engine, again=False)


@pytest.fixture(scope="session")
def _shared_app(engine, tmp_path_factory):
    """Built once: the app holds no per-test state beyond its config, restored below."""
    base = tmp_path_factory.mktemp("app")
    return create_app(
        {
            "ENGINE": engine,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "test-secret",
            "INSTANCE_DIR": str(base / "instance"),
            "OUTBOX_DIR": str(base / "outbox"),
            "PUBLIC_URL": "http://127.0.0.1:8000",
            "TESTING": True,
            **high_limits.CONFIG,
        }
    )


@pytest.fixture
def app(_shared_app, engine, tmp_path):
    saved = dict(_shared_app.config)
    _shared_app.config.update(
        INSTANCE_DIR=str(tmp_path / "instance"), OUTBOX_DIR=str(tmp_path / "outbox")
    )
    yield _shared_app
    _shared_app.config.clear()
    _shared_app.config.update(saved)
    _shared_app.extensions["touchbase.limiter"].reset()
    _wipe(engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session for arranging and inspecting data outside the request cycle."""
    factory: sessionmaker[Session] = app.extensions["touchbase.sessionmaker"]
    with factory() as session:
        yield session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Factory:
    """Creates rows directly, so tests arrange state without going through the API under test."""

    def __init__(self, session: Session):
        self.s = session
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def org(self, name: str | None = None) -> Organization:
        org = Organization(name=name or f"Career office {self._next()}")
        self.s.add(org)
        self.s.commit()
        return org

    def user(self, org: Organization, role: str = "candidate", **kw) -> tuple[User, str]:
        n = self._next()
        user = User(
            org_id=org.id,
            email=kw.pop("email", f"{role}{n}@example.org"),
            name=kw.pop("name", f"{role.title()} {n}"),
            role=role,
            timezone=kw.pop("timezone", "America/New_York"),
            **kw,
        )
        self.s.add(user)
        self.s.flush()
        _token, secret = issue_token(self.s, user, "test")
        self.s.commit()
        return user, secret

    def assign(self, advisor: User, candidate: User) -> Assignment:
        a = Assignment(org_id=advisor.org_id, advisor_id=advisor.id, candidate_id=candidate.id)
        self.s.add(a)
        self.s.commit()
        return a

    def contact(self, candidate: User, **kw) -> Contact:
        n = self._next()
        values = {
            "name": f"Dana Jones {n}",
            "company": "Acme Corp",
            "email": f"dana{n}@acme.example",
            "phone": f"+1415555{n:04d}",  # one person, one number (uq_contacts_candidate_phone)
            "timezone": "America/New_York",
            "country": "US",
        }
        values.update(kw)
        contact = Contact(org_id=candidate.org_id, candidate_id=candidate.id, **values)
        self.s.add(contact)
        self.s.commit()
        return contact

    def application(self, candidate: User, **kw) -> Application:
        values = {"company": "Acme Corp", "position": "Data Engineer"}
        values.update(kw)
        app = Application(org_id=candidate.org_id, candidate_id=candidate.id, **values)
        self.s.add(app)
        self.s.commit()
        return app

    def interview(
        self,
        application: Application,
        contacts: list[Contact],
        starts_at: datetime | None = None,
        **kw,
    ) -> Interview:
        starts_at = starts_at or datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
        interview = Interview(
            org_id=application.org_id,
            candidate_id=application.candidate_id,
            application_id=application.id,
            starts_at=starts_at,
            ends_at=kw.pop("ends_at", starts_at + timedelta(hours=1)),
            interviewers=[
                Interviewer(
                    contact_id=c.id,
                    position=i,
                    specific_point=f"the migration of the billing pipeline ({c.name})",
                    topics="data quality",
                )
                for i, c in enumerate(contacts)
            ],
            **kw,
        )
        self.s.add(interview)
        self.s.commit()
        return interview

    def touch(self, contact: Contact, application: Application, **kw) -> Touch:
        values = {
            "step": "thank_you",
            "channel": "email",
            "status": "scheduled",
            "round": 1,
            "scheduled_for": datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
            "subject": "Thank you",
            "body": "Dear Dana, thank you for your time.",
            "message_id": f"<t{self._next()}@example.org>",
        }
        values.update(kw)
        touch = Touch(
            org_id=contact.org_id,
            candidate_id=contact.candidate_id,
            contact_id=contact.id,
            application_id=application.id,
            **values,
        )
        self.s.add(touch)
        self.s.commit()
        return touch

    def twilio_channels(self, org: Organization) -> None:
        """SMS and calls configured for the org (an account nobody calls: the Twilio
        channels point at a closed loopback port unless a test starts ``twilio_peer``)."""
        account = {
            "account_sid": "AC" + "0" * 32,
            "auth_token": "test-token",
            "from_number": "+14155550100",
        }
        for channel in ("sms", "call"):
            self.s.add(
                ChannelSetting(org_id=org.id, candidate_id=None, channel=channel, values=account)
            )
        self.s.commit()

    def policy(self, org: Organization, candidate: User | None = None, **values) -> PolicySetting:
        """The org's (or, with ``candidate``, the candidate's) staff policy overrides."""
        row = PolicySetting(
            org_id=org.id, candidate_id=candidate.id if candidate else None, values=values
        )
        self.s.add(row)
        self.s.commit()
        return row

    def response(self, contact: Contact, application: Application, kind: str, **kw) -> Response:
        """Something the contact did (replied, gave a decision date...), recorded directly."""
        kw.setdefault("occurred_at", datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
        found = Response(
            org_id=contact.org_id,
            candidate_id=contact.candidate_id,
            contact_id=contact.id,
            application_id=application.id,
            kind=kind,
            **kw,
        )
        self.s.add(found)
        self.s.commit()
        return found


@pytest.fixture
def factory(db) -> Factory:
    return Factory(db)


@pytest.fixture
def world(factory):
    """Two organisations; in the first an admin, an advisor with one assigned candidate,
    and a second, unassigned candidate. Tokens are in `world.tokens[role]`."""

    class World:
        pass

    w = World()
    w.org = factory.org("North career office")
    w.other_org = factory.org("South career office")
    w.admin, t_admin = factory.user(w.org, "admin")
    w.advisor, t_advisor = factory.user(w.org, "advisor")
    w.candidate, t_candidate = factory.user(w.org, "candidate", phone="+14155550199")
    w.other_candidate, t_other = factory.user(w.org, "candidate")
    w.stranger_admin, t_stranger = factory.user(w.other_org, "admin")
    w.stranger, t_stranger_cand = factory.user(w.other_org, "candidate")
    factory.assign(w.advisor, w.candidate)
    w.tokens = {
        "admin": t_admin,
        "advisor": t_advisor,
        "candidate": t_candidate,
        "other_candidate": t_other,
        "stranger_admin": t_stranger,
        "stranger": t_stranger_cand,
    }
    return w


@pytest.fixture
def call(client):
    """`call(method, url, token, json=...)`: one authenticated request."""

    def _call(method: str, url: str, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers.update(bearer(token))
        return client.open(url, method=method.upper(), headers=headers, **kwargs)

    return _call
