"""How a worker works: its options, its id, the backoff between attempts.

Also the fixed words and limits the worker writes with (the actor of its events, the
reason of a lost send, the provider id's size, the pauses of a retried write).
"""

from __future__ import annotations

import os
import random
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

ACTOR = "worker"
LOST_REASON = "worker lost during send; not re-sent automatically"
UNKNOWN_ADVICE = (
    "Settle it with POST /v1/touches/{id}/resolve once you know whether it arrived "
    "(a provider status callback may also settle it)."
)
PROVIDER_ID_MAX = 64  # Touch.provider_id column size
#: Pauses between attempts to record a provider's answer while the database is away.
RECORD_RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)
#: Outcomes logged at warning level: someone may want to look at them.
WARN_OUTCOMES = frozenset({"failed", "unknown", "lost", "error"})


def make_worker_id() -> str:
    """``hostname:pid:random``: unique across machines, restarts and threads."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Options:
    """How a worker works. ``lease`` in seconds; backoff in seconds (full jitter)."""

    batch: int = 50
    poll: float = 1.0
    lease: float = 120.0
    max_attempts: int = 5
    backoff_base: float = 60.0
    backoff_cap: float = 3600.0
    progress_every: int = 100
    #: Touches fenced in one commit. A worker that dies leaves up to this many 'unknown'.
    fence_batch: int = 1

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("batch must be at least 1")
        if not (self.lease > 0 and self.poll > 0):  # written so that nan fails too
            raise ValueError("lease and poll must be positive")
        if self.fence_batch < 1:
            raise ValueError("fence_batch must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @property
    def lease_delta(self) -> timedelta:
        return timedelta(seconds=self.lease)

    @property
    def heartbeat(self) -> float:
        return max(0.05, self.lease / 3)

    @property
    def reap_every(self) -> float:
        return min(30.0, max(0.25, self.lease / 4))


def backoff_delay(
    attempt: int,
    *,
    base: float = 60.0,
    cap: float = 3600.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before attempt ``attempt + 1``: exponential backoff with full jitter,
    ``uniform(0, min(cap, base * 2 ** (attempt - 1)))``, at least 1 s, and never sooner
    than the provider asked (``retry_after``)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = max(1.0, (rng or random).uniform(0, ceiling))
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay
