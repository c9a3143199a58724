"""``touchbase worker``: the worker as its own process, with signals and log format.

SIGTERM (or Ctrl-C) finishes the touch in flight, releases the touches claimed but not
started, and exits 0. A second signal stops at once: a touch caught mid-send is left
'sending' and becomes 'unknown' when its lease runs out (never re-sent).
"""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from api.dispatch.worker import Options, Worker

log = logging.getLogger("touchbase.dispatch")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, and the record's structured
    fields (``extra={"touchbase": {...}}``)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(getattr(record, "touchbase", None) or {})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(json_logs: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum, _frame):
        if stop.is_set():
            log.warning("second %s: stopping now", signal.Signals(signum).name)
            raise SystemExit(128 + signum)
        log.info(
            "%s: finishing the touch in flight, releasing the rest",
            signal.Signals(signum).name,
            extra={"touchbase": {"event": "stopping", "signal": signal.Signals(signum).name}},
        )
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


#: Allocations between young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """The worker allocates and drops many short-lived ORM rows and messages per touch;
    with CPython's default thresholds the cyclic collector runs every few hundred of them
    and rescans the whole app each time. Everything alive after start-up (app, plugins,
    mappers) is frozen out of the collector's view, and young collections run 70 times
    less often. Reference counting still frees nearly everything at once; memory stays
    flat (the dispatch benchmark reports the workers' peak RSS)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def run_worker_cli(args) -> int:
    from api import create_app

    # The worker's engine pings before each checkout: after a database restart its first
    # statement may be a fence, which is not retried blindly (the API's engine does without).
    app = create_app({"DB_PRE_PING": True})
    configure_logging(bool(getattr(args, "json_logs", False) or app.config.get("LOG_JSON")))
    options = Options(
        batch=args.batch,
        poll=args.poll,
        lease=args.lease,
        fence_batch=getattr(args, "fence_batch", 1),
    )
    worker = Worker.from_app(app, options=options)
    stop = threading.Event()
    install_signal_handlers(stop)
    tune_gc()
    worker.run(stop, once=bool(args.once))
    return 0
