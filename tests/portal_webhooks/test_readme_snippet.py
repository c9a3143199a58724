"""The README's verification snippet works on a real delivery, as a portal would run it."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet_app(secret: str):
    text = README.read_text().split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    scope: dict = {"__name__": "portal_snippet"}
    exec(compile(code.replace('"whsec_..."', repr(secret)), "README.md", "exec"), scope)
    return scope["app"].test_client()


def _post(portal_client, heard, body=None):
    return portal_client.post(
        "/touchbase/hooks", data=body if body is not None else heard.body, headers=heard.headers
    )


def test_the_readme_snippet_accepts_a_delivery_once_and_refuses_a_forgery(
    endpoint, scene, happen, portal, drain
):
    happen(scene.touch, "sent", status="sent")
    drain()
    (heard,) = portal.heard
    client = _snippet_app(portal.secrets[0])

    assert _post(client, heard).status_code == 204
    assert _post(client, heard).status_code == 204  # the retry, deduplicated
    assert _post(client, heard, heard.body.replace(b"sent", b"s3nt")).status_code == 400
