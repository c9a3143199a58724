"""`touchbase serve` as a subprocess on a fresh instance, as `make run` starts it, and one
JSON request to it: shared by the embedded-setup tests and the sandbox load test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from channels.testing_peers import free_port
from tests import high_limits

TOUCHBASE = str(Path(sys.executable).with_name("touchbase"))
#: The line `touchbase serve` prints once on a new database.
TOKEN = re.compile(r"Admin token \(shown once, keep it safe\): (\S+)")


def start_serve(
    workdir: Path, *args: str, port: int | None = None, **settings: str
) -> tuple[subprocess.Popen, str, Path]:
    """(process, base URL, log file) of `touchbase serve *args` on `port` (default: a free
    loopback port), with no TOUCHBASE_* settings but its instance directory,
    `workdir / "instance"`, rate limits no test reaches by accident (tests.high_limits),
    and the `settings` given (TOUCHBASE_DATABASE_URL=...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHBASE_")}
    env.update(TOUCHBASE_INSTANCE_DIR=str(workdir / "instance"), PYTHONUNBUFFERED="1")
    env.update(high_limits.ENV)
    env.update(settings)
    port = port or free_port()
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [TOUCHBASE, "serve", *args, "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}", log_path


def admin_token(proc: subprocess.Popen, base: str, log_path: Path, seconds: float = 60) -> str:
    """The token serve prints for a new database, once the API answers; RuntimeError (with
    the log) if the process exits or does not come up in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = TOKEN.search(log_path.read_text())
        if found:
            try:
                if request(base, "GET", "/healthz")[0] == 200:
                    return found.group(1)
            except OSError:
                pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"touchbase serve did not come up:\n{log_path.read_text()}")


def request(
    base: str,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    timeout: float = 10.0,
):
    """(status, JSON answer) of one request on a new connection."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
