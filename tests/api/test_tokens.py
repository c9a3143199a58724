"""Bearer tokens: shown once, stored as a hash, expiring, revocable, minted by admins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.auth import hash_token, issue_token
from api.models import ApiToken, utcnow
from tests.api.helpers import assert_problem, pagination


def _create(call, token, **body):
    body.setdefault("name", "portal")
    return call("POST", "/v1/tokens", token, json=body)


def test_a_created_token_secret_is_returned_and_works(call, world):
    response = _create(call, world.tokens["candidate"])

    assert response.status_code == 201
    secret = response.get_json()["token"]
    assert secret.startswith("tb_")
    assert len(secret) >= 43
    me = call("GET", "/v1/me", secret)
    assert me.status_code == 200
    assert me.get_json()["id"] == world.candidate.id
    assert me.get_json()["token_id"] == response.get_json()["id"]


def test_a_token_secret_is_never_shown_again(call, world):
    created = _create(call, world.tokens["candidate"]).get_json()

    shown = call("GET", f"/v1/tokens/{created['id']}", world.tokens["candidate"])

    assert shown.status_code == 200
    assert "token" not in shown.get_json()
    assert created["token"] not in shown.get_data(as_text=True)


def test_the_token_list_holds_neither_secrets_nor_hashes(call, world):
    secret = _create(call, world.tokens["candidate"]).get_json()["token"]

    listed = call("GET", "/v1/tokens?include_revoked=true", world.tokens["candidate"])

    assert listed.status_code == 200
    items = listed.get_json()
    assert len(items) == 2
    text = listed.get_data(as_text=True)
    for known in (secret, world.tokens["candidate"]):
        assert known not in text
        assert hash_token(known) not in text
    for item in items:
        assert "token" not in item
        assert "token_hash" not in item


def test_a_revoked_token_is_refused_at_once(call, world):
    created = _create(call, world.tokens["candidate"]).get_json()
    assert call("GET", "/v1/me", created["token"]).status_code == 200

    revoked = call("DELETE", f"/v1/tokens/{created['id']}", world.tokens["candidate"])

    assert revoked.status_code == 204
    response = call("GET", "/v1/me", created["token"])
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_can_revoke_itself(call, world):
    created = _create(call, world.tokens["candidate"]).get_json()

    assert call("DELETE", f"/v1/tokens/{created['id']}", created["token"]).status_code == 204

    assert call("GET", "/v1/me", created["token"]).status_code == 401
    assert call("GET", "/v1/me", world.tokens["candidate"]).status_code == 200


def test_revoked_tokens_are_listed_only_on_request(call, world):
    created = _create(call, world.tokens["candidate"]).get_json()
    call("DELETE", f"/v1/tokens/{created['id']}", world.tokens["candidate"])

    default = call("GET", "/v1/tokens", world.tokens["candidate"]).get_json()
    everything = call("GET", "/v1/tokens?include_revoked=true", world.tokens["candidate"])

    assert created["id"] not in [t["id"] for t in default]
    revoked = [t for t in everything.get_json() if t["id"] == created["id"]]
    assert revoked and revoked[0]["revoked_at"] is not None


def test_an_expired_token_is_401(call, world, db):
    _token, secret = issue_token(db, world.candidate, "old", utcnow() - timedelta(seconds=1))
    db.commit()

    response = call("GET", "/v1/me", secret)

    body = assert_problem(response, 401)
    assert "expired" in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_a_future_expiry_works_until_then(call, world):
    expires = (utcnow() + timedelta(days=1)).isoformat()

    created = _create(call, world.tokens["candidate"], expires_at=expires)

    assert created.status_code == 201
    assert created.get_json()["expires_at"] is not None
    assert call("GET", "/v1/me", created.get_json()["token"]).status_code == 200


def test_an_expiry_in_the_past_is_422_naming_expires_at(call, world, count):
    before = count(ApiToken)
    past = (utcnow() - timedelta(minutes=1)).isoformat()

    response = _create(call, world.tokens["candidate"], expires_at=past)

    assert_problem(response, 422, "expires_at")
    assert count(ApiToken) == before


def test_an_expiry_without_offset_is_422_naming_expires_at(call, world, count):
    before = count(ApiToken)

    response = _create(call, world.tokens["candidate"], expires_at="2099-01-01T00:00:00")

    assert_problem(response, 422, "expires_at")
    assert count(ApiToken) == before


def test_a_token_name_is_required_and_bounded(call, world, count):
    before = count(ApiToken)

    assert_problem(call("POST", "/v1/tokens", world.tokens["admin"], json={}), 422, "name")
    assert_problem(_create(call, world.tokens["admin"], name="x" * 101), 422, "name")
    assert count(ApiToken) == before


def test_last_used_at_is_set_after_use(call, world, db, row):
    token, secret = issue_token(db, world.candidate, "fresh")
    db.commit()
    assert row(ApiToken, token.id)["last_used_at"] is None

    assert call("GET", "/v1/me", secret).status_code == 200

    used = row(ApiToken, token.id)["last_used_at"]
    assert used is not None
    shown = call("GET", f"/v1/tokens/{token.id}", secret).get_json()
    assert shown["last_used_at"] is not None


def test_a_non_admin_cannot_mint_a_token_for_another_user(call, world, count):
    before = count(ApiToken, user_id=world.candidate.id)

    response = _create(call, world.tokens["advisor"], user_id=world.candidate.id)

    assert_problem(response, 403)
    assert count(ApiToken, user_id=world.candidate.id) == before


def test_a_non_admin_cannot_list_another_users_tokens(call, world):
    response = call("GET", f"/v1/tokens?user_id={world.advisor.id}", world.tokens["candidate"])

    assert_problem(response, 403)


def test_an_admin_mints_a_token_for_a_user_of_the_org(call, world):
    response = _create(call, world.tokens["admin"], user_id=world.candidate.id)

    assert response.status_code == 201
    assert response.get_json()["user_id"] == world.candidate.id
    me = call("GET", "/v1/me", response.get_json()["token"]).get_json()
    assert me["id"] == world.candidate.id
    assert me["role"] == "candidate"


def test_an_admin_lists_and_revokes_a_users_tokens(call, world):
    minted = _create(call, world.tokens["admin"], user_id=world.candidate.id).get_json()

    listed = call("GET", f"/v1/tokens?user_id={world.candidate.id}", world.tokens["admin"])
    revoked = call("DELETE", f"/v1/tokens/{minted['id']}", world.tokens["admin"])

    assert minted["id"] in [t["id"] for t in listed.get_json()]
    assert pagination(listed)["total"] == 2
    assert revoked.status_code == 204
    assert call("GET", "/v1/me", minted["token"]).status_code == 401


def test_an_admin_cannot_mint_for_another_orgs_user(call, world, count):
    before = count(ApiToken, user_id=world.stranger.id)

    response = _create(call, world.tokens["admin"], user_id=world.stranger.id)

    body = assert_problem(response, 422, "user_id")
    assert body["errors"]["user_id"] == ["Unknown user."]
    assert count(ApiToken, user_id=world.stranger.id) == before


def test_another_orgs_user_and_a_missing_user_are_indistinguishable(call, world):
    foreign = _create(call, world.tokens["admin"], user_id=world.stranger.id)
    missing = _create(call, world.tokens["admin"], user_id=999_999)

    assert foreign.status_code == missing.status_code == 422
    assert foreign.get_json() == missing.get_json()


def test_only_the_hash_of_a_token_is_stored(call, world, engine_of):
    created = _create(call, world.tokens["candidate"]).get_json()
    secret = created["token"]

    with engine_of.connect() as conn:
        rows = conn.execute(select(ApiToken.__table__)).all()
        stored = conn.execute(
            select(ApiToken.token_hash).where(ApiToken.id == created["id"])
        ).scalar_one()

    assert rows
    for stored_row in rows:
        for value in stored_row:
            assert secret not in str(value)
    assert stored == hash_token(secret)
