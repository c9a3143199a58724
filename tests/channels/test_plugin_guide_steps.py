"""plugins/README.md, followed to the letter: `touchbase plugin new`, edit, `pip install -e .`,
`pytest`, `touchbase plugins`, `GET /v1/channels`, then a touch scheduled through the new
channel is delivered to a loopback peer.

The environment the plugin is installed into is a new venv layered on this one (a ``.pth``
adds this venv's site-packages), so the install is real (its own dist-info and entry point,
found by ``importlib.metadata``) yet offline and quick: ``--no-deps --no-build-isolation``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from api import cli
from channels.testing_peers import free_port
from tests.dispatch.seeding import OPEN_POLICY, midday_zone
from tests.serve_process import admin_token, request

pytestmark = pytest.mark.slow

NAME = "relay"
GUIDE = Path(__file__).resolve().parents[2] / "plugins" / "README.md"


def guide_edit() -> tuple[str, str]:
    """Step 2 of the guide, its ```diff block: (the lines it changes, what they become)."""
    block = re.search(r"```diff\n(.*?)```", GUIDE.read_text(), re.S).group(1).splitlines()
    before = [line[1:] for line in block if not line.startswith("+")]
    after = [line[1:] for line in block if not line.startswith("-")]
    return "\n".join(before) + "\n", "\n".join(after) + "\n"


def run(python: Path, *args: str, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    """Steps 1 to 3 of the guide: scaffold, edit, install. (workdir, package, venv python)."""
    work = tmp_path_factory.mktemp("guide")
    assert f"touchbase plugin new {NAME}" in GUIDE.read_text()
    assert cli.main(["plugin", "new", NAME, "--dir", str(work)]) == 0
    package = work / f"touchbase-{NAME}"
    module = package / f"touchbase_{NAME}.py"
    before, after = guide_edit()
    assert before in module.read_text()
    module.write_text(module.read_text().replace(before, after))
    venv = work / "venv"
    run(Path(sys.executable), "-m", "venv", "--without-pip", str(venv), cwd=work)
    here = sysconfig.get_paths()["purelib"]
    python = venv / "bin" / "python"
    there = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work)
    Path(there.strip(), "_touchbase_dev.pth").write_text(
        f"import site; site.addsitedir({here!r})\n"
    )
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
        "--no-index", "-e", ".", cwd=package)  # fmt: skip
    return work, package, python


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHBASE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


def test_the_scaffolds_own_tests_pass_as_generated_and_edited(guide):
    _work, package, python = guide

    quick = _env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # this venv's hypothesis, schemathesis...
    out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, env=quick)

    assert " passed" in out and "failed" not in out


def test_touchbase_plugins_lists_the_installed_plugin(guide):
    work, _package, python = guide

    out = run(python, "-m", "api.cli", "plugins", "--json", cwd=work, env=_env())

    [plugin] = [p for p in json.loads(out) if p["name"] == NAME]
    assert (plugin["distribution"], plugin["version"]) == (f"touchbase-{NAME}", "0.1.0")
    assert plugin["hooks"] == ["register_channels"]
    [channel] = plugin["channels"]
    assert channel["settings_schema"]["properties"]["url"]["format"] == "uri"


def _peer_class(package: Path):
    """The loopback provider the scaffold ships in its tests/conftest.py."""
    spec = importlib.util.spec_from_file_location(
        "scaffold_conftest", package / "tests/conftest.py"
    )
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    return conftest.Peer


def test_a_touch_through_the_new_channel_is_delivered(guide):
    work, package, python = guide
    peer = _peer_class(package)()
    threading.Thread(target=peer.serve_forever, args=(0.05,), daemon=True).start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = work / "serve.log"
    env = _env(TOUCHBASE_INSTANCE_DIR=str(work / "instance"), TOUCHBASE_PUBLIC_URL=base)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(python), "-m", "api.cli", "serve", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        token = admin_token(proc, base, log_path)

        def ok(method, path, body=None, expect=(200, 201)):
            status, answer = request(base, method, path, token, body)
            assert status in expect, (status, answer)
            return answer

        assert NAME in {c["name"] for c in ok("GET", "/v1/channels")}
        ok("PUT", f"/v1/channels/{NAME}/settings", {"url": peer.url})
        ok("PUT", "/v1/policy", OPEN_POLICY)
        candidate = ok(
            "POST",
            "/v1/users",
            {"email": "ana@example.org", "name": "Ana Silva", "role": "candidate"},
        )
        contact = ok(
            "POST",
            "/v1/contacts",
            {
                "candidate_id": candidate["id"],
                "name": "Dana Jones",
                "email": "dana.jones@acme.example",
                "timezone": midday_zone(),
                "preferred_channel": NAME,
            },
        )
        application = ok(
            "POST",
            "/v1/applications",
            {"candidate_id": candidate["id"], "company": "Acme Corp", "position": "Data Engineer"},
        )
        touch = ok(
            "POST",
            "/v1/touches",
            {
                "contact_id": contact["id"],
                "application_id": application["id"],
                "step": "thank_you",
                "channel": NAME,
            },
        )

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not peer.received:
            time.sleep(0.1)
        assert peer.received, log_path.read_text()
        [(_headers, body)] = peer.received
        assert body["to"] == "dana.jones@acme.example"
        assert body["source"] == "touchbase"  # the edit
        assert body["subject"] == "Thank you, Dana"  # the plugin's own default template
        deadline = time.monotonic() + 10
        while ok("GET", f"/v1/touches/{touch['id']}")["status"] != "sent":
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        peer.shutdown()
        peer.server_close()
