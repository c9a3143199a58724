"""Fixtures for Idempotency-Key: a keyed POST, and the keys table read fresh."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from api.idempotency import keys
from api.models import IdempotencyKey, utcnow

HEADER = "Idempotency-Key"


@pytest.fixture
def engine_of(app):
    return app.extensions["touchbase.engine"]


@pytest.fixture
def count(engine_of):
    """`count(Model)`: its rows, read on their own connection."""

    def _count(model) -> int:
        with engine_of.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model))

    return _count


@pytest.fixture
def new_key():
    return lambda: str(uuid.uuid4())


@pytest.fixture
def keyed(call):
    """`keyed(path, token, key, json=...)`: a POST carrying an Idempotency-Key."""

    def _keyed(path: str, token: str, key: str, **kwargs):
        headers = {HEADER: key, **kwargs.pop("headers", {})}
        return call("POST", path, token, headers=headers, **kwargs)

    return _keyed


@pytest.fixture
def key_rows(engine_of):
    """`key_rows()`: every stored key, read on its own connection."""

    def _rows() -> list[dict]:
        with engine_of.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(IdempotencyKey.__table__))]

    return _rows


@pytest.fixture
def age_keys(engine_of):
    """`age_keys(**columns)`: move every key's times by the given timedeltas (e.g.
    expires_at=-25h), as if that much time had passed."""

    def _age(**shifts: timedelta) -> None:
        with engine_of.begin() as conn:
            for row in conn.execute(select(IdempotencyKey.__table__)).all():
                values = {name: getattr(row, name) + shift for name, shift in shifts.items()}
                conn.execute(
                    update(IdempotencyKey).where(IdempotencyKey.id == row.id).values(**values)
                )

    return _age


@pytest.fixture
def claim_in_flight(app):
    """`claim_in_flight(user, key, path, body)`: the key claimed by a request that is still
    running (or crashed): claimed as the API does, never answered."""

    def _claim(user, key: str, path: str, body) -> keys.Claimed:
        req = keys.Request(
            user_id=user.id,
            key=key,
            fingerprint=keys.fingerprint("POST", path, b"", body, b""),
            method="POST",
            path=path,
        )
        result = keys.claim(
            app.extensions["touchbase.sessionmaker"],
            req,
            utcnow(),
            ttl=timedelta(hours=24),
            lease=timedelta(seconds=60),
        )
        assert isinstance(result, keys.Claimed)
        return result

    return _claim
