"""Outbound requests never reach private, loopback or link-local addresses unless the
setting allows them; a refusal is a failed attempt with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.models import WebhookDelivery
from api.webhooks.transport import refused_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert refused_address(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address):
    assert refused_address(address) is None


def test_a_loopback_endpoint_is_refused_unless_allowed(
    endpoint, scene, happen, portal, deliveries, db, app
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    happen(scene.touch, "scheduled")

    deliveries.run_due()

    db.expire_all()  # the pass wrote in its own session; this one keeps its objects
    delivery = db.scalars(select(WebhookDelivery)).one()
    assert portal.heard == []
    assert delivery.attempts == 1 and delivery.last_status_code is None
    assert "Refused" in delivery.last_error and "loopback" in delivery.last_error


def test_a_name_that_resolves_to_loopback_is_refused(
    endpoint, scene, happen, portal, deliveries, db, app
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    endpoint.url = portal.url.replace("127.0.0.1", "localhost")
    db.commit()
    happen(scene.touch, "scheduled")

    deliveries.run_due()

    db.expire_all()  # the pass wrote in its own session; this one keeps its objects
    delivery = db.scalars(select(WebhookDelivery)).one()
    assert portal.heard == []
    assert "localhost resolves to" in delivery.last_error
