"""GET /v1/channels and channel settings per organisation and per candidate.

Secrets are write-only: never in an answer, never in a log line, kept when a PUT omits
them, removed by a null.
"""

from __future__ import annotations

import logging

import pytest

from api.models import ChannelSetting
from tests.api.helpers import assert_problem

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TOKEN = "tok-" + "s3cr3t" * 5
ORG_SMS = "/v1/channels/sms/settings"


def _user_sms(user_id: int) -> str:
    return f"/v1/users/{user_id}/channels/sms/settings"


def _stored(db, org_id: int, candidate_id: int | None, channel: str = "sms") -> dict:
    db.expire_all()
    rows = db.query(ChannelSetting).filter_by(org_id=org_id, channel=channel).all()
    for found in rows:
        if found.candidate_id == candidate_id:
            return dict(found.values)
    return {}


def _put_org_account(call, world, **extra):
    body = {"account_sid": ACCOUNT_SID, "auth_token": TOKEN, **extra}
    response = call("PUT", ORG_SMS, world.tokens["admin"], json=body)
    assert response.status_code == 200, response.get_json()
    return response


# -- the channel list ----------------------------------------------------------------------


def test_the_channel_list_names_the_builtin_channels_with_capabilities_and_schema(call, world):
    response = call("GET", "/v1/channels", world.tokens["candidate"])

    assert response.status_code == 200
    channels = {c["name"]: c for c in response.get_json()}
    assert {"email", "sms", "call"} <= set(channels)
    assert channels["sms"]["address_kind"] == "phone"
    assert "delivery_receipts" in channels["sms"]["capabilities"]
    assert "threading" in channels["email"]["capabilities"]
    token = channels["sms"]["settings_schema"]["properties"]["auth_token"]
    assert token["writeOnly"] is True and token["x-secret"] is True


def test_an_installed_plugin_channel_is_listed_like_the_builtins(call, world):
    pytest.importorskip("touchbase_console")

    response = call("GET", "/v1/channels", world.tokens["advisor"])

    console = next(c for c in response.get_json() if c["name"] == "console")
    assert console["plugin"] == "console"
    assert "properties" in console["settings_schema"]


# -- organisation settings -----------------------------------------------------------------


def test_an_admin_sets_the_org_settings_and_the_secret_is_never_answered(call, world, db):
    response = _put_org_account(call, world, from_number="+14155550100")

    assert TOKEN not in response.get_data(as_text=True)
    body = response.get_json()
    assert body["values"]["auth_token_set"] is True
    assert "auth_token" not in body["values"] and "auth_token" not in body["effective"]
    assert body["effective"]["from_number"] == "+14155550100"
    assert body["sources"]["from_number"] == "org"
    assert body["sources"]["max_segments"] == "default"
    assert body["complete"] is True
    assert _stored(db, world.org.id, None)["auth_token"] == TOKEN


def test_reading_the_settings_shows_that_a_secret_is_set_but_not_its_value(call, world):
    _put_org_account(call, world, from_number="+14155550100")

    response = call("GET", ORG_SMS, world.tokens["candidate"])

    assert response.status_code == 200
    assert TOKEN not in response.get_data(as_text=True)
    assert response.get_json()["effective"]["auth_token_set"] is True


def test_a_put_that_omits_the_secret_keeps_the_stored_one(call, world, db):
    _put_org_account(call, world)

    response = call(
        "PUT",
        ORG_SMS,
        world.tokens["admin"],
        json={"account_sid": ACCOUNT_SID, "from_number": "+14155550111"},
    )

    assert response.status_code == 200
    assert response.get_json()["values"]["auth_token_set"] is True
    stored = _stored(db, world.org.id, None)
    assert stored["auth_token"] == TOKEN
    assert stored["from_number"] == "+14155550111"


def test_a_null_secret_removes_it(call, world, db):
    _put_org_account(call, world)

    response = call(
        "PUT", ORG_SMS, world.tokens["admin"], json={"account_sid": ACCOUNT_SID, "auth_token": None}
    )

    assert response.status_code == 200
    assert response.get_json()["values"]["auth_token_set"] is False
    assert "auth_token" not in _stored(db, world.org.id, None)


def test_a_put_replaces_the_plain_values_of_its_level(call, world, db):
    _put_org_account(call, world, from_number="+14155550100", max_segments=3)

    call("PUT", ORG_SMS, world.tokens["admin"], json={"from_number": "+14155550100"})

    assert "max_segments" not in _stored(db, world.org.id, None)
    assert "account_sid" not in _stored(db, world.org.id, None)


def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_stored(call, world, snapshot):
    before = snapshot()

    response = call(
        "PUT",
        ORG_SMS,
        world.tokens["admin"],
        json={"account_sid": "not-a-sid", "auth_token": TOKEN, "max_segments": 99},
    )

    body = assert_problem(response, 422, "account_sid", "max_segments")
    assert TOKEN not in response.get_data(as_text=True)
    assert "auth_token" not in body["errors"]
    assert snapshot() == before


def test_an_unknown_setting_is_refused_naming_it(call, world):
    response = call("PUT", ORG_SMS, world.tokens["admin"], json={"frm_number": "+14155550100"})

    assert_problem(response, 422, "frm_number")


def test_a_cross_field_rule_refuses_the_field_that_breaks_it(call, world):
    response = call(
        "PUT", ORG_SMS, world.tokens["admin"], json={"from_number": "", "account_sid": ACCOUNT_SID}
    )

    assert_problem(response, 422, "from_number")


