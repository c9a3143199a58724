"""The notes (R9, R10) a wave of responses proposes, from reads shared by the wave.

Proposed one by one, a note costs some twenty-five statements: the note already taken,
the channels' settings, the policy layers, the history, the responses and the
interview's end the policy looks at, then an INSERT, two events and a savepoint. A wave
(api.scheduling.responses) holds at most one proposing response per candidate, so its
notes cannot see one another: the facts they are decided on are read once for all of
them, each is still decided by the pure ``api.policy.evaluate`` (through
api.ledger.decide) and composed as alone, and the notes are stored with one flush and
their events with one INSERT.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, lazyload

from api import ledger, policy
from api.compose import previous_subject
from api.models import (
    Application,
    Contact,
    PolicySetting,
    Response,
    Touch,
)
from api.problems import Problem
from api.scheduling.channels import usable_channels_many
from api.scheduling.creation import new_touch, opening_events, planned_state, prepare_touch
from api.scheduling.facts import FactSource
from api.scheduling.proposals import PROPOSED, proposal_for, taken_notes
from api.scheduling.wave_reads import WaveReads, situation_from
from api.sql_lists import among

Asked = tuple[Response, Contact, Application]


def propose_wave(
    session: Session,
    asked: Sequence[Asked],
    now: datetime,
    config: Mapping[str, Any],
    usable: dict | None = None,
    source: FactSource | None = None,
) -> list[Touch | None]:
    """The note each response proposes (None: none, or the rules refuse it now), as
    api.scheduling.responses.propose on each in turn would; the caller guarantees no two
    proposing responses of one candidate (a wave's rule). ``source``: the facts the wave
    was re-planned from, which count the daily cap and find the thank-you a note threads
    onto without a query each (where it holds them)."""
    usable = {} if usable is None else usable
    found: list[Touch | None] = [None] * len(asked)
    wanted = [n for n, (r, _, _) in enumerate(asked) if r.kind in PROPOSED]
    if not wanted:
        return found
    taken = taken_notes(session, [asked[n][0].application_id for n in wanted])
    keys = {(asked[n][1].org_id, asked[n][1].candidate_id) for n in wanted} - set(usable)
    usable.update(usable_channels_many(session, keys, config))
    chosen = []
    for n in wanted:
        response, contact, _ = asked[n]
        proposal = proposal_for(session, response, contact, config, usable, taken)
        if proposal is not None:
            chosen.append((n, proposal))
    if not chosen:
        return found
    where = situations(session, [(asked[n][1], asked[n][2], p.round) for n, p in chosen], source)
    reads = WaveReads(session, [(asked[n][1], asked[n][2]) for n, _ in chosen], source)
    made = []
    for (n, proposal), situation in zip(chosen, where, strict=True):
        response, contact, application = asked[n]
        try:
            prepared = prepare_touch(
                session,
                contact=contact,
                application=application,
                interview=None,
                round_=proposal.round,
                step=proposal.step,
                channel=proposal.channel,
                wanted=now,
                now=now,
                where=situation,
                cap_count=source.sends_on_day if source is not None else None,
                reads=reads,
            )
            status, approve_by = planned_state(prepared)
            touch = new_touch(
                session,
                prepared,
                planned=True,
                plan_reason=proposal.reason,
                status=status,
                approve_by=approve_by,
                thread_of=_thread_of(session, source) if source is not None else None,
            )
        except Problem:
            continue
        made.append((touch, prepared, status, approve_by, f"response:{response.id}", proposal))
        found[n] = touch
    if made:
        session.add_all([m[0] for m in made])
        session.flush()
        rows = []
        for touch, prepared, status, approve_by, actor, proposal in made:
            for kind, fields in opening_events(prepared, status, proposal.reason, approve_by):
                rows.append(ledger.event_row(touch.id, kind, actor, **fields))
        ledger.insert_events(session, rows)
    return found


def _thread_of(session: Session, source: FactSource):
    """The thank-you a (contact, round) threads onto: the source's, else read."""

    def thread_of(contact_id: int, round_: int) -> int | None:
        known, found = source.thank_you_of(contact_id, round_)
        return found if known else previous_subject(session, contact_id, round_)[1]

    return thread_of


def situations(
    session: Session,
    asked: Sequence[tuple[Contact, Application, int]],
    source: FactSource | None = None,
) -> list[ledger.Situation]:
    """What :func:`api.ledger.situation` reads for each (contact, application, round):
    from ``source`` where it holds them, the others from five queries for all of them."""
    held = {
        n: situation_from(source, c, a, r)
        for n, (c, a, r) in enumerate(asked)
        if source is not None and source.holds(c, a)
    }
    rest = [n for n in range(len(asked)) if n not in held]
    read = dict(zip(rest, _read_situations(session, [asked[n] for n in rest]), strict=True))
    return [held[n] if n in held else read[n] for n in range(len(asked))]


def _read_situations(
    session: Session, asked: Sequence[tuple[Contact, Application, int]]
) -> list[ledger.Situation]:
    if not asked:
        return []
    contact_ids = sorted({c.id for c, _, _ in asked})
    app_ids = sorted({a.id for _, a, _ in asked})
    orgs = sorted({c.org_id for c, _, _ in asked})
    rows: dict[int, list[PolicySetting]] = defaultdict(list)
    for row in session.scalars(select(PolicySetting).where(PolicySetting.org_id.in_(orgs))):
        rows[row.org_id].append(row)
    touches = session.scalars(
        select(Touch)
        .where(
            or_(
                among(session, Touch.contact_id, contact_ids),
                among(session, Touch.application_id, app_ids),
            )
        )
        .order_by(Touch.id)
    ).all()
    responses = session.scalars(
        select(Response)
        .options(lazyload(Response.corrections))
        .where(
            or_(  # IN, not among(): see api.scheduling.facts
                Response.contact_id.in_(contact_ids), Response.application_id.in_(app_ids)
            )
        )
        .order_by(Response.occurred_at, Response.id)
    ).all()
    ends = ledger.interview_ends(session, contact_ids, app_ids)
    found = []
    for contact, application, round_ in asked:
        layers = ledger.layers_of(rows[contact.org_id], contact.candidate_id, contact.id)
        found.append(
            ledger.Situation(
                settings=policy.merge(*layers)[0],
                contact=ledger.contact_info(contact),
                history=[
                    ledger.touch_record(t)
                    for t in touches
                    if t.contact_id == contact.id or t.application_id == application.id
                ],
                responses=[
                    ledger.response_record(r)
                    for r in responses
                    if r.contact_id == contact.id or r.application_id == application.id
                ],
                interview_end=ends.get((contact.id, application.id, round_)),
                decision_date=application.decision_expected_on,
            )
        )
    return found
