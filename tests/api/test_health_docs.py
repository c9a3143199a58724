"""Health checks and the API docs: no token needed, and no internet needed for /docs."""

from __future__ import annotations

import re

from api import create_app
from tests.api.helpers import assert_problem


def test_healthz_answers_without_a_token(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_when_the_database_does(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_a_503_problem_when_the_database_is_unreachable(tmp_path):
    # Nothing listens on port 1: the connection is refused at once.
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/touchbase?connect_timeout=2",
            "SECRET_KEY": "x",
            "INSTANCE_DIR": str(tmp_path),
        }
    )

    response = app.test_client().get("/readyz")

    assert_problem(response, 503)
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_docs_serve_swagger_ui_from_local_assets(client):
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in page
    assert "/openapi.json" in page


def test_the_docs_page_loads_nothing_from_another_host(client):
    page = client.get("/docs").get_data(as_text=True)

    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", page)
    for cdn in ("cdn", "unpkg", "jsdelivr", "cloudflare", "googleapis"):
        assert cdn not in page.lower()


def test_every_asset_the_docs_page_uses_is_served(client):
    page = client.get("/docs").get_data(as_text=True)
    assets = re.findall(r"(?:src|href)=\"(/docs/assets/[^\"]+)\"", page)

    assert len(assets) >= 2
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 1000, asset


def test_a_missing_docs_asset_is_a_404_problem(client):
    assert_problem(client.get("/docs/assets/no-such-file.js"), 404)


def test_the_openapi_document_is_served_without_a_token(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Touchbase"
    assert "/v1/contacts" in spec["paths"]
