"""An unreachable database is the server's outage: a fast 503 problem, never a 500 or a hang.

The app is pointed at a loopback port where nothing listens, a real refused connection.
"""

from __future__ import annotations

import socket
import time

import pytest

from api import create_app
from tests.api.helpers import assert_problem


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
