"""Access rules, generated from the app's own URL map.

Every route and method either is public or declares roles; for each we check that no
token gives 401, a role outside the rule gives 403, and an object of another org or of a
candidate the caller may not see gives 404, exactly as if it did not exist. A route added
without an access rule, or with a path parameter this test has no sample for, fails here.
"""

from __future__ import annotations

import re

import pytest

from api import create_app
from api.auth import ALL_ROLES, PUBLIC, access_rule

AUTOMATIC = {"HEAD", "OPTIONS"}


def _routes():
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x"})
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - AUTOMATIC):
            yield rule.rule, method, access_rule(view, method)


ROUTES = list(_routes())
PROTECTED = [(path, method, rule) for path, method, rule in ROUTES if rule != PUBLIC]


@pytest.mark.parametrize(("path", "method", "rule"), ROUTES, ids=[f"{m} {p}" for p, m, _ in ROUTES])
def test_every_route_declares_its_access(path, method, rule):
    assert rule is not None, f"{method} {path} declares no access rule (@roles or @public)"


def _fill(path: str, ids: dict[str, int]) -> str:
    def sub(match):
        name = match.group(1)
        assert name in ids, f"no sample object for path parameter {name!r}: add one to SAMPLES"
        return str(ids[name])

    return re.sub(r"<(?:\w+:)?(\w+)>", sub, path)


@pytest.fixture
def samples(world, factory):
    """Objects owned by an outsider (another org) and by an unassigned candidate."""

    def owned_by(candidate, org):
        contact = factory.contact(candidate)
        application = factory.application(candidate)
        interview = factory.interview(application, [contact])
        ids = {
            "contact_id": contact.id,
            "application_id": application.id,
            "interview_id": interview.id,
            "user_id": candidate.id,
            "token_id": _token_id_of(factory, candidate),
        }
        other_advisor, _ = factory.user(org, "advisor")
        ids["assignment_id"] = factory.assign(other_advisor, candidate).id
        ids.update(extra_samples(factory, candidate, contact, application, interview))
        return ids

    foreign = owned_by(world.stranger, world.other_org)
    unassigned = owned_by(world.other_candidate, world.org)
    return {"foreign": foreign, "unassigned": unassigned}


def extra_samples(factory, candidate, contact, application, interview) -> dict[str, int]:
    """Sample ids for resources added later (touches, templates...): extend here."""
    from tests.api import samples as more

    return more.build(factory, candidate, contact, application, interview)


def _token_id_of(factory, user) -> int:
    from sqlalchemy import select

    from api.models import ApiToken

    return factory.s.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))


@pytest.mark.parametrize(
    ("path", "method", "rule"), PROTECTED, ids=[f"{m} {p}" for p, m, _ in PROTECTED]
)
def test_no_token_is_401(call, world, samples, path, method, rule):
    response = call(method, _fill(path, samples["foreign"]), json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "method", "rule"), PROTECTED, ids=[f"{m} {p}" for p, m, _ in PROTECTED]
)
def test_bad_token_is_401(call, world, samples, path, method, rule):
    response = call(method, _fill(path, samples["foreign"]), "tb_not-a-real-token", json={})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    ("path", "method", "rule"), PROTECTED, ids=[f"{m} {p}" for p, m, _ in PROTECTED]
)
def test_role_outside_the_rule_is_403(call, world, samples, path, method, rule, role):
    response = call(method, _fill(path, samples["unassigned"]), world.tokens[role], json={})
    if role in rule:
        assert response.status_code != 403, response.get_json()
    else:
        assert response.status_code == 403, response.get_json()


def _object_routes():
    for path, method, rule in PROTECTED:
        if "<" in path:
            yield path, method, rule


OBJECT_ROUTES = list(_object_routes())


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(
    ("path", "method", "rule"), OBJECT_ROUTES, ids=[f"{m} {p}" for p, m, _ in OBJECT_ROUTES]
)
def test_object_of_another_org_is_404(call, world, samples, path, method, rule, role):
    if role not in rule:
        pytest.skip("role refused with 403 before any lookup")
    _assert_as_if_absent(call, path, method, samples["foreign"], world.tokens[role])


@pytest.mark.parametrize("role", ["advisor", "candidate"])
@pytest.mark.parametrize(
    ("path", "method", "rule"), OBJECT_ROUTES, ids=[f"{m} {p}" for p, m, _ in OBJECT_ROUTES]
)
def test_object_of_a_candidate_not_visible_is_404(call, world, samples, path, method, rule, role):
    if role not in rule:
        pytest.skip("role refused with 403 before any lookup")
    _assert_as_if_absent(call, path, method, samples["unassigned"], world.tokens[role])


def _assert_as_if_absent(call, path, method, ids, token):
    """The answer must be 404, or exactly the answer for an id that does not exist (a body
    refused before any lookup, 422, says nothing about the object)."""
    response = call(method, _fill(path, ids), token, json={})
    assert response.mimetype == "application/problem+json"
    if response.status_code == 404:
        return
    missing = call(method, _fill(path, dict.fromkeys(ids, 987654321)), token, json={})
    assert response.status_code == 422, response.get_json()
    assert (response.status_code, response.get_json()) == (
        missing.status_code,
        missing.get_json(),
    )


def test_an_undeclared_route_is_refused(engine):
    app = create_app({"ENGINE": engine, "DATABASE_URL": str(engine.url), "SECRET_KEY": "x"})
    app.add_url_rule("/v1/sneaky", "sneaky", lambda: "secret")
    response = app.test_client().get("/v1/sneaky")
    assert response.status_code == 500
    assert b"secret" not in response.data
