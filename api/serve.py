"""The embedded setup: one process serves the API and runs a worker thread (SQLite default)."""

from __future__ import annotations

import logging
import threading

from api import migrate

log = logging.getLogger("touchbase.serve")


def serve(host: str = "127.0.0.1", port: int = 8000, worker: bool = True) -> int:
    from werkzeug.serving import run_simple

    from api import create_app
    from api.bootstrap import bootstrap, is_empty
    from api.db import session_scope

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app()
    if app.config.get("LOG_JSON"):  # TOUCHBASE_LOG_JSON: one JSON object per line
        from api.dispatch.cli import configure_logging

        configure_logging(True)
    url = app.config["DATABASE_URL"]
    migrate.upgrade(url)
    with session_scope(app.extensions["touchbase.sessionmaker"]) as session:
        if is_empty(session):
            secret = bootstrap(session, "My career office", "admin@localhost", "Admin")
            print("\nA new database: created organisation 'My career office' and its admin.")
            print(f"Admin token (shown once, keep it safe): {secret}\n")
    stop = threading.Event()
    thread = None
    if worker:
        thread = _start_worker(app, stop)
    print(f"Touchbase API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)
    return 0


def _start_worker(app, stop: threading.Event) -> threading.Thread | None:
    try:
        from api.dispatch import Worker
    except ImportError:  # the worker arrives with the dispatch module
        log.warning("no dispatch worker available; serving the API only")
        return None
    worker = Worker.from_app(app)
    thread = threading.Thread(target=worker.run, args=(stop,), name="touchbase-worker", daemon=True)
    thread.start()
    return thread
