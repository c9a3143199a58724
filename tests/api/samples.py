"""Sample objects for path parameters of resources added after the foundation.

The access test fills every path parameter from here: a new route whose parameter has
no sample fails that test until one is added.
"""

from __future__ import annotations


def build(factory, candidate, contact, application, interview) -> dict[str, int]:
    from datetime import UTC, datetime

    from api.models import Response

    touch = factory.touch(contact, application)
    response = Response(
        org_id=contact.org_id,
        candidate_id=contact.candidate_id,
        contact_id=contact.id,
        application_id=application.id,
        kind="replied",
        occurred_at=datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
    )
    factory.s.add(response)
    factory.s.commit()
    return {"touch_id": touch.id, "response_id": response.id}
