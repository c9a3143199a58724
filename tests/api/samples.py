"""Sample objects for path parameters of resources added after the foundation.

The access test fills every path parameter from here: a new route whose parameter has
no sample fails that test until one is added.
"""

from __future__ import annotations

# A channel is not owned by anyone: channel settings always address the caller's own
# organisation (or a candidate named by user_id), so "another org's channel" does not
# exist. The sample is a channel name nobody registered, which must answer 404 for
# every role as if absent; the candidate-level route's own 404 comes from its user_id.
UNKNOWN_CHANNEL = "no-such-channel"


def build(factory, candidate, contact, application, interview) -> dict[str, int | str]:
    from api.models import InboundMail, Template, WebhookDelivery, WebhookEndpoint, WebhookEvent

    touch = factory.touch(contact, application)
    response = factory.response(contact, application, "replied")
    template = Template(
        org_id=candidate.org_id,
        candidate_id=candidate.id,
        step="thank_you",
        channel="email",
        subject="Thank you, {{ contact.first_name }}",
        body="Dear {{ contact.salutation }},\n\nThank you for your time.",
    )
    factory.s.add(template)
    mail = InboundMail(
        org_id=candidate.org_id,
        candidate_id=candidate.id,
        dedupe_key=f"sample-{candidate.id}",
        source="upload",
        outcome="unmatched",
        classification="replied",
        text="Thanks!",
    )
    factory.s.add(mail)
    endpoint = WebhookEndpoint(
        org_id=candidate.org_id,
        url="https://portal.example.edu/hooks",
        event_types=["touch.sent"],
        secret="whsec_c2FtcGxl",
    )
    factory.s.add(endpoint)
    factory.s.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id)
    factory.s.add(
        WebhookEvent(
            org_id=candidate.org_id,
            msg_id=f"msg_sample{candidate.id}",
            type="touch.sent",
            payload={"type": "touch.sent", "timestamp": "2026-11-18T15:00:00Z", "data": {}},
            deliveries=[delivery],
        )
    )
    factory.s.commit()
    return {
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "touch_id": touch.id,
        "response_id": response.id,
        "template_id": template.id,
        "inbound_id": mail.id,
        "channel": UNKNOWN_CHANNEL,
    }