def test_a_setting_of_the_deployment_cannot_be_changed_through_the_api(call, world):
    response = call(
        "PUT", "/v1/channels/email/settings", world.tokens["admin"], json={"outbox_dir": "/etc"}
    )

    assert_problem(response, 422, "outbox_dir")


def test_incomplete_settings_are_stored_and_say_what_is_missing(call, world):
    response = call("PUT", ORG_SMS, world.tokens["admin"], json={"account_sid": ACCOUNT_SID})

    assert response.status_code == 200
    body = response.get_json()
    assert body["complete"] is False
    assert "auth_token" in body["problems"]
    assert body["values"]["auth_token_set"] is False


def test_secrets_are_never_logged(call, world, caplog):
    caplog.set_level(logging.DEBUG)

    _put_org_account(call, world, from_number="+14155550100")
    call("GET", ORG_SMS, world.tokens["admin"])
    call("PUT", ORG_SMS, world.tokens["admin"], json={"auth_token": TOKEN, "timeout": "x"})

    assert TOKEN not in caplog.text


def test_only_an_admin_changes_the_org_settings(call, world):
    for role in ("advisor", "candidate"):
        response = call("PUT", ORG_SMS, world.tokens[role], json={"account_sid": ACCOUNT_SID})
        assert_problem(response, 403)


def test_an_unknown_channel_is_404(call, world):
    assert_problem(call("GET", "/v1/channels/pigeon/settings", world.tokens["admin"]), 404)
    url = f"/v1/users/{world.candidate.id}/channels/pigeon/settings"
    assert_problem(call("GET", url, world.tokens["candidate"]), 404)


def test_deleting_the_org_settings_removes_the_secret_too(call, world, db):
    _put_org_account(call, world)

    response = call("DELETE", ORG_SMS, world.tokens["admin"])

    assert response.status_code == 204
    assert _stored(db, world.org.id, None) == {}


# -- candidate settings --------------------------------------------------------------------


def test_a_candidates_own_values_win_over_the_orgs_field_by_field(call, world):
    _put_org_account(call, world, from_number="+14155550100")

    response = call(
        "PUT",
        _user_sms(world.candidate.id),
        world.tokens["advisor"],
        json={"from_number": "+14155550177"},
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["scope"] == "candidate"
    assert body["values"] == {"from_number": "+14155550177", "auth_token_set": False}
    assert body["effective"]["from_number"] == "+14155550177"
    assert body["effective"]["auth_token_set"] is True
    assert body["sources"]["from_number"] == "candidate"
    assert body["sources"]["auth_token"] == "org"
    assert body["complete"] is True


def test_a_candidates_secret_is_write_only_too(call, world, db):
    response = call(
        "PUT",
        f"/v1/users/{world.candidate.id}/channels/email/settings",
        world.tokens["advisor"],
        json={"host": "smtp.example.org", "username": "cand", "password": "pw-" + TOKEN},
    )

    assert response.status_code == 200
    assert TOKEN not in response.get_data(as_text=True)
    assert response.get_json()["values"]["password_set"] is True
    assert _stored(db, world.org.id, world.candidate.id, "email")["password"] == "pw-" + TOKEN


def test_another_candidates_settings_are_404(call, world):
    own_settings = call("GET", _user_sms(world.other_candidate.id), world.tokens["candidate"])
    unassigned = call("PUT", _user_sms(world.other_candidate.id), world.tokens["advisor"], json={})
    other_org = call("GET", _user_sms(world.stranger.id), world.tokens["admin"])

    assert_problem(own_settings, 404)
    assert_problem(unassigned, 404)
    assert_problem(other_org, 404)


def test_deleting_a_candidates_settings_brings_back_the_orgs(call, world):
    _put_org_account(call, world, from_number="+14155550100")
    url = _user_sms(world.candidate.id)
    call("PUT", url, world.tokens["advisor"], json={"from_number": "+14155550177"})

    assert call("DELETE", url, world.tokens["advisor"]).status_code == 204

    assert call("GET", url, world.tokens["candidate"]).get_json()["effective"]["from_number"] == (
        "+14155550100"
    )


def test_the_answer_of_a_get_can_be_put_back_unchanged(call, world, db):
    _put_org_account(call, world, from_number="+14155550100")
    shown = call("GET", ORG_SMS, world.tokens["admin"]).get_json()["values"]

    response = call("PUT", ORG_SMS, world.tokens["admin"], json=shown)

    assert response.status_code == 200, response.get_json()
    assert _stored(db, world.org.id, None)["auth_token"] == TOKEN


def test_a_candidate_cannot_point_their_settings_at_another_server(call, world, db):
    response = call(
        "PUT",
        f"/v1/users/{world.candidate.id}/channels/email/settings",
        world.tokens["candidate"],
        json={"host": "10.0.0.5", "port": 25},
    )

    assert response.status_code == 403
    assert _stored(db, world.org.id, world.candidate.id, channel="email") == {}


def test_an_advisor_has_no_candidate_channel_settings_and_the_answer_says_so(call, world):
    answer = call(
        "get", f"/v1/users/{world.advisor.id}/channels/email/settings", world.tokens["admin"]
    )

    problem = assert_problem(answer, 409)
    assert "is an advisor, not a candidate" in problem["detail"]
