"""Fixtures for the API tests: database snapshots and fresh reads.

Reads go through their own short-lived connection, never the `db` session: on SQLite the
`db` session's transactions take the write lock (BEGIN IMMEDIATE), so a session left open
would block the request under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from api.models import Base

# Written by authentication itself, even for requests that are then rejected.
VOLATILE_COLUMNS = {("api_tokens", "last_used_at")}


@pytest.fixture
def engine_of(app):
    return app.extensions["touchbase.engine"]


@pytest.fixture
def snapshot(engine_of):
    """`snapshot()`: every row of every table, to prove a rejected request changed nothing."""

    def _snapshot() -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {}
        with engine_of.connect() as conn:
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
                rows = conn.execute(select(*columns)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return out

    return _snapshot


@pytest.fixture
def count(engine_of):
    """`count(Model, **equal)`: rows of a model matching column == value."""

    def _count(model, **equal: Any) -> int:
        query = select(func.count()).select_from(model)
        for name, value in equal.items():
            query = query.where(getattr(model, name) == value)
        with engine_of.connect() as conn:
            return conn.scalar(query)

    return _count


@pytest.fixture
def row(engine_of):
    """`row(Model, id)`: one row as a mapping, read fresh from the database (None if gone)."""

    def _row(model, object_id: int):
        with engine_of.connect() as conn:
            found = conn.execute(select(model.__table__).where(model.id == object_id)).first()
            return None if found is None else dict(found._mapping)

    return _row


@pytest.fixture
def sql(engine_of):
    """`sql(statement, **params)`: all rows of a raw SQL query."""

    def _sql(statement: str, **params: Any) -> list[tuple]:
        with engine_of.connect() as conn:
            return [tuple(r) for r in conn.execute(text(statement), params)]

    return _sql


class Statements(list):
    """What the app's engine sent, in order: BEGIN, COMMIT and ROLLBACK as such (whether
    the driver or SQLAlchemy emits them; none in autocommit, where the driver sends
    none), other statements by their first words."""

    def __init__(self):
        super().__init__()
        self.checkouts = 0
        self.sql: list[str] = []  # the statements themselves, BEGIN and the like aside

    def first_words(self, statement: str) -> str:
        words = statement.split()
        if words[0] in ("SELECT", "DELETE") and "FROM" in words:
            return f"{words[0]} {words[words.index('FROM') + 1]}"
        return " ".join(words[:3])


@pytest.fixture
def statements(engine_of) -> Iterator[Statements]:
    """Every statement the app's engine sends from now on (see Statements)."""
    seen = Statements()

    def on_execute(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # SQLite's, emitted by api.db: counted below
            seen.append(seen.first_words(statement))
            seen.sql.append(statement)

    def on_checkout(*_args):
        seen.checkouts += 1

    def sent(word: str):
        def hook(conn):
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                seen.append(word)

        return hook

    hooks = [
        ("before_cursor_execute", on_execute),
        ("begin", sent("BEGIN")),
        ("commit", sent("COMMIT")),
        ("rollback", sent("ROLLBACK")),
    ]
    for name, hook in hooks:
        event.listen(engine_of, name, hook)
    event.listen(engine_of.pool, "checkout", on_checkout)
    yield seen
    for name, hook in hooks:
        event.remove(engine_of, name, hook)
    event.remove(engine_of.pool, "checkout", on_checkout)


@pytest.fixture
def marshmallow_dump(monkeypatch):
    """`marshmallow_dump(schema, obj)`: what marshmallow's own per-object loop dumps, for
    holding the lean dump (api.schemas.lean) to it."""
    import marshmallow as ma

    from api.schemas.fields import ReadSchema

    def _dump(schema, obj, **kwargs):
        with monkeypatch.context() as patch:
            patch.setattr(ReadSchema, "_serialize", ma.Schema._serialize)
            return schema.dump(obj, **kwargs)

    return _dump
