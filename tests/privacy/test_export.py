"""GET /v1/users/{id}/export: everything of the candidate in one ZIP, secrets never."""

from __future__ import annotations

import json

from sqlalchemy import select

from api.models import ApiToken, AuditEvent, CalendarFeed
from tests.privacy.conftest import MARKER, unzip

ROOT = "touchbase-export-{id}/"


def _export(call, user_id: int, token: str):
    return call("get", f"/v1/users/{user_id}/export", token)


def _data(files: dict[str, bytes], user_id: int) -> dict:
    return json.loads(files[ROOT.format(id=user_id) + "data.json"])


def test_the_zip_holds_a_readme_the_data_and_the_sent_emails(marked, call):
    answer = _export(call, marked.id, marked.token)
    assert answer.status_code == 200
    assert answer.content_type == "application/zip"
    names = set(unzip(answer.data))
    root = ROOT.format(id=marked.id)
    assert {root + "README.txt", root + "data.json"} <= names
    assert any(n.startswith(root + "messages/") and n.endswith(".eml") for n in names)


def test_the_sent_email_is_the_exact_file_of_the_outbox(marked, call, app):
    from pathlib import Path

    files = unzip(_export(call, marked.id, marked.token).data)
    (outbox_file,) = Path(app.config["OUTBOX_DIR"]).glob(f"{marked.thanks['id']}_*.eml")
    assert files[ROOT.format(id=marked.id) + "messages/" + outbox_file.name] == (
        outbox_file.read_bytes()
    )


def test_the_data_holds_every_record_of_the_candidate(marked, call):
    data = _data(unzip(_export(call, marked.id, marked.token).data), marked.id)
    assert data["user"]["email"] == f"ana.{MARKER}@example.org"
    assert [c["notes"] for c in data["contacts"]] == [marked.contact["notes"]]
    assert MARKER in data["interviews"][0]["interviewers"][0]["specific_point"]
    sent = next(t for t in data["touches"] if t["id"] == marked.thanks["id"])
    assert sent["body"] and "sent" in [e["kind"] for e in sent["events"]]
    assert MARKER in data["responses"][0]["text"]
    assert data["inbound_mail"][0]["sender"] == f"dana.{MARKER}@acme.example"
    assert data["channel_settings"][0]["values"]["envelope_from"].startswith("bounces.")


def test_secrets_are_never_in_the_export(marked, call, db, world):
    call(
        "put",
        f"/v1/users/{marked.id}/channels/email/settings",
        world.tokens["admin"],
        json={"host": "127.0.0.1", "username": "ana", "password": "s3cret-pw-xyz"},
    )
    assert call("post", "/v1/calendar/feed", marked.token).status_code in (200, 201)
    body = _export(call, marked.id, marked.token).data
    everything = b"".join(unzip(body).values())
    hashes = list(db.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == marked.id)))
    hashes += list(db.scalars(select(CalendarFeed.secret_hash)))
    db.commit()
    assert hashes
    for secret in [b"s3cret-pw-xyz", marked.token.encode(), *(h.encode() for h in hashes)]:
        assert secret not in everything
    settings = _data(unzip(body), marked.id)["channel_settings"][0]
    assert settings["secrets_set"] == ["password"]


def test_an_admin_exports_a_candidate(marked, call, world):
    assert _export(call, marked.id, world.tokens["admin"]).status_code == 200


def test_an_advisor_may_not_export_their_candidate(call, world):
    answer = _export(call, world.candidate.id, world.tokens["advisor"])
    assert answer.status_code == 403


def test_another_candidate_is_not_found(call, world):
    assert _export(call, world.candidate.id, world.tokens["other_candidate"]).status_code == 404


def test_another_organisations_admin_is_not_found(call, world):
    assert _export(call, world.candidate.id, world.tokens["stranger_admin"]).status_code == 404


def test_each_export_is_in_the_audit_trail(call, world, db):
    _export(call, world.candidate.id, world.tokens["admin"])
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    db.commit()
    assert (event.actor_id, event.subject_id) == (world.admin.id, world.candidate.id)
