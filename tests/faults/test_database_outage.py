"""An unreachable database is the server's outage: a fast 503 problem, never a 500 or a hang.

The app is pointed at a loopback port where nothing listens, a real refused connection.
"""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import text

from api import create_app
from api.db import close_session, get_session
from tests.api.helpers import assert_problem
from tests.conftest import PG_URL


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def outage_client(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test"
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "outage",
            "INSTANCE_DIR": str(tmp_path),
            "TESTING": True,
        }
    )
    return app.test_client()


def test_a_request_while_the_database_is_down_is_a_503_problem(outage_client):
    response = outage_client.get("/v1/me", headers={"Authorization": "Bearer tb_" + "x" * 43})

    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"


def test_the_503_comes_fast(outage_client):
    started = time.monotonic()
    outage_client.post(
        "/v1/contacts", json={"name": "Dana"}, headers={"Authorization": "Bearer tb_x"}
    )

    assert time.monotonic() - started < 3


def test_liveness_is_answered_while_the_database_is_down(outage_client):
    assert outage_client.get("/healthz").status_code == 200


def test_readiness_says_the_database_is_down(outage_client):
    assert_problem(outage_client.get("/readyz"), 503)


@pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PostgreSQL")
def test_a_connection_cut_mid_request_ends_the_request_cleanly(app, engine):
    """After a restart, a request's connection dies under it: ending the request must not
    raise (werkzeug would answer 500), and the next request gets a working connection."""
    with app.test_request_context():
        session = get_session()
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        close_session()

    with app.test_request_context():
        assert get_session().execute(text("SELECT 1")).scalar_one() == 1
        close_session()


def test_the_postgresql_pool_holds_what_the_configuration_says(tmp_path, monkeypatch):
    """Sized for the requests one process serves at once: a pool smaller than that opens
    and closes a connection for every request over it (found by the soak benchmark)."""
    monkeypatch.setenv("TOUCHBASE_DB_POOL_SIZE", "7")
    monkeypatch.setenv("TOUCHBASE_DB_MAX_OVERFLOW", "3")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "pool", "INSTANCE_DIR": str(tmp_path)})

    pool = app.extensions["touchbase.engine"].pool
    assert (pool.size(), pool._max_overflow) == (7, 3)


def test_the_default_pool_keeps_twenty_connections(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "pool", "INSTANCE_DIR": str(tmp_path)})

    assert app.extensions["touchbase.engine"].pool.size() == 20
