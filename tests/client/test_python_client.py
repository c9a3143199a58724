"""The Python client a portal generates from openapi/openapi.json (openapi-python-client)
is generated without a warning, drives the whole loop against a live server, and the loop's
code passes `mypy --strict` against it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.client.conftest import BIN, ROOT, run

LOOP = Path(__file__).with_name("portal_loop.py")
MYPY_CONFIG = Path(__file__).with_name("mypy.ini")


def test_the_client_is_generated_without_a_warning(python_client):
    assert "warning" not in python_client.output.lower(), python_client.output


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_the_client_has_no_twilio_callback_nor_its_forms(python_client):
    names = {path.stem for path in (python_client.directory / "touchbase_client").rglob("*.py")}
    callbacks = json.loads((ROOT / "openapi" / "provider-callbacks.json").read_text())
    portal = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    forms = set(callbacks["components"]["schemas"]) - set(portal["components"]["schemas"])

    assert "get_contact_budget" in names
    assert not [name for name in names if "twilio" in name]
    assert forms
    assert not {_snake(form) for form in forms} & names


def test_the_loop_passes_mypy_strict_against_the_client(python_client, tmp_path):
    output = run(
        [
            str(BIN / "mypy"),
            "--config-file",
            str(MYPY_CONFIG),
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(LOOP),
        ],
        cwd=ROOT,
        MYPYPATH=str(python_client.directory),
    )

    assert "Success: no issues found" in output, output


def test_the_whole_loop_runs_through_the_generated_client(python_client, served):
    from tests.client.portal_loop import run_loop

    loop = run_loop(*served)

    assert loop.total_drafts == len(loop.planned) >= 1
    assert loop.approved.status.value == "scheduled"
    assert loop.events[0].kind.value in {"created", "approved", "scheduled"}
    assert loop.response.kind.value == "replied"
    assert loop.budget.stopped is True
    assert loop.calendar, "the calendar shows the approved thank-you"
    assert loop.duplicate.existing_id == loop.dana.id
    assert "email" in loop.duplicate.errors.to_dict()
