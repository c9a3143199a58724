"""The policy layers stored for an org, a candidate and a contact, and the effective policy
they merge into.

Reading the rows is the ledger's job, merging them the engine's (:func:`api.policy.merge`);
this module is the one place that knows how a :class:`api.models.PolicySetting` row maps to
a layer.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import policy
from api.models import PolicySetting


def policy_layers(
    session: Session, org_id: int, candidate_id: int | None, contact_id: int | None
) -> tuple[dict, dict, dict]:
    """The staff-set layers (org, candidate, contact), without the candidate's own rules."""
    return all_layers(session, org_id, candidate_id, contact_id)[:3]


def all_layers(
    session: Session, org_id: int, candidate_id: int | None, contact_id: int | None
) -> tuple[dict, dict, dict, dict]:
    """The staff layers and the candidate's own rules for the contact, as policy.merge takes."""
    rows = session.scalars(select(PolicySetting).where(PolicySetting.org_id == org_id)).all()
    return layers_of(rows, candidate_id, contact_id)


def layers_of(
    rows: Sequence[PolicySetting], candidate_id: int | None, contact_id: int | None
) -> tuple[dict, dict, dict, dict]:
    """:func:`all_layers` from an org's rows already read (one read serves many contacts)."""
    org, cand, cont, own = {}, {}, {}, {}
    for row in rows:
        if row.candidate_id is None and row.contact_id is None:
            org = row.values or {}
        elif row.contact_id is None and row.candidate_id == candidate_id:
            cand = row.values or {}
        elif contact_id is not None and row.contact_id == contact_id:
            cont, own = row.values or {}, row.own_values or {}
    return org, cand, cont, own


def effective_policy(
    session: Session, org_id: int, candidate_id: int | None = None, contact_id: int | None = None
) -> tuple[policy.PolicySettings, dict[str, str]]:
    return policy.merge(*all_layers(session, org_id, candidate_id, contact_id))


def message_limits(settings: policy.PolicySettings) -> dict[str, int]:
    return {
        "thank_you_max_words": settings.thank_you_max_words,
        "follow_up_max_words": settings.follow_up_max_words,
        "sms_max_segments": settings.sms_max_segments,
    }
