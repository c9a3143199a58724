"""The scheduling core's thin database edge: load an application's facts, apply the
placements, record every change as an event.

Whatever changed (a send, a reply, a manual touch, a policy or application edit), the
caller names the application and the core recomputes all its pending touches from
scratch, in the same transaction as the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from api import approval, ledger
from api.models import Application, Touch, utcnow
from api.scheduling.facts import FactSource, is_movable, pending_of
from api.scheduling.placement import Facts, Pending, Placement, place
from api.sql_lists import among, update_by_id

#: Applications whose facts are loaded at once (an org-wide re-plan goes in chunks, so its
#: queries' IN lists stay within SQLite's bound-parameter limit).
CHUNK = 500

__all__ = [
    "applications",
    "apply",
    "is_movable",
    "load_facts",
    "pending_of",
    "replan",
    "replan_each",
    "write_touches",
]


def applications(session: Session, ids: Sequence[int]) -> list[Application]:
    """The applications of ``ids`` in that order: those not yet in the session from one
    query, the others from its identity map (the query's rows are held until then: the
    identity map is weak, and a row let go would be read again, one ``get`` each)."""
    missing = [i for i in ids if identity_key(Application, i) not in session.identity_map]
    loaded = {}
    if missing:
        found = session.scalars(select(Application).where(among(session, Application.id, missing)))
        loaded = {a.id: a for a in found}
    return [a for a in (loaded.get(i) or session.get(Application, i) for i in ids) if a]


def load_facts(
    session: Session,
    application: Application,
    now: datetime,
    extra: Iterable[Pending] = (),
) -> tuple[Facts, dict[int, Touch]]:
    """The facts of one application (``extra``: touches not yet stored, e.g. a plan's),
    and its stored pending touches by id."""
    extra = list(extra)
    source = FactSource(session, [application], now, {p.contact_id for p in extra})
    return source.facts(application, extra)


def apply(
    session: Session,
    placements: Iterable[Placement],
    stored: dict[int, Touch],
    actor: str,
    events: list[dict] | None = None,
    writes: dict[int, dict] | None = None,
) -> list[Touch]:
    """Write the placements of stored touches; every change an event. The changed touches.

    ``events``: where to put the events' rows (api.ledger.event_row) for the caller to
    insert at once (:func:`replan_each` does, one INSERT a chunk); None: inserted here.
    ``writes``: where to put the touches' new values (by id) for the caller to write at
    once (:func:`write_touches`); the objects get them as their committed state, so they
    read true and the unit of work does not write them one by one. None: written here."""
    rows: list[dict] = [] if events is None else events
    values: dict[int, dict] = {} if writes is None else writes
    changed = []
    for placed in placements:
        touch = stored.get(placed.pending.id) if placed.pending.id is not None else None
        if touch is None:
            continue
        if placed.cancelled:
            rows.append(
                ledger.event_row(
                    touch.id, placed.ending, actor, reason=placed.reason, rule=placed.rule
                )
            )
            new = {"status": placed.ending, "reason": placed.reason, "rule": placed.rule}
            _set(touch, values, new | {"lease_owner": None, "lease_expires_at": None})
            changed.append(touch)
        elif placed.at != touch.scheduled_for:
            old = touch.scheduled_for
            rows.append(
                ledger.event_row(
                    touch.id,
                    "rescheduled",
                    actor,
                    reason=placed.reason,
                    rule=placed.rule,
                    data={"from": old, "to": placed.at},
                )
            )
            moved = SimpleNamespace(
                status=touch.status,
                step=touch.step,
                approve_by=touch.approve_by,
                scheduled_for=placed.at,
            )
            new = {
                "scheduled_for": placed.at,
                "sequence": (touch.sequence or 0) + 1,  # as Touch's own hook (feed SEQUENCE)
                "approve_by": approval.moved_deadline(moved, old),
                "lease_owner": None,
                "lease_expires_at": None,
            }
            _set(touch, values, new)
            changed.append(touch)
    if events is None:
        ledger.insert_events(session, rows)
    if writes is None:
        write_touches(session, values)
    return changed


def _set(touch: Touch, writes: dict[int, dict], values: dict) -> None:
    """Give ``touch`` the new values: as its committed state, noted in ``writes`` for one
    UPDATE, unless it has changes of its own not yet flushed (then through the unit of
    work, which writes them together)."""
    state = inspect(touch)
    if state.modified or state.key is None:
        for key, value in values.items():
            if key != "sequence":  # Touch's hook bumps it
                setattr(touch, key, value)
        return
    values = {**values, "updated_at": utcnow()}
    for key, value in values.items():
        set_committed_value(touch, key, value)
    writes.setdefault(touch.id, {}).update(values)


def write_touches(session: Session, writes: dict[int, dict]) -> None:
    """UPDATE the touches of ``writes`` (id -> values) by primary key, one statement per
    set of columns (api.sql_lists.update_by_id), past the unit of work (:func:`apply` set
    the objects already)."""
    if not writes:
        return
    shapes: dict[tuple, list[dict]] = defaultdict(list)
    for touch_id, values in writes.items():
        shapes[tuple(sorted(values))].append({"id": touch_id, **values})
    for keys, rows in shapes.items():
        update_by_id(session, Touch.__table__, keys, rows)
    writes.clear()


def replan(session: Session, application: Application, now: datetime, actor: str) -> list[Touch]:
    """Recompute every pending touch of the application from its facts; the touches that
    moved or were cancelled, each with an event naming the rule."""
    return replan_each(session, [(application, actor)], now)[0]


def replan_each(
    session: Session,
    plan: Sequence[tuple[Application, str]],
    now: datetime,
    source: FactSource | None = None,
) -> list[list[Touch]]:
    """Re-plan each application in turn, as :func:`replan` one after the other would (each
    sees what the ones before it changed), from facts loaded for all of them at once
    (api.scheduling.facts): a few queries for the lot. ``plan`` names each application with
    the actor its events name; the answer is the touches each changed. ``source``: facts
    loaded before (a batch's), which loads only the applications it lacks."""
    changed = []
    for start in range(0, len(plan), CHUNK):
        part = plan[start : start + CHUNK]
        if source is None or start:
            source = FactSource(session, [application for application, _ in part], now)
        else:
            source.cover(session, [application for application, _ in part])
        events: list[dict] = []
        writes: dict[int, dict] = {}
        for application, actor in part:
            facts, stored = source.facts(application)
            changed.append(apply(session, place(facts), stored, actor, events, writes))
        write_touches(session, writes)  # an UPDATE a set of columns, past the unit of work
        ledger.insert_events(session, events)  # one INSERT, past the unit of work
        session.flush()  # the next chunk's facts are read with these changes
    return changed
