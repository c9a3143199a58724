"""What a worker reports: one :class:`Outcome` per touch, the :class:`RunStats` of a run.

The memory and CPU probes feed the run's final log line (and the benchmark);
:class:`ReportMixin` writes the per-touch and progress log lines.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.dispatch.options import WARN_OUTCOMES
from api.privacy.redact import redact

log = logging.getLogger("touchbase.dispatch")


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB.

    Linux: ``VmHWM`` of /proc/self/status. ``getrusage().ru_maxrss`` would do elsewhere,
    but on Linux it survives ``exec`` and starts at the parent's size when forked, so a
    worker started by a big process would report the parent's memory."""
    found = _proc_status_kb("VmHWM")
    if found is not None:
        return found
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if os.uname().sysname == "Darwin" else peak


def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def current_rss_kb() -> int | None:
    return _proc_status_kb("VmRSS")


@dataclass
class Outcome:
    """What happened to one touch in one pass of the worker (one log line)."""

    touch_id: int
    kind: str  # sent retry failed unknown skipped rescheduled lost error
    channel: str | None = None
    attempt: int | None = None
    reason: str | None = None
    rule: str | None = None
    provider_id: str | None = None
    next_at: datetime | None = None
    ms: float | None = None


@dataclass
class RunStats:
    """What one ``run`` did; ``as_dict`` is the worker's final log line."""

    worker_id: str
    started: float = field(default_factory=time.monotonic)
    outcomes: Counter = field(default_factory=Counter)
    claimed: int = 0
    released: int = 0
    reaped: int = 0

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    def as_dict(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        return {
            "worker": self.worker_id,
            "processed": self.processed,
            "claimed": self.claimed,
            "released": self.released,
            "reaped": self.reaped,
            "outcomes": dict(self.outcomes),
            "elapsed_s": round(elapsed, 3),
            "rate_per_s": round(self.processed / elapsed, 1) if elapsed > 0 else None,
            "cpu_s": round(_cpu_seconds(), 3),
            "peak_rss_kb": peak_rss_kb(),
            "rss_kb": current_rss_kb(),
        }


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class ReportMixin:
    """The worker's log lines: one per touch, and progress every so often."""

    def _progress(self) -> None:
        summary = self.stats.as_dict()
        log.info(
            "progress: %d touches in %.1fs (%s/s): %s",
            summary["processed"],
            summary["elapsed_s"],
            summary["rate_per_s"],
            ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items())),
            extra={"touchbase": {"event": "progress", **summary}},
        )

    def _log(self, outcome: Outcome) -> None:
        fields_ = {
            "event": "touch",
            "worker": self.id,
            "touch_id": outcome.touch_id,
            "outcome": outcome.kind,
            "channel": outcome.channel,
            "attempt": outcome.attempt,
            "rule": outcome.rule,
            "provider_id": outcome.provider_id,
            "next_at": outcome.next_at.isoformat() if outcome.next_at else None,
            "reason": redact(outcome.reason),  # no addresses in the logs (api.privacy.redact)
            "ms": outcome.ms,
        }
        fields_ = {k: v for k, v in fields_.items() if v is not None}
        text = " ".join(
            f"{k}={v}" for k, v in fields_.items() if k not in ("event", "worker", "reason")
        )
        if outcome.reason:
            text += f" reason={fields_['reason']!r}"
        level = logging.WARNING if outcome.kind in WARN_OUTCOMES else logging.INFO
        log.log(level, "touch %s", text, extra={"touchbase": fields_})
