"""Real processes for the fault tests and the soak benchmark: API servers, workers, clients.

API processes are `touchbase serve --no-worker` on free loopback ports; workers are
`touchbase worker`; clients are threads with their own HTTP connections that record the
status, content type and latency of every answer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from channels.testing_peers import free_port
from tests.dispatch.conftest import TOUCHBASE, worker_env

PG_CTLCLUSTER = shutil.which("pg_ctlcluster") or "/usr/bin/pg_ctlcluster"


@dataclass
class Api:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_api(database_url: str, tmp_path: Path, name: str, **env: str) -> Api:
    port = free_port()
    log = tmp_path / f"{name}.log"
    handle = open(log, "wb")  # noqa: SIM115  (closed with the process)
    proc = subprocess.Popen(
        [TOUCHBASE, "serve", "--no-worker", "--port", str(port)],
        cwd=tmp_path,
        env=worker_env(
            database_url, tmp_path, TOUCHBASE_PUBLIC_URL=f"http://127.0.0.1:{port}", **env
        ),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    api = Api(proc, port, log)
    try:
        wait_until(lambda: _answers(api), 60, f"{name} did not start")
    except AssertionError:
        stop(proc, timeout=5)
        raise AssertionError(f"{name} did not start:\n{log.read_text()[-2000:]}") from None
    return api


def _answers(api: Api) -> bool:
    if api.proc.poll() is not None:
        raise AssertionError(f"API exited:\n{api.log.read_text()[-2000:]}")
    try:
        return requests.get(api.base + "/healthz", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def wait_until(condition: Callable[[], object], seconds: float, message: str = "") -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s: {message}")


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL process alive now (backends that exited are not counted)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# -- PostgreSQL -------------------------------------------------------------------------------


def postgres_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[0]


def postgres_ready() -> bool:
    return subprocess.call(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]) == 0


def restart_postgres() -> None:
    """`pg_ctlcluster ... restart`: every connection of every process is cut."""
    subprocess.run(
        [PG_CTLCLUSTER, "--skip-systemctl-redirect", postgres_version(), "main", "restart"],
        check=True,
        capture_output=True,
    )


def ensure_postgres() -> None:
    """Start PostgreSQL again if a failed test left it down."""
    if postgres_ready():
        return
    subprocess.run(
        [PG_CTLCLUSTER, "--skip-systemctl-redirect", postgres_version(), "main", "start"],
        capture_output=True,
    )
    wait_until(postgres_ready, 60, "PostgreSQL did not come back")


# -- clients ------------------------------------------------------------------------------------


@dataclass
class Answer:
    at: float  # seconds since the client started
    status: int  # 0: no HTTP answer at all (connection refused, timeout)
    seconds: float
    mimetype: str
    path: str


@dataclass(eq=False)
class Client(threading.Thread):
    """Sends `requests_for(n)` -> (method, path, json) in a loop until stopped."""

    base: str
    token: str
    requests_for: Callable[[int], tuple[str, str, dict | None]]
    timeout: float = 30.0
    answers: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)
        self.halt = threading.Event()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def run(self) -> None:
        started = time.monotonic()
        n = 0
        while not self.halt.is_set():
            method, path, body = self.requests_for(n)
            n += 1
            sent = time.monotonic()
            try:
                response = self.session.request(
                    method, self.base + path, json=body, timeout=self.timeout
                )
                status = response.status_code
                mimetype = response.headers.get("Content-Type", "").split(";")[0]
            except requests.RequestException:
                status, mimetype = 0, ""
            self.answers.append(
                Answer(sent - started, status, time.monotonic() - sent, mimetype, path)
            )

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=self.timeout + 5)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
