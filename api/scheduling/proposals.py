"""What a response proposes: R9's one gracious note after a rejection, R10's prompt answer
to a next-round invitation.

The note goes to the person who spoke (the contact the response is from), on the channel
their message came through when it can send (R14), else as the plan would pick, at the
next opening of their window. Only one of each is ever proposed: a step that exists in
any state but cancelled is never proposed again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger
from api.models import Contact, Response, Touch
from api.scheduling.channels import Usable, pick, reaches, usable_channels
from api.sql_lists import among

#: response kind -> (step, rule, why)
PROPOSED = {
    "rejected": (
        "post_rejection",
        "R9",
        "R9: one short thank-you for the opportunity after the rejection, then nothing more",
    ),
    "next_round": (
        "next_round_reply",
        "R10",
        "R10: an invitation to the next round is answered promptly, on its channel",
    ),
}


@dataclass(frozen=True)
class Proposal:
    step: str
    channel: str
    round: int
    rule: str
    reason: str


def proposal_for(
    session: Session,
    response: Response,
    contact: Contact,
    config: Mapping[str, Any],
    usable: dict[tuple[int, int], Usable] | None = None,
    taken: set[tuple] | None = None,
) -> Proposal | None:
    """The touch ``response`` proposes, or None (nothing to propose, or one exists).
    ``usable``: the channels each (org, candidate) can use, read once for a batch of
    responses (their settings do not change within it). ``taken``: the notes that exist,
    read once for a batch (:func:`taken_notes`)."""
    if response.kind not in PROPOSED:
        return None
    step, rule, why = PROPOSED[response.kind]
    round_ = response.round + 1 if step == "next_round_reply" else response.round
    if taken is None:
        taken = taken_notes(session, [response.application_id])
    # one post-rejection note an application, whatever its round; one reply a round
    key = (response.application_id, step, round_)
    if (key if step == "next_round_reply" else key[:2]) in taken:
        return None
    usable = {} if usable is None else usable
    key = (contact.org_id, contact.candidate_id)
    if key not in usable:
        usable[key] = usable_channels(session, contact.org_id, contact.candidate_id, config)
    can = usable[key]
    info = ledger.contact_info(contact)
    came = response.channel
    if (
        came
        and came not in ("call", "manual")
        and can.can_send(came)
        and reaches(info, can.kinds[came], came)
    ):
        channel = came
    else:
        channel, _ = pick(step, info, can)
    if channel is None:
        return None
    return Proposal(step, channel, round_, rule, f"{why} (to {contact.name}, by {channel}).")


def taken_notes(session: Session, application_ids: list[int]) -> set[tuple]:
    """The notes of these applications in any state but cancelled: (application, step,
    round) for each, and (application, step) too, since a post-rejection note is one per
    application whatever its round."""
    steps = sorted(step for step, _, _ in PROPOSED.values())
    rows = session.execute(
        select(Touch.application_id, Touch.step, Touch.round).where(
            among(session, Touch.application_id, sorted(set(application_ids))),
            Touch.step.in_(steps),
            Touch.status != "cancelled",
        )
    )
    found: set[tuple] = set()
    for application_id, step, round_ in rows:
        found.add((application_id, step, round_))
        found.add((application_id, step))
    return found
