"""The clients a portal developer generates from the committed openapi/openapi.json.

Each generator runs once per session: the Python client into the session's temporary
directory, the TypeScript types into tests/client/ts/generated/ (not committed). The npm
packages (openapi-typescript, typescript) are pinned by tests/client/ts/package-lock.json
and installed with `npm ci` into tests/client/ts/node_modules, kept between runs and
reinstalled only when the lock file changes. A machine
without Node.js or npm fails these tests: CI must have them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.bootstrap import bootstrap
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
PYTHON_CONFIG = ROOT / "openapi" / "openapi-python-client.yaml"
TS_DIR = Path(__file__).with_name("ts")
BIN = Path(sys.executable).parent
#: The generated client's own tools (ruff, its post-generation hook) come from this venv.
TOOL_ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@dataclass(frozen=True)
class Generated:
    """One generator's run: where its output is, and everything it printed."""

    directory: Path
    output: str


def run(command: list[str], cwd: Path, timeout: int = 300, **env: str) -> str:
    """Everything the command printed; it must exit 0."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**TOOL_ENV, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


@pytest.fixture(scope="session")
def python_client(tmp_path_factory) -> Iterator[Generated]:
    """openapi-python-client's package from the committed document, importable."""
    where = tmp_path_factory.mktemp("python-client")
    output = run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(DOCUMENT),
            "--config",
            str(PYTHON_CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(where / "touchbase_client"),
        ],
        cwd=where,
    )
    sys.path.insert(0, str(where))
    yield Generated(where, output)
    sys.path.remove(str(where))


def _npm() -> str:
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "Node.js 20 and npm are needed for tests/client"
    return npm


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/client/ts/node_modules as package-lock.json pins it (`npm ci` when it changed)."""
    npm = _npm()
    lock = hashlib.sha256((TS_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = TS_DIR / "node_modules" / ".touchbase-lock-sha256"
    if not (stamp.exists() and stamp.read_text() == lock):
        run([npm, "ci", "--no-audit", "--no-fund"], cwd=TS_DIR)
        stamp.write_text(lock)
    return TS_DIR / "node_modules"


@pytest.fixture(scope="session")
def typescript_types(node_modules) -> Generated:
    """openapi-typescript's types from the committed document, where tests/client/ts/
    portal.ts imports them (tests/client/ts/generated/, not committed)."""
    where = TS_DIR / "generated"
    where.mkdir(exist_ok=True)
    output = run(
        [
            str(node_modules / ".bin" / "openapi-typescript"),
            str(DOCUMENT),
            "--output",
            str(where / "touchbase.d.ts"),
        ],
        cwd=TS_DIR,
    )
    return Generated(where, output)


@pytest.fixture
def served(app, db, database_url, tmp_path) -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of the app on a real loopback server, on the test database."""
    admin_token = bootstrap(db, "Career Services", "admin@example.org", "Ada Admin")
    db.commit()
    with live_server(tmp_path, pool_size=4, database_url=database_url) as base:
        yield base, admin_token
