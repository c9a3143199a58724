"""The dispatch worker: claims due touches, re-checks them, sends them exactly once.

- :mod:`api.dispatch.claim`     the database as the queue: claim, release, extend, reap
- :mod:`api.dispatch.outgoing`  a stored touch -> the channel's Message
- :mod:`api.dispatch.context`   the send-time facts of a claimed batch, in a few queries
- :mod:`api.dispatch.stamp`     the freshness stamp and daily-cap count read at the fence
- :mod:`api.dispatch.worker`    :class:`Worker`: the loop (batches, pipelining, one touch)
- :mod:`api.dispatch.options`   :class:`Options`, backoff, the worker id and fixed words
- :mod:`api.dispatch.stats`     :class:`Outcome`, :class:`RunStats`, the log lines
- :mod:`api.dispatch.leases`    claim, release, the lease heartbeat, the reaper
- :mod:`api.dispatch.locking`   row locks on the worker's touches, its copies kept current
- :mod:`api.dispatch.prepare`   re-check and fence a touch, or reschedule / skip it
- :mod:`api.dispatch.record`    write down a provider's answer
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
