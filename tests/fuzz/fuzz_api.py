"""Fuzz every operation of openapi/openapi.json and openapi/provider-callbacks.json (the
Twilio callbacks) against a live `touchbase serve`.

    .venv/bin/python tests/fuzz/fuzz_api.py [--database-url URL] [--examples N] [--seed S]

Starts the real server (API only, no worker: nothing is ever sent) on a free loopback port,
on a new SQLite file, or on the PostgreSQL database given (its `public` schema is dropped
and recreated: give it a test database only). Seeds a small world through the API, so that
low ids name real objects, then runs schemathesis with all its checks (server errors,
status codes, content types, headers and bodies against the document, negative data
rejected, positive data accepted, auth) once as an admin and once as a candidate.

Exits non-zero on any failure and prints the number of requests schemathesis sent.
A fuzzed request may delete or demote the fuzzing user or revoke their token; the auth
hook (tests/fuzz/st_hooks.py) then mints a new token straight in the database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from channels.testing_peers import free_port  # noqa: E402
from tests.serve_process import admin_token, start_serve  # noqa: E402

BIN = Path(sys.executable).parent
SPEC = ROOT / "openapi" / "openapi.json"
CALLBACKS_SPEC = ROOT / "openapi" / "provider-callbacks.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ("admin", "candidate")


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def start_server(url: str, instance: Path) -> tuple[subprocess.Popen, str, str]:
    """(process, base URL, admin token) of `touchbase serve --no-worker` on `url`."""
    port = free_port()
    proc, base, log_path = start_serve(
        instance,
        "--no-worker",
        port=port,
        TOUCHBASE_DATABASE_URL=url,
        TOUCHBASE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        # Nothing is sent (no worker), and a provider call could never leave loopback.
        TOUCHBASE_TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}",
    )
    try:
        return proc, base, admin_token(proc, base, log_path)
    except RuntimeError as exc:
        proc.kill()
        raise SystemExit(str(exc)) from None


class Seeder:
    """A small, realistic world made through the API, so fuzzed low ids hit real rows."""

    def __init__(self, base: str, admin_token: str):
        self.base = base
        self.admin = admin_token

    def post(self, path: str, body: dict, token: str | None = None) -> dict:
        response = requests.post(
            self.base + path,
            json=body,
            headers={"Authorization": f"Bearer {token or self.admin}"},
            timeout=30,
        )
        if response.status_code >= 300:
            raise SystemExit(f"seeding {path} failed: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    def run(self) -> dict[str, str]:
        advisor = self.post(
            "/v1/users", {"email": "avery@example.org", "name": "Avery Advisor", "role": "advisor"}
        )
        candidates = [
            self.post(
                "/v1/users",
                {
                    "email": f"{name.lower()}@example.org",
                    "name": f"{name} Silva",
                    "role": "candidate",
                    "timezone": "Europe/Lisbon",
                    "phone": "+351912345678",
                },
            )
            for name in ("Ana", "Rui")
        ]
        self.post(
            "/v1/assignments", {"advisor_id": advisor["id"], "candidate_id": candidates[0]["id"]}
        )
        tokens = {"admin": self.admin}
        for role, user in (("candidate", candidates[0]), ("advisor", advisor)):
            tokens[role] = self.post("/v1/tokens", {"name": f"fuzz {role}", "user_id": user["id"]})[
                "token"
            ]
        for n, candidate in enumerate(candidates):
            self._candidate_world(candidate["id"], n)
        self.post(
            "/v1/templates",
            {
                "step": "thank_you",
                "channel": "email",
                "subject": "Thank you, {{ contact.first_name }}",
                "body": "Dear {{ contact.salutation }},\n\nThank you for your time.\n\n"
                "{{ candidate.name }}",
            },
        )
        return tokens

    def _candidate_world(self, candidate_id: int, n: int) -> None:
        contacts = [
            self.post(
                "/v1/contacts",
                {
                    "candidate_id": candidate_id,
                    "name": f"Dana Jones {n}{i}",
                    "company": "Acme Corp",
                    "email": f"dana{n}{i}@acme.example",
                    "phone": f"+141555501{n}{i}",
                    "timezone": "America/New_York",
                    "country": "US",
                },
            )
            for i in range(3)
        ]
        application = self.post(
            "/v1/applications",
            {"candidate_id": candidate_id, "company": "Acme Corp", "position": "Data Engineer"},
        )
        interview = self.post(
            "/v1/interviews",
            {
                "application_id": application["id"],
                "starts_at": "2026-11-17T15:00:00Z",
                "ends_at": "2026-11-17T16:00:00Z",
                "interviewers": [
                    {"contact_id": c["id"], "specific_point": "the billing migration"}
                    for c in contacts
                ],
            },
        )
        self.post(f"/v1/interviews/{interview['id']}/plan", {})
        self.post(
            "/v1/responses",
            {
                "application_id": application["id"],
                "contact_id": contacts[2]["id"],
                "kind": "replied",
            },
        )


def write_merged_spec(target: Path) -> Path:
    """The two committed documents as one, so one run covers every operation."""
    from api.openapi_documents import merge_documents

    merged = merge_documents(json.loads(SPEC.read_text()), json.loads(CALLBACKS_SPEC.read_text()))
    target.write_text(json.dumps(merged))
    return target


def run_schemathesis(base: str, role: str, env: dict[str, str], args) -> tuple[int, int]:
    """(exit code, requests sent) of one schemathesis run as `role`."""
    report = Path(env["TB_FUZZ_DIR"]) / f"{role}.ndjson"
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        env["TB_FUZZ_SPEC"],
        "--url",
        base,
        "--max-examples",
        str(args.examples),
        "--seed",
        str(args.seed),
        # One worker: with two threads, hypothesis describing lambdas in both at once trips
        # CPython 3.11's AST recursion counter ("AST constructor recursion depth mismatch",
        # python/cpython#106905), an error of the fuzzer's own, not of the API.
        "--workers",
        "1",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    print(f"== schemathesis as {role}: {' '.join(command[1:])}", flush=True)
    code = subprocess.call(
        command, env={**env, "TB_FUZZ_ROLE": role, "SCHEMATHESIS_HOOKS": "tests.fuzz.st_hooks"}
    )
    return code, count_requests(report)


def count_requests(report: Path) -> int:
    """Requests sent, from schemathesis's own event log (every interaction it recorded)."""
    sent = 0
    if not report.exists():
        return 0
    for line in report.read_text().splitlines():
        sent += line.count('"request":')
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="PostgreSQL URL (its schema is reset); default SQLite"
    )
    parser.add_argument("--examples", type=int, default=30, help="examples per operation (30)")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="touchbase-fuzz-") as tmp:
        instance = Path(tmp)
        url = args.database_url or f"sqlite:///{instance / 'touchbase.db'}"
        if url.startswith("postgresql"):
            reset_postgres(url)
        proc, base, token = start_server(url, instance)
        try:
            tokens = Seeder(base, token).run()
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "TB_FUZZ_DATABASE_URL": url,
                "TB_FUZZ_DIR": tmp,
                "TB_FUZZ_TOKENS": json.dumps(tokens),
                "TB_FUZZ_SPEC": str(write_merged_spec(instance / "openapi-all.json")),
            }
            total, failed = 0, []
            started = time.monotonic()
            for role in ROLES:
                code, sent = run_schemathesis(base, role, env, args)
                total += sent
                if code != 0:
                    failed.append(role)
            if proc.poll() is not None:
                failed.append("server (it exited)")
            took = time.monotonic() - started
            db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            print(
                f"fuzz on {db}: {total} requests in {took:.0f} s, "
                f"{args.examples} examples per operation, seed {args.seed}: "
                + ("FAILED (" + ", ".join(failed) + ")" if failed else "no failures")
            )
            return 1 if failed else 0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
