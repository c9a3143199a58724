"""The ETag is a hash of the representation: two API processes on one database answer the
same one, so a client may send it back to whichever process a load balancer picks."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.serve_process import admin_token, request, start_serve

pytestmark = pytest.mark.slow


def _get(base: str, path: str, token: str, **headers: str):
    req = urllib.request.Request(
        base + path, headers={"Authorization": f"Bearer {token}", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    if proc.poll() is None:
        proc.kill()


def test_two_api_processes_answer_the_same_etag_and_honour_each_others(tmp_path):
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    first, first_base, first_log = start_serve(
        first_dir, "--no-worker", TOUCHBASE_DATABASE_URL=database
    )
    second = None
    try:
        token = admin_token(first, first_base, first_log)
        second, second_base, _ = start_serve(
            second_dir, "--no-worker", TOUCHBASE_DATABASE_URL=database
        )
        status, user = request(
            first_base,
            "POST",
            "/v1/users",
            token,
            {
                "email": "alex.doe@example.org",
                "name": "Alex Doe",
                "role": "candidate",
            },
        )
        assert status == 201, user
        path = f"/v1/users/{user['id']}"
        _, from_first = _get(first_base, path, token)
        for _ in range(100):  # the second process may still be starting
            with contextlib.suppress(OSError):
                if request(second_base, "GET", "/healthz")[0] == 200:
                    break
            time.sleep(0.2)
        _, from_second = _get(second_base, path, token)
        not_modified, _ = _get(second_base, path, token, **{"If-None-Match": from_first["ETag"]})
    finally:
        _stop(first)
        if second is not None:
            _stop(second)

    assert from_first["ETag"] == from_second["ETag"]
    assert not_modified == 304
