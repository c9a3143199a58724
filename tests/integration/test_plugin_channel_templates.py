"""A plugin channel's templates are first-class: written per step for it, shipped by the
plugin (``default_templates``), else borrowed from the built-in channel of its address kind.

In force for a touch on a plugin channel: the candidate's template for that channel, else
the organisation's, else the plugin's own default, else the candidate's, the organisation's
or the built-in template of its kind (email or sms).
"""

from __future__ import annotations

import pytest

from api.models import Template
from channels import Channel, Sent, hookimpl, registry
from tests.api.helpers import assert_problem

SHIPPED = ("Hook: thanks, {{ contact.first_name }}", "Hook note for {{ contact.name }}.")


class HookChannel(Channel):
    name = "hook"
    address_kind = "email"
    default_templates = {"thank_you": SHIPPED}

    def check_address(self, address):
        return None

    def send(self, message, settings):
        return Sent(f"hook-{message.touch_id}")


class BareHookChannel(HookChannel):
    name = "barehook"
    default_templates = {}


class PagerChannel(HookChannel):
    name = "pager"
    address_kind = "phone"
    default_templates = {}


class BrokenHookChannel(HookChannel):
    name = "brokenhook"
    default_templates = {"thank_you": ("Hi", "Dear {{ interviewer.name }}")}


class HookPlugin:
    @hookimpl
    def register_channels(self, register):
        for channel in (HookChannel, BareHookChannel, PagerChannel, BrokenHookChannel):
            register(channel())


@pytest.fixture(autouse=True)
def hook_plugin():
    manager = registry.get_plugin_manager()
    manager.register(HookPlugin(), name="hook-plugin")
    yield
    manager.unregister(name="hook-plugin")


@pytest.fixture
def contact(world, factory):
    """A contact of the candidate, interviewed."""
    dana = factory.contact(world.candidate, name="Dana Jones")
    dana.application = factory.application(world.candidate)
    factory.interview(dana.application, [dana])
    return dana


def _create(call, token, **fields):
    body = {"step": "thank_you", "channel": "hook", "subject": "Thanks", "body": "Hello"}
    return call("POST", "/v1/templates", token, json={**body, **fields})


def _in_force(call, world, contact, channel="hook"):
    response = call(
        "POST",
        "/v1/templates/preview",
        world.tokens["candidate"],
        json={"contact_id": contact.id, "step": "thank_you", "channel": channel},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_template_is_saved_for_a_registered_plugin_channel(call, world):
    response = _create(call, world.tokens["admin"])

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["channel"] == "hook"


def test_a_template_for_an_unknown_channel_is_refused_naming_it(call, world, db):
    response = _create(call, world.tokens["admin"], channel="pigeon")

    body = assert_problem(response, 422, "channel")
    assert "pigeon" in body["errors"]["channel"][0]
    assert "GET /v1/channels" in body["errors"]["channel"][0]
    assert db.query(Template).count() == 0


def test_a_template_cannot_be_moved_to_an_unknown_channel(call, world):
    created = _create(call, world.tokens["admin"]).get_json()

    response = call(
        "PATCH", f"/v1/templates/{created['id']}", world.tokens["admin"], json={"channel": "x"}
    )

    assert_problem(response, 422, "channel")


def test_a_phone_plugin_channels_template_has_no_subject(call, world):
    response = _create(call, world.tokens["admin"], channel="pager", subject="Hi")

    assert_problem(response, 422, "subject")


def test_an_email_plugin_channels_template_needs_a_subject(call, world):
    response = _create(call, world.tokens["admin"], subject="")

    assert_problem(response, 422, "subject")


def test_the_plugins_shipped_template_applies_when_nobody_wrote_one(call, world, contact):
    preview = _in_force(call, world, contact)

    assert (preview["source"], preview["template_id"]) == ("default", None)
    assert preview["subject"] == "Hook: thanks, Dana"
    assert preview["body"] == "Hook note for Dana Jones."


def test_the_orgs_template_for_the_channel_wins_over_the_shipped_one(call, world, contact):
    org = _create(call, world.tokens["admin"], subject="From the office").get_json()

    preview = _in_force(call, world, contact)

    assert (preview["source"], preview["template_id"]) == ("org", org["id"])
    assert preview["subject"] == "From the office"


def test_the_candidates_template_for_the_channel_wins_over_the_orgs(call, world, contact):
    _create(call, world.tokens["admin"], subject="From the office")
    own = _create(call, world.tokens["candidate"], subject="From me").get_json()

    preview = _in_force(call, world, contact)

    assert (preview["source"], preview["template_id"]) == ("candidate", own["id"])


def test_the_shipped_template_wins_over_the_orgs_template_of_its_kind(call, world, contact):
    _create(call, world.tokens["admin"], channel="email", subject="Email of the office")

    preview = _in_force(call, world, contact)

    assert preview["subject"] == "Hook: thanks, Dana"


def test_without_a_shipped_template_the_channel_borrows_its_kinds(call, world, contact):
    org = _create(call, world.tokens["admin"], channel="email", subject="Email of the office")

    preview = _in_force(call, world, contact, channel="barehook")

    assert (preview["source"], preview["template_id"]) == ("org", org.get_json()["id"])


def test_a_shipped_template_that_would_be_refused_if_saved_is_not_used(call, world, contact):
    preview = _in_force(call, world, contact, channel="brokenhook")

    assert preview["source"] == "default"
    assert "interviewer" not in preview["body"]
    assert preview["subject"] != "Hi"


def test_the_defaults_list_holds_the_shipped_templates(call, world):
    response = call("GET", "/v1/templates/defaults", world.tokens["candidate"])

    assert response.status_code == 200
    hooks = [t for t in response.get_json() if t["channel"] == "hook"]
    assert hooks == [
        {"step": "thank_you", "channel": "hook", "subject": SHIPPED[0], "body": SHIPPED[1]}
    ]


def test_the_defaults_list_leaves_out_a_shipped_template_that_is_invalid(call, world):
    response = call("GET", "/v1/templates/defaults", world.tokens["candidate"])

    assert "brokenhook" not in {t["channel"] for t in response.get_json()}


def test_a_touch_on_the_channel_is_composed_from_its_template(call, world, contact):
    body = "Hi {{ contact.name }}, I enjoyed {{ notes.specific_point }}."
    _create(call, world.tokens["admin"], subject="Webhook thanks", body=body)
    touch = {"step": "thank_you", "channel": "hook", "application_id": contact.application.id}

    response = call(
        "POST", "/v1/touches", world.tokens["candidate"], json={"contact_id": contact.id, **touch}
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["subject"] == "Webhook thanks"
    assert response.get_json()["body"].startswith("Hi Dana Jones, I enjoyed ")
