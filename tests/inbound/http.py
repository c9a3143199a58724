"""Talking to the inbound routes over HTTP: post a raw message, attach one, read the log."""

from __future__ import annotations

import hashlib

from tests.inbound.conftest import build

THANKS = "Thank you Ana, it was a pleasure to meet you too. We will be in touch.\n"


def post_mail(scene, raw: bytes, token: str | None = None, query: str = ""):
    """POST /v1/inbound/email (admin by default; ``query`` e.g. "?candidate_id=3")."""
    return scene._call(
        "post",
        f"/v1/inbound/email{query}",
        token or scene.admin,
        data=raw,
        headers={"Content-Type": "message/rfc822"},
    )


def heard(answer) -> dict:
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


def fresh(body: str, sender: str, **headers) -> bytes:
    """A message that answers no stored Message-ID: matched, if at all, by its sender."""
    headers.setdefault("Date", "Wed, 5 Jun 2030 09:00:00 -0400")
    digest = hashlib.sha256(f"{sender}\n{body}".encode()).hexdigest()[:24]
    headers.setdefault("Message_ID", f"<{digest}@mail.example.net>")
    return build(body, From=sender, In_Reply_To=None, **headers)


def attach(scene, inbound_id: int, body: dict, token: str | None = None):
    return scene._call("post", f"/v1/inbound/{inbound_id}/attach", token or scene.token, json=body)


def inbound(scene, token: str, query: str = "") -> list[dict]:
    answer = scene._call("get", f"/v1/inbound{query}", token)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()
