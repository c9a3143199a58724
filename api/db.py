"""Engine and session handling: one engine per app, one session per request.

Views commit explicitly; anything not committed is rolled back when the request ends,
so a rejected request changes nothing.

What a request costs the database beyond its own queries is its transaction's BEGIN and
COMMIT/ROLLBACK, nothing else: no ping before each checkout (a connection the database
dropped is noticed by the request's first statement, which is retried once on a fresh
one: _retry_first_statement), and a read takes no write lock on SQLite and no
transaction on PostgreSQL (reading, writing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

#: Seconds to wait for a PostgreSQL connection (or a free one from the pool).
CONNECT_TIMEOUT_SECONDS = 5
#: Execution option naming how a SQLite transaction begins: "DEFERRED" (a reader: no lock
#: until it writes) or, by default, "IMMEDIATE" (a writer: it queues on the write lock).
SQLITE_BEGIN = "touchbase_sqlite_begin"
#: Execution option of a reader's engine (reading).
READER = "touchbase_reader"
#: Requests whose session reads (their views may still write: see writing()).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(url: str, *, pre_ping: bool = False, **kwargs) -> Engine:
    """The engine of ``url``. ``pre_ping``: a round trip before each checkout, for the
    worker's engine, whose statements are not all safe to retry; the API's engine does
    without (_retry_first_statement)."""
    parsed = make_url(url)
    kwargs.setdefault("pool_pre_ping", pre_ping)
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
        event.listen(engine, "begin", _sqlite_begin)
        return engine
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


def _sqlite_begin(conn) -> None:
    # Writers begin IMMEDIATE so concurrent writers queue on the lock instead of failing on
    # upgrade from a read lock ("database is locked"); readers begin DEFERRED and never
    # wait for a writer (WAL: they read the last committed state).
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")


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
    """The request's session, opened on first use: a reader's for GET, HEAD and OPTIONS
    (reading), a writer's for the rest."""
    if "db_session" not in g:
        session = session_factory()()
        if has_request_context() and request.method in READ_METHODS:
            reading(session)
        g.db_session = session
    return g.db_session


def _reader(engine: Engine) -> Engine:
    """The engine of the readers of ``engine`` (one, cached): on SQLite its transactions
    begin DEFERRED; on PostgreSQL its statements run in autocommit, with no BEGIN and no
    ROLLBACK round trip (under READ COMMITTED each statement of a transaction reads its
    own snapshot anyway: a reader loses nothing)."""
    reader = getattr(engine, "_touchbase_reader", None)
    if reader is None:
        if engine.dialect.name == "sqlite":
            reader = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED", READER: True})
        else:
            reader = engine.execution_options(isolation_level="AUTOCOMMIT", **{READER: True})
        reader._touchbase_writer = engine
        engine._touchbase_reader = reader
    return reader


def reading(session: Session) -> None:
    """The session reads (see _reader): on SQLite it takes no lock until it writes, and
    never queues behind a writer. A write must be announced with writing() first."""
    engine = session.get_bind()
    if isinstance(engine, Engine) and not is_reading(session):
        session.bind = _reader(engine)


def is_reading(session: Session) -> bool:
    """Whether the session is a reader's (reading): a write needs writing() first."""
    return bool(session.get_bind().get_execution_options().get(READER))


def writing(session: Session) -> None:
    """Before a reader's first write (a draft found expired, a token's last use): its
    work so far, which wrote nothing, ends, and what follows is one transaction (on
    SQLite begun IMMEDIATE, queued on the write lock). On SQLite a DEFERRED transaction
    that read and then writes fails ("database is locked") whenever another writer
    committed in between, whatever the busy timeout; on PostgreSQL the reader's
    statements would each commit on their own. The caller re-reads what it writes by."""
    if not is_reading(session):
        return
    engine = session.get_bind()
    if session.in_transaction():
        Session.commit(session)  # a reader holds no idempotency hold: nothing to keep
    session.bind = engine._touchbase_writer


#: session.info key: the request's session has run its first statement.
_STARTED_KEY = "touchbase.started"


@event.listens_for(RequestSession, "do_orm_execute")
def _retry_first_statement(state):
    """The request's first statement, retried once on a fresh connection when the pooled
    one turns out dead. The pool does not ping a connection before lending it (a round
    trip per request): when the database dropped it since (a restart, a failover), the
    first statement fails on it, and nothing has been done yet, so it runs again.
    SQLAlchemy has by then marked every older pooled connection for replacement."""
    session = state.session
    if session.info.get(_STARTED_KEY):
        return None
    session.info[_STARTED_KEY] = True
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        if not exc.connection_invalidated or HOLD_KEY in session.info:
            raise
        Session.rollback(session)
        return state.invoke_statement()


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
