"""Outbound webhook endpoints of the org (Standard Webhooks), and their delivery logs.

Admins of the org only; another org's endpoint answers 404 as if it did not exist. The
signing secret is shown once, at creation and at each rotation. Not to be confused with
api.resources.webhooks: the *inbound* Twilio callbacks.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from api import idempotency
from api.auth import current, roles
from api.db import get_session
from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, apply_changes
from api.resources.listing import Sort, filter_range
from api.schemas.webhooks import (
    WebhookDeliveryQuerySchema,
    WebhookDeliverySchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointSchema,
    WebhookEndpointSecretSchema,
    WebhookEndpointUpdateSchema,
)
from api.webhooks.signing import new_secret

blp = Blueprint(
    "webhook_endpoints",
    __name__,
    url_prefix="/v1/webhook-endpoints",
    description="Where Touchbase tells the portal what happened: signed webhooks (Standard "
    "Webhooks: webhook-id, webhook-timestamp, webhook-signature). Admins only.",
)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = get_session().get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.org_id != current().org_id:
        raise Problem(404, "No such webhook endpoint.")
    return endpoint


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    # the schema dumps (attribute names): hand it the attributes, not a dumped dict
    names = [f.attribute or name for name, f in _FIELDS.items()]
    out = {name: getattr(endpoint, name) for name in names}
    out["secret"] = secret
    return out


_FIELDS = WebhookEndpointSchema().fields

ENDPOINT_SORT = Sort(
    WebhookEndpoint.id, component="CreatedSort", created_at=WebhookEndpoint.created_at
)
DELIVERY_SORT = Sort(
    WebhookDelivery.id,
    created_at=WebhookDelivery.created_at,
    next_attempt_at=WebhookDelivery.next_attempt_at,
    last_attempt_at=WebhookDelivery.last_attempt_at,
)


@blp.route("")
class WebhookEndpoints(MethodView):
    @roles("admin")
    @blp.response(200, WebhookEndpointSchema(many=True))
    @blp.paginate(SelectPage, sort=ENDPOINT_SORT, **PAGINATION)
    @blp.doc(operationId="list_webhook_endpoints")
    def get(self):
        """List the org's webhook endpoints (never their secrets)

        Every endpoint of the organisation: its URL, the event types it hears, whether
        it is enabled and until when a rotated-out secret still signs; never a secret.
        """
        return (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == current().org_id)
            .order_by(WebhookEndpoint.id)
        )

    @idempotency.secret_answer
    @roles("admin")
    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointSecretSchema)
    @blp.doc(operationId="create_webhook_endpoint")
    def post(self, data):
        """Add an endpoint; its signing secret is in this answer only

        From the commit on, every event of the listed types is signed with the secret
        (`whsec_...`, Standard Webhooks) and delivered to the URL by the workers. The
        secret is in this answer only; store it.
        """
        session = get_session()
        secret = new_secret()
        endpoint = WebhookEndpoint(org_id=current().org_id, secret=secret, **data)
        session.add(endpoint)
        session.commit()
        return _with_secret(endpoint, secret)


@blp.route("/<int:endpoint_id>")
class WebhookEndpointById(MethodView):
    @roles("admin")
    @blp.etag
    @blp.response(200, WebhookEndpointSchema)
    @blp.doc(operationId="get_webhook_endpoint")
    def get(self, endpoint_id):
        """Show an endpoint (never its secret)

        The endpoint's URL, event types, state and secret rotation; never a secret.
        """
        return _endpoint(endpoint_id)

    @roles("admin")
    @blp.etag
    @blp.arguments(WebhookEndpointUpdateSchema)
    @blp.response(200, WebhookEndpointSchema)
    @blp.doc(operationId="update_webhook_endpoint")
    def patch(self, data, endpoint_id):
        """Change an endpoint's URL, event types or description; enable or disable it

        A disabled endpoint gets no new events; its pending deliveries wait until it
        is enabled again.
        """
        endpoint = _endpoint(endpoint_id)
        blp.check_etag(endpoint, WebhookEndpointSchema)
        apply_changes(endpoint, data)
        get_session().commit()
        return endpoint

    @roles("admin")
    @blp.etag
    @blp.response(204)
    @blp.doc(operationId="delete_webhook_endpoint")
    def delete(self, endpoint_id):
        """Delete an endpoint, with its pending deliveries and its log

        Nothing more is delivered to it; events already delivered stay delivered.
        """
        session = get_session()
        endpoint = _endpoint(endpoint_id)
        blp.check_etag(endpoint, WebhookEndpointSchema)
        session.delete(endpoint)
        session.commit()


@blp.route("/<int:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @idempotency.secret_answer
    @roles("admin")
    @blp.response(200, WebhookEndpointSecretSchema)
    @blp.doc(operationId="rotate_webhook_endpoint_secret")
    def post(self, endpoint_id):
        """Give an endpoint a new secret, in this answer only

        The old secret keeps signing beside the new one for
        `TOUCHBASE_WEBHOOK_SECRET_OVERLAP_SECONDS` (24 hours by default), so each request
        carries both signatures until the portal has switched: verify with both during the
        overlap, then only with the new one.
        """
        endpoint = _endpoint(endpoint_id)
        overlap = timedelta(seconds=current_app.config["WEBHOOK_SECRET_OVERLAP_SECONDS"])
        secret = new_secret()
        endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
        endpoint.previous_expires_at = utcnow() + overlap
        get_session().commit()
        return _with_secret(endpoint, secret)


def _delivery_row(delivery: WebhookDelivery) -> dict:
    event = delivery.event
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "webhook_id": event.msg_id,
        "event_type": event.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
        "last_attempt_at": delivery.last_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at,
        "created_at": delivery.created_at,
        "payload": event.payload,
    }


class DeliveryPage(SelectPage):
    @property
    def items(self):
        return [_delivery_row(d) for d in super().items]


@blp.route("/<int:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @roles("admin")
    @blp.arguments(WebhookDeliveryQuerySchema, location="query")
    @blp.response(200, WebhookDeliverySchema(many=True))
    @blp.paginate(DeliveryPage, sort=DELIVERY_SORT, **PAGINATION)
    @blp.doc(operationId="list_webhook_deliveries")
    def get(self, args, endpoint_id):
        """The endpoint's delivery log, newest first

        Each event delivered or to deliver: its webhook-id (the same on every retry),
        its attempts, the last answer or error and when the next attempt is due.
        """
        endpoint = _endpoint(endpoint_id)
        query = (
            select(WebhookDelivery)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
        )
        if "status" in args:
            query = query.where(WebhookDelivery.status == args["status"])
        return filter_range(
            query, WebhookDelivery.created_at, args, "created_after", "created_before"
        )


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
class Redeliver(MethodView):
    @roles("admin")
    @blp.response(202, WebhookDeliverySchema)
    @blp.doc(operationId="redeliver_webhook_delivery")
    def post(self, endpoint_id, delivery_id):
        """Send a delivery again, with the same webhook-id, on a fresh retry schedule

        For a failed delivery, or one the portal lost: it is pending again, due now.
        A delivery a worker is sending right now answers 409 (try again in a moment),
        so it never goes out twice at once.
        """
        endpoint = _endpoint(endpoint_id)
        session = get_session()
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.endpoint_id != endpoint.id:
            raise Problem(404, "No such delivery.")
        held = delivery.lease_expires_at
        if delivery.status == "pending" and held is not None and held > utcnow():
            raise Problem(409, "A worker is delivering it right now; try again in a moment.")
        delivery.status, delivery.attempts = "pending", 0
        delivery.next_attempt_at = utcnow()
        delivery.lease_owner = delivery.lease_expires_at = None
        session.commit()
        return _delivery_row(delivery)
