"""The README's first walk-through, pasted into a shell as a newcomer would, against
`touchbase serve` on a fresh instance: it ends with a delivered thank-you and a recorded
reply that cancelled the follow-up."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.serve_process import admin_token, request, start_serve

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl"),
]

README = Path(__file__).resolve().parents[1] / "README.md"


def tour() -> str:
    """The shell block of 'Your first thank-you, sent and answered'."""
    text = README.read_text().split("### Your first thank-you", 1)[1]
    return re.search(r"```sh\n(.*?)```", text, re.S).group(1)


def test_the_readme_tour_delivers_a_thank_you_and_records_the_reply(tmp_path):
    proc, base, log_path = start_serve(tmp_path)
    try:
        token = admin_token(proc, base, log_path)
        script = re.sub(r"^TB=\S+", f"TB={base}", tour(), count=1, flags=re.M)
        script = re.sub(r"^T=\S+", f"T={token}", script, count=1, flags=re.M)
        assert f"TB={base}" in script and f"T={token}" in script

        done = subprocess.run(
            ["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=90
        )

        assert done.returncode == 0, done.stdout + done.stderr + log_path.read_text()
        _status, touches = request(base, "GET", "/v1/touches", token)
        assert sorted((t["step"], t["status"]) for t in touches) == [
            ("follow_up", "cancelled"),
            ("thank_you", "sent"),
        ]
        _status, responses = request(base, "GET", "/v1/responses", token)
        assert [(r["kind"], r["source"]) for r in responses] == [("replied", "email")]
        assert len(list((tmp_path / "instance" / "outbox").glob("*.eml"))) == 1
        assert json.loads(done.stdout.splitlines()[-1])[0]["status"] == "sent"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
