"""The dispatch worker: claims due touches, re-checks them, sends them exactly once.

- :mod:`api.dispatch.claim`     the database as the queue: claim, release, extend, reap
- :mod:`api.dispatch.outgoing`  a stored touch -> the channel's Message
- :mod:`api.dispatch.worker`    :class:`Worker`: the loop, one touch, outcomes, heartbeat
- :mod:`api.dispatch.cli`       ``touchbase worker``: signals, JSON logs
"""

from api.dispatch.cli import run_worker_cli
from api.dispatch.worker import (
    LOST_REASON,
    Options,
    Outcome,
    RunStats,
    Worker,
    backoff_delay,
    make_worker_id,
)

__all__ = [
    "LOST_REASON",
    "Options",
    "Outcome",
    "RunStats",
    "Worker",
    "backoff_delay",
    "make_worker_id",
    "run_worker_cli",
]
