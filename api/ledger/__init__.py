"""The bridge between the touch ledger in the database and the pure policy engine.

Loads a contact's history, responses and effective policy into the engine's plain
records, and records every change of a touch as an event. Plugins observe events only
after the transaction that made them commits, so they never hear of a change that
was rolled back.

Split by idea: :mod:`.layers` (policy layers), :mod:`.records` (rows to engine records),
:mod:`.decisions` (verdicts and the daily cap), :mod:`.events` (events and their listeners)
and :mod:`.rowlocks`; re-planning after a change is :mod:`api.scheduling`'s. This package
re-exports their names, so callers keep using ``api.ledger``; importing it registers the
session listeners.
"""

from __future__ import annotations

from api.ledger.decisions import (
    COUNTING,
    SENDS_ON_LOCAL_DAY,
    Situation,
    daily_cap_params,
    decide,
    judged_at,
    recheck,
    recheck_sends_params,
    situation,
)
from api.ledger.events import actor_for_user, event_row, insert_events, record_event, update_touch
from api.ledger.layers import (
    all_layers,
    effective_policy,
    layers_of,
    message_limits,
    policy_layers,
)
from api.ledger.records import (
    GRACE,
    contact_info,
    current_round,
    history,
    interview_end,
    interview_ends,
    response_record,
    responses,
    touch_record,
)
from api.ledger.rowlocks import lock_contact, lock_contacts, lock_touch

__all__ = [
    "COUNTING",
    "GRACE",
    "SENDS_ON_LOCAL_DAY",
    "Situation",
    "actor_for_user",
    "all_layers",
    "contact_info",
    "current_round",
    "daily_cap_params",
    "decide",
    "effective_policy",
    "event_row",
    "history",
    "insert_events",
    "interview_end",
    "interview_ends",
    "judged_at",
    "layers_of",
    "lock_contact",
    "lock_contacts",
    "lock_touch",
    "message_limits",
    "policy_layers",
    "recheck",
    "recheck_sends_params",
    "record_event",
    "response_record",
    "responses",
    "situation",
    "touch_record",
    "update_touch",
]
