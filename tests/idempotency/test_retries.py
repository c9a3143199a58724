"""Idempotency-Key on POST, as Stripe answers it: a retry gets the first answer back and
changes nothing; the same key for another request, or while the first runs, is refused."""

from __future__ import annotations

from datetime import timedelta

from api.models import ApiToken, Contact, IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
ANA = {"name": "Ana Silva", "email": "ana@acme.example", "company": "Acme"}


def test_a_retry_gets_the_first_answer_and_creates_nothing(keyed, world, new_key, count):
    key = new_key()
    first = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    again = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    assert first.status_code == 201
    assert REPLAYED not in first.headers
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers[REPLAYED] == "true"
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert count(Contact) == 1


def test_the_same_json_in_another_key_order_and_spacing_is_the_same_request(
    keyed, world, new_key, count
):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    reordered = '{ "company": "Acme",  "email": "ana@acme.example", "name": "Ana Silva" }'
    again = keyed(
        "/v1/contacts",
        world.tokens["candidate"],
        key,
        data=reordered,
        content_type="application/json",
    )
    assert (again.status_code, again.headers.get(REPLAYED)) == (201, "true")
    assert count(Contact) == 1


def test_the_same_key_with_another_body_is_422_naming_the_header(keyed, world, new_key, count):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    other = keyed("/v1/contacts", world.tokens["candidate"], key, json={**ANA, "name": "Bo"})
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json"
    assert list(other.get_json()["errors"]) == [HEADER]
    assert "POST /v1/contacts" in other.get_json()["detail"]
    assert count(Contact) == 1


def test_the_same_key_on_another_path_is_422(keyed, world, new_key, count):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    other = keyed(
        "/v1/applications",
        world.tokens["candidate"],
        key,
        json={"company": "Acme", "position": "Analyst"},
    )
    assert other.status_code == 422
    assert list(other.get_json()["errors"]) == [HEADER]


def test_another_users_same_key_is_their_own(keyed, world, new_key, count, key_rows):
    key = new_key()
    mine = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    theirs = keyed("/v1/contacts", world.tokens["other_candidate"], key, json=ANA)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert REPLAYED not in theirs.headers
    assert theirs.get_json()["candidate_id"] == world.other_candidate.id
    assert count(Contact) == 2
    assert sorted(r["user_id"] for r in key_rows()) == sorted(
        [world.candidate.id, world.other_candidate.id]
    )


def test_a_retry_while_the_first_runs_is_409(keyed, world, new_key, count, claim_in_flight):
    key = new_key()
    claim_in_flight(world.candidate, key, "/v1/contacts", ANA)
    retry = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    assert retry.status_code == 409
    assert retry.mimetype == "application/problem+json"
    assert list(retry.get_json()["errors"]) == [HEADER]
    assert int(retry.headers["Retry-After"]) >= 1
    assert count(Contact) == 0


def test_a_claim_whose_request_crashed_runs_out_and_the_retry_runs(
    keyed, world, new_key, count, claim_in_flight, age_keys, key_rows
):
    key = new_key()
    claim_in_flight(world.candidate, key, "/v1/contacts", ANA)
    age_keys(lease_expires_at=-timedelta(seconds=61))
    retry = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    assert (retry.status_code, retry.headers.get(REPLAYED)) == (201, None)
    assert count(Contact) == 1
    assert [r["status"] for r in key_rows()] == [201]


def test_a_key_older_than_24_hours_is_forgotten(keyed, world, new_key, count, age_keys, key_rows):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    age_keys(created_at=-timedelta(hours=24), expires_at=-timedelta(hours=24))
    later = keyed("/v1/contacts", world.tokens["candidate"], key, json={**ANA, "email": None})
    assert (later.status_code, later.headers.get(REPLAYED)) == (201, None)
    assert count(Contact) == 2
    (renewed,) = key_rows()
    assert (renewed["status"], renewed["body"]) == (201, later.get_data(as_text=True))


def test_a_key_younger_than_24_hours_is_kept(keyed, world, new_key, count, age_keys):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    age_keys(created_at=-timedelta(hours=23), expires_at=-timedelta(hours=23))
    again = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    assert again.headers.get(REPLAYED) == "true"


