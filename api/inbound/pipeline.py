"""One pipeline for every email Touchbase hears: parse -> dedupe -> match -> classify -> act.

Posted raw (``POST /v1/inbound/email``) or read from a mailbox, a message is entered in the
inbound log first (unique per org by Message-ID, else a digest), so a second delivery is a
``duplicate`` and acts never. It is matched to the touch it answers by In-Reply-To and
References against the Message-IDs Touchbase stored when it scheduled its touches, else to
a contact by the sender's address, else by the sender's company domain (api.inbound.matching);
a copy of one of our own messages is ignored. Then it is acted on (api.inbound.acting).
Nothing is ever dropped: what matches no one is kept as ``unmatched``.

A poller hears a fetched batch at once (:func:`receive_many`), for a number of queries per
batch rather than per message: the messages are parsed, entered in the log with one
``INSERT .. ON CONFLICT DO NOTHING``, matched from one lookup of every Message-ID they
name and one of every sender (api.inbound.matching.lookup), classified, and the responses
of each run of them recorded together (api.inbound.acting.record_many), from facts the
batch loads as it goes (api.scheduling.facts.FactSource). The outcome of
each message is the one it would have had heard alone after the ones before it: a
message whose match or effect could depend on what an earlier one did (one that may match
by its company domain, or a contact with nothing sent yet) is heard on its own at its
turn, after the run before it is recorded. A permanent bounce re-plans its contact, but
changes nothing outside the candidate of the touch it is about: it is held while the run
grows with other candidates' responses (whose effects it cannot see, nor they its own),
and acted on after the run, before the next response of its candidate. In an org mailbox a
batch's bounces so no longer cut its run in pieces, each with its own queries (at 3,000
messages, 140 runs became 15; the batch some 20% faster).
A raw message posted to ``POST /v1/inbound/email`` is a batch of one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from api import ledger, scheduling
from api.db import is_postgres
from api.inbound import matching, message
from api.inbound.acting import (
    TEXT_MAX,
    Outcome,
    act,
    act_on_bounce,
    attach,
    bounced_touch,
    done,
    record_many,
    records,
)
from api.inbound.classify import Classification, classify
from api.inbound.message import NotAMessage
from api.models import InboundMail
from api.scheduling.facts import FactSource
from api.sql_lists import update_by_id
from api.webhooks import events as webhook_events

__all__ = ["NotAMessage", "Outcome", "attach", "receive", "receive_many"]

DUPLICATE = "This message was heard before; it acts once."
OWN_COPY = "A copy of a message Touchbase sent; never a reply."


def _key(msg: EmailMessage, raw: bytes) -> str:
    own = message.message_id(msg)
    return own[:300] if own else "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass
class _Heard:
    """One message of a batch on its way through."""

    msg: EmailMessage
    key: str
    own: str | None
    sender: str | None
    row: InboundMail | None = None


def receive(
    session: Session,
    org_id: int,
    raw: bytes,
    *,
    source: str,
    now: datetime,
    config: Mapping[str, Any],
    candidate_id: int | None = None,
) -> Outcome:
    """Hear one raw message (``NotAMessage`` if it is none); the caller commits."""
    (result,) = receive_many(
        session, org_id, [raw], source=source, now=now, config=config, candidate_id=candidate_id
    )
    if isinstance(result, NotAMessage):
        raise result
    return result


def receive_many(
    session: Session,
    org_id: int,
    raws: Sequence[bytes],
    *,
    source: str,
    now: datetime,
    config: Mapping[str, Any],
    candidate_id: int | None = None,
) -> list[Outcome | NotAMessage]:
    """Hear a batch of raw messages in order, each one's outcome (or ``NotAMessage`` for
    one that is none) as if heard alone after the ones before it; the caller commits."""
    results: list[Outcome | NotAMessage | None] = [None] * len(raws)
    heard: dict[int, _Heard] = {}
    seen: set[str] = set()
    for n, raw in enumerate(raws):
        try:
            msg = message.parse(raw)
        except NotAMessage as exc:
            results[n] = exc
            continue
        key = _key(msg, raw)
        if key in seen:
            results[n] = Outcome("duplicate", DUPLICATE)
            continue
        seen.add(key)
        own = message.message_id(msg)
        heard[n] = _Heard(msg, key, own[:300] if own else None, message.sender(msg))
    rows = _log(session, org_id, candidate_id, source, now, heard.values())
    for n, item in list(heard.items()):
        item.row = rows.get(item.key)
        if item.row is None:  # heard before, or by another worker at the same moment
            results[n] = Outcome("duplicate", DUPLICATE)
            del heard[n]
    known = matching.lookup(
        session,
        org_id,
        {mid for h in heard.values() for mid in _named(h)},
        {h.sender for h in heard.values() if h.sender},
        candidate_id,
    )
    run: list[tuple[int, tuple]] = []
    held: list[tuple[int, tuple]] = []  # permanent bounces, acted on after the run
    held_for: set[int] = set()  # their candidates
    source = FactSource(session, [], now, light=True)  # the batch's facts, loaded as it goes

    def record_run() -> None:
        """Record the run, then act on the bounces held while it grew."""
        if run:
            ledger.lock_contacts(session, [m.contact.id for _, (_, m, _) in run])
            outcomes = record_many(session, [h for _, h in run], now, config, source)
            for (n, _), outcome in zip(run, outcomes, strict=True):
                results[n] = outcome
            run.clear()
        replans: list[tuple[int, str]] = []  # re-planned together, a candidate once
        candidates: set[int] = set()
        for n, (row, touch, found) in held:
            if touch.candidate_id in candidates:
                scheduling.replan_contacts(session, now, replans, source)
                replans.clear()
                candidates.clear()
            candidates.add(touch.candidate_id)
            results[n] = act_on_bounce(session, row, touch, found, source, replans)
        scheduling.replan_contacts(session, now, replans, source)
        held.clear()
        held_for.clear()

    for n, item in heard.items():
        row = item.row
        if item.own and known.touch(item.own) is not None:
            results[n] = done(row, "ignored", OWN_COPY)
            continue
        match = matching.match_known(session, known, item.msg, item.sender, candidate_id)
        if match is None and not known.may_change(item.sender):
            match = matching.NO_MATCH  # what match() would find, without its queries
        if match is None:  # matched at its turn, by itself
            record_run()
            match = matching.match(session, org_id, item.msg, item.sender, candidate_id)
            found = _classify(session, row, item.msg, match, now)
            if found.kind != "bounce":
                match = matching.named_contact(session, match, found.text)
        else:
            found = _classify(session, row, item.msg, match, now)
        match = _fill(row, match, found)
        if records(found, match):
            if match.touch is None or match.contact.candidate_id in held_for:
                record_run()  # its round is read at its turn; it follows a held bounce
            run.append((n, (row, match, found)))
            continue
        if found.kind == "bounce":
            touch = bounced_touch(session, row, match, found)
            if touch is not None and found.bounce is not None and found.bounce.permanent:
                held.append((n, (row, touch, found)))  # see the module docstring
                held_for.add(touch.candidate_id)
                continue
            if touch is not None and touch.candidate_id in held_for:
                record_run()  # a held bounce may be about the same touch
            results[n] = act_on_bounce(session, row, touch, found, source)
            continue
        results[n] = act(session, row, match, found, now, config, source)
    record_run()
    for n, item in heard.items():
        if isinstance(results[n], Outcome) and results[n].outcome == "unmatched":
            webhook_events.inbound_unmatched(session, item.row)
    _store(session, [h.row for h in heard.values() if h.row is not None])
    return results  # type: ignore[return-value]


def _named(item: _Heard) -> list[str]:
    """The Message-IDs a message names: its own (a copy of ours?) and those it answers."""
    answered = message.in_reply_to(item.msg) + message.references(item.msg)
    return [item.own, *answered] if item.own else answered


def _log(session, org_id, candidate_id, source, now, heard) -> dict[str, InboundMail]:
    """Enter the messages in the inbound log with ``INSERT .. ON CONFLICT DO NOTHING``
    (one executemany, which SQLAlchemy sends as a few multi-row INSERTs): the rows
    entered, by dedupe key; a key missing was heard before. The rows are built here from
    what was inserted, detached from the session: :func:`_store` writes what the batch
    fills in."""
    values = {
        h.key: {
            "org_id": org_id,
            "candidate_id": candidate_id,
            "dedupe_key": h.key,
            "message_id": h.own,
            "source": source,
            "sender": h.sender[:320] if h.sender else None,
            "subject": message.subject(h.msg)[:300] or None,
            "sent_at": message.sent_at(h.msg),
            "received_at": now,
            "outcome": "unmatched",
        }
        for h in heard
    }
    if not values:
        return {}
    dialect = postgresql if is_postgres(session.get_bind()) else sqlite
    table = InboundMail.__table__
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["org_id", "dedupe_key"])
        .returning(table.c.id, table.c.dedupe_key)
    )
    entered = session.connection().execute(statement, list(values.values())).all()
    blank = dict.fromkeys(FILLED)
    rows = {key: InboundMail(**(blank | values[key]), id=row_id) for row_id, key in entered}
    for row in rows.values():  # as if loaded and let go: a row its webhooks can name
        make_transient_to_detached(row)
    return rows


#: What hearing a message fills in on its log row.
FILLED = (
    "outcome",
    "reason",
    "classification",
    "confidence",
    "text",
    "decision_date",
    "until",
    "contact_id",
    "candidate_id",
    "application_id",
    "touch_id",
    "response_id",
)


def _store(session: Session, rows: list[InboundMail]) -> None:
    """Write what the batch made of its log rows by primary key, in one statement
    (api.sql_lists.update_by_id): the rows were kept out of the session, so the unit of
    work did not write them one by one."""
    values = [{"id": row.id, **{name: getattr(row, name) for name in FILLED}} for row in rows]
    update_by_id(session, InboundMail.__table__, FILLED, values)


def _classify(session, row: InboundMail, msg, match: matching.Match, now) -> Classification:
    tz = match.contact.timezone if match.contact else "UTC"
    return classify(msg, received_at=row.sent_at or now, tz=tz)


def _fill(row: InboundMail, match: matching.Match, found: Classification) -> matching.Match:
    """What the log keeps of the classification and the match."""
    row.classification, row.confidence = found.kind, found.confidence
    row.text = (found.text or "")[:TEXT_MAX]
    row.decision_date, row.until = found.decision_date, found.until
    if match.contact is not None:
        row.contact_id, row.candidate_id = match.contact.id, match.contact.candidate_id
    row.application_id = match.application.id if match.application else None
    row.touch_id = match.touch.id if match.touch else None
    return match
