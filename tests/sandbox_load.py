"""The template sandbox under load: the real server (``touchbase serve``, SQLite under a
temporary directory), one client that saves and previews every payload of
tests/sandbox_payloads.py in a loop, and a second that times ``/healthz``.

Shared by tests/bench/sandbox_bench.py (the figures, for CI) and
tests/integration/test_sandbox_load.py (the same, shorter, in the suite).
"""

from __future__ import annotations

import math
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import serve_process
from tests.sandbox_payloads import DATA_HEAVY_BODY, HEAVY_NOTES, ISSUE_PAYLOADS, PAYLOADS

#: A request that takes longer than this is recorded as taking this long, and failed.
REQUEST_TIMEOUT = 30.0


def request(base: str, method: str, path: str, token: str | None = None, body: Any = None):
    """(status, JSON answer) of one request on a new connection."""
    return serve_process.request(base, method, path, token, body, timeout=REQUEST_TIMEOUT)


@dataclass
class Server:
    """``touchbase serve`` on a free loopback port, a new SQLite instance in ``workdir``."""

    proc: subprocess.Popen
    base: str
    log_path: Path
    token: str = ""

    @classmethod
    def start(cls, workdir: Path) -> Server:
        proc, base, log_path = serve_process.start_serve(workdir)
        server = cls(proc, base, log_path)
        try:
            server.token = serve_process.admin_token(proc, base, log_path)
        except BaseException:
            server.stop()
            raise
        return server

    def stop(self) -> None:
        """SIGINT as Ctrl-C; killed if it does not stop (as the old code did not)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Attack:
    """One request of the attacker and the field its 422 must name."""

    label: str
    method: str
    path: str
    body: dict[str, Any]
    field: str


def set_up(server: Server) -> list[Attack]:
    """A candidate, a contact with the longest notes the API accepts, and two saved
    templates; returns the attacker's round of requests."""
    base, token = server.base, server.token

    def made(path: str, body: dict[str, Any]) -> int:
        status, answer = request(base, "POST", path, token, body)
        if status != 201:
            raise RuntimeError(f"POST {path}: {status} {answer}")
        return answer["id"]

    candidate = made(
        "/v1/users", {"email": "alex@example.org", "name": "Alex Kim", "role": "candidate"}
    )
    contact = made(
        "/v1/contacts",
        {"candidate_id": candidate, "name": "Dana Jones", "email": "dana@example.org"},
    )
    application = made(
        "/v1/applications",
        {"candidate_id": candidate, "company": "Initech", "position": "Backend Engineer"},
    )
    made(
        "/v1/interviews",
        {
            "application_id": application,
            "starts_at": "2030-06-04T13:00:00+00:00",
            "ends_at": "2030-06-04T14:00:00+00:00",
            "interviewers": [{"contact_id": contact, **HEAVY_NOTES}],
        },
    )
    template = {"candidate_id": candidate, "channel": "email", "subject": "Thank you"}
    heavy = made("/v1/templates", {**template, "step": "thank_you", "body": DATA_HEAVY_BODY})
    plain_body = "Hi {{ contact.name }}"
    plain = made("/v1/templates", {**template, "step": "follow_up", "body": plain_body})

    attacks: list[Attack] = []
    for name, (source, _) in PAYLOADS.items():
        new = {**template, "step": "custom", "body": source}
        attacks.append(Attack(f"save: {name}", "POST", "/v1/templates", new, "body"))
        attacks.append(
            Attack(f"update: {name}", "PATCH", f"/v1/templates/{plain}", {"body": source}, "body")
        )
    for name, (source, _) in ISSUE_PAYLOADS.items():
        new = {**template, "step": "custom", "subject": source, "body": "Hi"}
        attacks.append(Attack(f"save subject: {name}", "POST", "/v1/templates", new, "subject"))
    attacks.append(
        Attack(
            "preview: heavy for the notes",
            "POST",
            f"/v1/templates/{heavy}/preview",
            {"contact_id": contact},
            "body",
        )
    )
    attacks.append(
        Attack(
            "step preview: heavy for the notes",
            "POST",
            "/v1/templates/preview",
            {"contact_id": contact, "step": "thank_you", "channel": "email"},
            "body",
        )
    )
    return attacks


@dataclass
class Answer:
    label: str
    status: int
    refused: bool  # 422 naming the expected field
    seconds: float


@dataclass
class Figures:
    """What one phase measured."""

    healthz: list[float] = field(default_factory=list)  # seconds per /healthz
    healthz_failed: int = 0
    answers: list[Answer] = field(default_factory=list)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.healthz)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan

    def summary(self) -> dict[str, Any]:
        slowest: dict[str, float] = {}
        for answer in self.answers:
            slowest[answer.label] = max(slowest.get(answer.label, 0.0), answer.seconds)
        return {
            "healthz_count": len(self.healthz),
            "healthz_failed": self.healthz_failed,
            "healthz_p50_ms": round(self.percentile(0.50) * 1000, 1),
            "healthz_p99_ms": round(self.percentile(0.99) * 1000, 1),
            "healthz_max_ms": round(max(self.healthz, default=math.nan) * 1000, 1),
            "attacker_requests": len(self.answers),
            "attacker_refused": sum(a.refused for a in self.answers),
            "attacker_not_refused": sorted(
                {f"{a.label} ({a.status})" for a in self.answers if not a.refused}
            ),
            "attacker_slowest_ms": {k: round(v * 1000, 1) for k, v in slowest.items()},
        }


def _probe(base: str, stop: threading.Event, figures: Figures, interval: float) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            ok = request(base, "GET", "/healthz")[0] == 200
        except OSError:
            ok = False
        figures.healthz.append(time.perf_counter() - started)
        figures.healthz_failed += not ok
        stop.wait(interval)


def _attack(server: Server, attacks: list[Attack], stop: threading.Event, figures: Figures):
    while not stop.is_set():
        for attack in attacks:
            if stop.is_set():
                return
            started = time.perf_counter()
            try:
                status, answer = request(
                    server.base, attack.method, attack.path, server.token, attack.body
                )
            except OSError:
                status, answer = 0, None
            errors = (answer or {}).get("errors") if isinstance(answer, dict) else None
            refused = status == 422 and isinstance(errors, dict) and attack.field in errors
            figures.answers.append(
                Answer(attack.label, status, refused, time.perf_counter() - started)
            )


def measure(
    server: Server,
    attacks: list[Attack] | None,
    seconds: float,
    interval: float = 0.02,
    rounds: int = 0,
    patience: float = 120,
) -> Figures:
    """/healthz timed every ``interval`` s for ``seconds`` (and, with ``rounds``, at least
    until the attacker has made that many rounds, for ``patience`` s more at most), while
    ``attacks`` run (None: idle)."""
    figures = Figures()
    stop = threading.Event()
    threads = [threading.Thread(target=_probe, args=(server.base, stop, figures, interval))]
    if attacks:
        threads.append(threading.Thread(target=_attack, args=(server, attacks, stop, figures)))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or (attacks and len(figures.answers) < rounds * len(attacks)):
        time.sleep(0.05)
        if time.monotonic() > deadline + patience:
            break  # the attacker stalls the server: stop and report it
    stop.set()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 5)
    return figures
