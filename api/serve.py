"""The embedded setup: one process serves the API and runs a worker thread (SQLite default).

The server is waitress: a production WSGI server that serves with threads in one process,
so the worker thread, the SIGTERM handling below and the in-memory rate-limit counters of
the embedded setup live in the process that serves (gunicorn forks workers from a master
that owns the signals, and each fork would count and dispatch on its own). On PostgreSQL,
run as many `touchbase serve --no-worker` processes as there are cores behind a proxy, or
any WSGI server on `api:create_app()`.
"""

from __future__ import annotations

import logging
import signal
import threading

from api import migrate

log = logging.getLogger("touchbase.serve")

#: The first admin of a new embedded database (a placeholder address the API accepts).
FIRST_ADMIN_EMAIL = "admin@example.org"
#: Seconds the worker thread gets to finish the touch in flight once serving stops.
WORKER_STOP_SECONDS = 30
#: Requests served at once (waitress's threads); the database pool (TOUCHBASE_DB_POOL_SIZE,
#: 20) holds a connection for each.
DEFAULT_THREADS = 8


def serve(
    host: str = "127.0.0.1", port: int = 8000, worker: bool = True, threads: int = DEFAULT_THREADS
) -> int:
    from waitress import create_server

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
            secret = bootstrap(session, "My career office", FIRST_ADMIN_EMAIL, "Admin")
            print("\nA new database: created organisation 'My career office' and its admin.")
            print(f"Admin token (shown once, keep it safe): {secret}\n")
    stop = threading.Event()
    thread = None
    if worker:
        thread = _start_worker(app, stop)
    _stop_on_sigterm_as_on_ctrl_c()
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="touchbase",
        # X-Forwarded-For is the app's to read (TOUCHBASE_TRUSTED_PROXIES), not stripped here.
        clear_untrusted_proxy_headers=False,
    )
    print(f"Touchbase API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    print(f"Public URL (Twilio callbacks, calendar feeds): {app.config['PUBLIC_URL']}")
    try:
        server.run()  # until SIGTERM or Ctrl-C: then the requests in progress finish
    finally:
        server.close()
        stop.set()
        if thread is not None:
            _wait_for_worker(thread)
    return 0


def _stop_on_sigterm_as_on_ctrl_c() -> None:
    """SIGTERM is how service managers and container runtimes stop a process. By default
    it kills at once, and a touch caught mid-send is left 'sending', then 'unknown' for
    the candidate to settle. As a KeyboardInterrupt it stops the server as Ctrl-C does,
    and the worker thread finishes the touch in flight and releases the rest."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread (serve called from a thread)

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _wait_for_worker(thread: threading.Thread) -> None:
    log.info("stopping: the worker finishes the touch in flight and releases the rest")
    try:
        thread.join(timeout=WORKER_STOP_SECONDS)
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM: stop now
        log.warning(
            "second signal: stopping now; a touch caught mid-send stays 'sending' and "
            "becomes 'unknown' when its lease runs out (never re-sent)"
        )
        raise SystemExit(130) from None
    if thread.is_alive():
        log.warning(
            "the worker did not stop within %ss; a touch caught mid-send becomes "
            "'unknown' when its lease runs out (never re-sent)",
            WORKER_STOP_SECONDS,
        )


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
