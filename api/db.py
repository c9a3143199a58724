"""Engine and session handling: one engine per app, one session per request.

Views commit explicitly; anything not committed is rolled back when the request ends,
so a rejected request changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

#: Seconds to wait for a PostgreSQL connection (or a free one from the pool).
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # One writer at a time anyway: the pool's size is SQLAlchemy's default.
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Start write transactions eagerly so concurrent writers queue on the lock
        # instead of failing on upgrade from a read lock.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_backend_name() == "postgresql":
        # A database that does not answer must fail a request fast (503), not hang it.
        kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS})
        kwargs.setdefault("pool_timeout", CONNECT_TIMEOUT_SECONDS)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN (see the "begin" listener).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: an erasure leaves no trace
    # in the file (api.privacy.erasure).
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


#: session.info key of the idempotent request's hold on its session (api.idempotency.hold).
HOLD_KEY = "touchbase.idempotency_hold"


class RequestSession(Session):
    """The request's session. While an idempotent request holds it, the view's commit()
    and rollback() stop at the hold's savepoint: the effect and the answer stored for the
    Idempotency-Key are committed together when the answer is known (api.idempotency)."""

    def commit(self) -> None:
        hold = self.info.get(HOLD_KEY)
        if hold is None:
            super().commit()
        else:
            hold.checkpoint()

    def rollback(self) -> None:
        hold = self.info.get(HOLD_KEY)
        if hold is None:
            super().rollback()
        else:
            hold.undo()


def session_factory() -> sessionmaker[Session]:
    return current_app.extensions["touchbase.sessionmaker"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except (OperationalError, InterfaceError):
        # The database cut the connection (restart, failover): the rollback on close has
        # nothing to roll back. Drop the connection so the pool opens a new one; the answer
        # already given (a 503 when the view failed too) must not become a 500.
        session.invalidate()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction outside a request (CLI, worker): commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session
