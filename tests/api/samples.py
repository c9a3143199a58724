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
    from api.models import InboundMail, Template

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
    factory.s.commit()
    return {
        "touch_id": touch.id,
        "response_id": response.id,
        "template_id": template.id,
        "inbound_id": mail.id,
        "channel": UNKNOWN_CHANNEL,
    }
