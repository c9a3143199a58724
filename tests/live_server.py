"""The app under a real threaded WSGI server on a free loopback port, for races on
PostgreSQL: each request holds its own database connection at the same moment."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api import create_app
from api.db import make_engine
from tests import high_limits

PG_URL = os.environ.get("TOUCHBASE_TEST_DATABASE_URL", "")

needs_postgres = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="needs real parallel connections to PostgreSQL: set TOUCHBASE_TEST_DATABASE_URL "
    "to a postgresql:// URL (SQLite serialises all writers, so there is no race to test)",
)


@contextmanager
def live_server(
    tmp_path: Path,
    *,
    pool_size: int,
    public_url: str = "http://127.0.0.1:8000",
    database_url: str | None = None,
) -> Iterator[str]:
    """Yields the server's base URL; its pool has `pool_size` connections. The database is
    TOUCHBASE_TEST_DATABASE_URL's unless `database_url` names another (a SQLite file)."""
    url = database_url or PG_URL
    engine = make_engine(url, pool_size=pool_size, max_overflow=0)
    served = create_app(
        {
            "ENGINE": engine,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "INSTANCE_DIR": str(tmp_path / "served-instance"),
            "OUTBOX_DIR": str(tmp_path / "served-outbox"),
            "PUBLIC_URL": public_url,
            "TESTING": True,
            **high_limits.CONFIG,
        }
    )
    httpd = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        engine.dispose()
