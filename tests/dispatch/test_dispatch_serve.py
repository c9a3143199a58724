"""`make run` delivers: `touchbase serve` on a fresh instance (SQLite, one process, API and
worker thread) sends a thank-you scheduled through the API into the ``.eml`` outbox."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import make_engine
from api.models import Organization, PolicySetting, Touch
from tests.dispatch.seeding import OPEN_POLICY, midday_zone, seed_due_touches
from tests.serve_process import admin_token, request, start_serve

pytestmark = pytest.mark.slow


def test_serve_delivers_a_thank_you_scheduled_through_the_api_to_the_outbox(tmp_path):
    instance = tmp_path / "instance"
    proc, base, log_path = start_serve(tmp_path)
    try:
        token = admin_token(proc, base, log_path)

        # The demo office sends any day, any hour (the default window is weekdays 08-18).
        engine = make_engine(f"sqlite:///{instance / 'touchbase.db'}")
        with Session(engine) as session:
            org = session.scalars(select(Organization)).one()
            session.add(PolicySetting(org_id=org.id, values=OPEN_POLICY))
            session.commit()
        engine.dispose()

        status, candidate = request(
            base,
            "POST",
            "/v1/users",
            token,
            {"email": "alex.doe@example.org", "name": "Alex Doe", "role": "candidate"},
        )
        assert status == 201, candidate
        status, contact = request(
            base,
            "POST",
            "/v1/contacts",
            token,
            {
                "candidate_id": candidate["id"],
                "name": "Dana Jones",
                "email": "dana.jones@acme.example",
                "company": "Acme Corp",
                "timezone": midday_zone(),
            },
        )
        assert status == 201, contact
        status, application = request(
            base,
            "POST",
            "/v1/applications",
            token,
            {"candidate_id": candidate["id"], "company": "Acme Corp", "position": "Data Engineer"},
        )
        assert status == 201, application
        status, touch = request(
            base,
            "POST",
            "/v1/touches",
            token,
            {
                "contact_id": contact["id"],
                "application_id": application["id"],
                "step": "thank_you",
                "channel": "email",
            },
        )
        assert status == 201, touch

        outbox = instance / "outbox"
        deadline = time.monotonic() + 30
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            files = sorted(outbox.glob(f"{touch['id']}_*.eml"))
            time.sleep(0.2)
        assert files, log_path.read_text()
        eml = files[0].read_text()
        assert f"Message-ID: {touch['message_id']}" in eml
        assert "To: Dana Jones <dana.jones@acme.example>" in eml
        assert "From: Alex Doe <alex.doe@example.org>" in eml
        assert "Dear Dana" in eml  # the built-in thank-you template, rendered at scheduling

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, shown = request(base, "GET", f"/v1/touches/{touch['id']}", token)
            if shown["status"] == "sent":
                break
            time.sleep(0.2)
        assert shown["status"] == "sent", shown
        status, trail = request(base, "GET", f"/v1/touches/{touch['id']}/events", token)
        assert [e["kind"] for e in trail][-2:] == ["sending", "sent"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def _killed_if_left(proc: subprocess.Popen):
    """However the block ends, the process does not outlive it."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sending_with_due_touches(tmp_path: Path, smtp_peer, hold: float):
    """serve, with five due touches whose first send the SMTP server holds ``hold`` s;
    returns once one is 'sending': (process, log file, engine, statuses())."""
    proc, base, log_path = start_serve(tmp_path)
    admin_token(proc, base, log_path)  # migrated and serving
    engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'touchbase.db'}")
    smtp_peer.hang_next(hold)
    seeded = seed_due_touches(engine, 5, email_settings=smtp_peer.settings())

    def statuses() -> list[tuple[str, bool]]:
        """(status, leased) of the five, sorted."""
        with Session(engine) as session:
            rows = session.execute(
                select(Touch.status, Touch.lease_owner).where(Touch.id.in_(seeded.touch_ids))
            ).all()
        return sorted((status, owner is not None) for status, owner in rows)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and ("sending", True) not in statuses():
        time.sleep(0.05)
    assert ("sending", True) in statuses(), log_path.read_text()
    return proc, log_path, engine, statuses


def test_serve_on_sigterm_finishes_the_send_in_flight_and_releases_the_rest(tmp_path, smtp_peer):
    """A service manager stops serve with SIGTERM: it stops like the worker does, not
    mid-send (which would leave that touch 'unknown' for the candidate to settle)."""
    proc, log_path, engine, statuses = _sending_with_due_touches(tmp_path, smtp_peer, 3.0)
    with _killed_if_left(proc):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log_path.read_text()

    assert statuses() == [("scheduled", False)] * 4 + [("sent", False)], log_path.read_text()
    assert len(smtp_peer.messages) == 1
    assert "released 4 claimed touches" in log_path.read_text()
    engine.dispose()


def test_serve_stops_at_once_on_a_second_sigterm(tmp_path, smtp_peer):
    """The send in flight is abandoned, never re-sent: its touch stays 'sending' until
    its lease runs out (then 'unknown')."""
    proc, log_path, engine, statuses = _sending_with_due_touches(tmp_path, smtp_peer, 10.0)
    with _killed_if_left(proc):
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 130, log_path.read_text()

    assert ("sending", True) in statuses(), log_path.read_text()
    assert "second signal: stopping now" in log_path.read_text()
    engine.dispose()