def test_a_validation_error_is_stored_and_replayed(keyed, world, new_key, key_rows):
    key = new_key()
    first = keyed("/v1/contacts", world.tokens["candidate"], key, json={"email": "ana@x.example"})
    again = keyed("/v1/contacts", world.tokens["candidate"], key, json={"email": "ana@x.example"})
    assert first.status_code == 422
    assert "name" in first.get_json()["errors"]
    assert (again.status_code, again.get_json()) == (422, first.get_json())
    assert again.headers[REPLAYED] == "true"
    assert [r["status"] for r in key_rows()] == [422]


def test_a_corrected_request_needs_a_new_key(keyed, world, new_key, count):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json={"email": "ana@x.example"})
    fixed = keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    assert fixed.status_code == 422
    assert list(fixed.get_json()["errors"]) == [HEADER]
    assert count(Contact) == 0


def test_a_refusal_by_role_is_stored_and_replayed(keyed, world, new_key):
    key = new_key()
    body = {"email": "new@example.org", "name": "New", "role": "advisor"}
    first = keyed("/v1/users", world.tokens["candidate"], key, json=body)
    again = keyed("/v1/users", world.tokens["candidate"], key, json=body)
    assert (first.status_code, again.status_code) == (403, 403)
    assert again.headers[REPLAYED] == "true"


def test_a_rejected_token_stores_no_key(keyed, new_key, key_rows, app):
    answer = keyed("/v1/contacts", "tb_not-a-token", new_key(), json=ANA)
    assert answer.status_code == 401
    assert key_rows() == []


def test_a_token_secret_is_never_stored_nor_replayed(keyed, world, new_key, count, key_rows):
    key = new_key()
    tokens_before = count(ApiToken)
    first = keyed("/v1/tokens", world.tokens["candidate"], key, json={"name": "portal"})
    again = keyed("/v1/tokens", world.tokens["candidate"], key, json={"name": "portal"})
    assert first.status_code == 201
    assert again.status_code == 409
    assert again.headers[REPLAYED] == "true"
    assert first.get_json()["token"] not in again.get_data(as_text=True)
    assert [(r["status"], r["body"], r["withheld"]) for r in key_rows()] == [(201, None, True)]
    assert count(ApiToken) == tokens_before + 1


def test_a_request_without_the_header_is_not_recorded(call, world, key_rows):
    assert call("POST", "/v1/contacts", world.tokens["candidate"], json=ANA).status_code == 201
    assert key_rows() == []


def test_keys_are_kept_per_row_with_the_request_they_answered(keyed, world, new_key, key_rows):
    key = new_key()
    keyed("/v1/contacts", world.tokens["candidate"], key, json=ANA)
    (stored,) = key_rows()
    assert (stored["user_id"], stored["key"], stored["method"], stored["path"]) == (
        world.candidate.id,
        key,
        "POST",
        "/v1/contacts",
    )
    assert stored["lease_token"] is None
    assert stored["expires_at"] - stored["created_at"] == timedelta(hours=24)
    assert IdempotencyKey.__tablename__ == "idempotency_keys"


def test_an_empty_key_is_422_naming_the_header(keyed, world, count, key_rows):
    answer = keyed("/v1/contacts", world.tokens["candidate"], "", json=ANA)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == [HEADER]
    assert (count(Contact), key_rows()) == (0, [])


def test_a_key_over_255_characters_is_422_naming_the_header(keyed, world, count, key_rows):
    answer = keyed("/v1/contacts", world.tokens["candidate"], "k" * 256, json=ANA)
    assert answer.status_code == 422
    assert "255" in answer.get_json()["errors"][HEADER][0]
    assert (count(Contact), key_rows()) == (0, [])


def test_a_key_of_255_characters_is_kept(keyed, world):
    keyed("/v1/contacts", world.tokens["candidate"], "k" * 255, json=ANA)
    again = keyed("/v1/contacts", world.tokens["candidate"], "k" * 255, json=ANA)
    assert again.headers.get(REPLAYED) == "true"


def test_a_key_with_control_characters_is_422(keyed, world, count):
    answer = keyed("/v1/contacts", world.tokens["candidate"], "a\tb", json=ANA)
    assert answer.status_code == 422
    assert list(answer.get_json()["errors"]) == [HEADER]
    assert count(Contact) == 0


def test_a_rejected_token_is_401_before_the_key_is_judged(keyed):
    assert keyed("/v1/contacts", "tb_not-a-token", "", json=ANA).status_code == 401
