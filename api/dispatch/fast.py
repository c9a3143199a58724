"""The one-statement fence (PostgreSQL): when nothing changed, a touch costs one round trip.

The batch's contexts give the send-time verdict (policy re-check and message check, in
this process, no query) as of a *stamp* of what they read: the touch's own
``updated_at``; its neighbour touches (count and sum of their ``updated_at``); the
count and last id of the responses; the contact's, application's and interviews'
``updated_at``; the daily-cap count. One statement, in autocommit (one implicit
transaction, so atomic), then:

- writes down the previous touches' answers ('sent', the event), each only if it is still
  this worker's 'sending' touch, has no pending sibling to re-plan and its organisation no
  webhook endpoint (those go the full way, :meth:`RecordMixin._record_alone`);
- fences the next touches ('sending', attempts + 1, the event), each only if its row and
  every part of its stamp are as the verdict saw them, checked in the statement's
  ``WHERE``: a stamp that moved leaves the touch alone, and the worker re-checks it in
  full (:meth:`PrepareMixin._prepare`), which reloads its context.

So the fence is still committed before any provider hears of a touch, and a touch is
fenced only on a verdict equal to a full re-check's (``tests/dispatch/test_fast_fence.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value

from api import ledger, preflight
from api.dispatch.context import SendContext
from api.dispatch.options import ACTOR, PROVIDER_ID_MAX
from api.dispatch.outgoing import build_message, message_domain
from api.dispatch.prepare import _Answered, _Prepared
from api.dispatch.record import _plain
from api.dispatch.stats import Outcome
from api.ledger.decisions import COUNTING
from api.models import Touch, utcnow
from channels import registry
from channels.base import Sent, make_message_id

log = logging.getLogger("touchbase.dispatch")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(at: datetime | None) -> int:
    """``at`` as microseconds since the epoch, as :data:`_US` computes it (None: 0)."""
    return 0 if at is None else (at - EPOCH) // timedelta(microseconds=1)


def _us(column: str) -> str:
    return f"(extract(epoch from {column}) * 1000000)::bigint"


#: The daily-cap counts of a batch, one row per touch, in one statement.
SENDS_SQL = """
SELECT b.id, (SELECT count(*) FROM touches d
              WHERE d.candidate_id = b.cand AND d.automated AND d.status = ANY(%(counting)s)
                AND coalesce(d.sent_at, d.scheduled_for) >= b.cs
                AND coalesce(d.sent_at, d.scheduled_for) < b.ce AND d.id <> b.id)
FROM unnest(%(id)s::int[], %(cand)s::int[], %(cs)s::timestamptz[], %(ce)s::timestamptz[])
  AS b(id, cand, cs, ce)
"""

FAST_SQL = f"""
WITH prev_in AS (
  SELECT * FROM unnest(%(p_id)s::int[], %(p_at)s::timestamptz[], %(p_pid)s::text[],
                       %(p_pst)s::text[], %(p_data)s::text[]) AS p(id, at, pid, pst, data)
), prev AS (
  UPDATE touches t SET status = 'sent', sent_at = p.at, provider_id = p.pid,
         provider_status = p.pst, reason = NULL, rule = NULL, lease_owner = NULL,
         lease_expires_at = NULL, updated_at = %(now)s
  FROM prev_in p
  WHERE t.id = p.id AND t.lease_owner = %(owner)s AND t.status = 'sending'
    AND NOT EXISTS (SELECT 1 FROM touches s WHERE s.contact_id = t.contact_id
                    AND s.id <> t.id AND s.status IN ('scheduled', 'draft') AND s.automated)
    AND NOT EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.org_id = t.org_id AND w.enabled)
  RETURNING t.id, p.at, p.data
), fence_in AS (
  SELECT * FROM unnest(%(f_id)s::int[], %(f_upd)s::bigint[], %(f_c)s::int[], %(f_a)s::int[],
                       %(f_nn)s::bigint[], %(f_sn)s::numeric[], %(f_nr)s::bigint[],
                       %(f_mr)s::bigint[], %(f_cu)s::bigint[], %(f_au)s::bigint[],
                       %(f_ni)s::bigint[], %(f_mi)s::bigint[], %(f_cand)s::int[],
                       %(f_cs)s::timestamptz[], %(f_ce)s::timestamptz[], %(f_sends)s::bigint[],
                       %(f_mid)s::text[], %(f_data)s::text[])
    AS f(id, upd, c, a, nn, sn, nr, mr, cu, au, ni, mi, cand, cs, ce, sends, mid, data)
), fence AS (
  UPDATE touches t SET status = 'sending', attempts = coalesce(t.attempts, 0) + 1,
         lease_expires_at = %(lease_until)s, updated_at = %(now)s, message_id = f.mid
  FROM fence_in f
  CROSS JOIN LATERAL (SELECT count(*) AS nn, coalesce(sum({_us("n.updated_at")}), 0) AS sn
                      FROM touches n WHERE (n.contact_id = f.c OR n.application_id = f.a)
                        AND n.id <> f.id) near
  CROSS JOIN LATERAL (SELECT count(r.id) AS nr, coalesce(max(r.id), 0) AS mr FROM responses r
                      WHERE r.contact_id = f.c OR r.application_id = f.a) heard
  CROSS JOIN LATERAL (SELECT count(i.id) AS ni, coalesce(max({_us("i.updated_at")}), 0) AS mi
                      FROM interviews i WHERE i.application_id = f.a) met
  CROSS JOIN LATERAL (SELECT count(*) AS sends FROM touches d
                      WHERE d.candidate_id = f.cand AND d.automated
                        AND d.status = ANY(%(counting)s)
                        AND coalesce(d.sent_at, d.scheduled_for) >= f.cs
                        AND coalesce(d.sent_at, d.scheduled_for) < f.ce AND d.id <> f.id) cap
  WHERE t.id = f.id AND t.lease_owner = %(owner)s AND t.status = 'scheduled'
    AND {_us("t.updated_at")} = f.upd AND t.scheduled_for <= %(now)s
    AND near.nn = f.nn AND near.sn = f.sn AND heard.nr = f.nr AND heard.mr = f.mr
    AND met.ni = f.ni AND met.mi = f.mi AND cap.sends = f.sends
    AND (SELECT {_us("updated_at")} FROM contacts WHERE id = f.c) = f.cu
    AND (SELECT {_us("updated_at")} FROM applications WHERE id = f.a) = f.au
    AND NOT EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.org_id = t.org_id AND w.enabled)
  RETURNING t.id, f.data
), ev AS (
  INSERT INTO touch_events (touch_id, kind, at, actor, data)
  SELECT id, 'sent', at, %(actor)s, data::jsonb FROM prev
  UNION ALL SELECT id, 'sending', %(now)s, %(actor)s, data::jsonb FROM fence
)
SELECT 'p', id FROM prev UNION ALL SELECT 'f', id FROM fence
"""


#: The columns of a fence_in row, in :attr:`_Plan.params` order.
FENCE_COLUMNS = (
    *("id", "upd", "c", "a", "nn", "sn", "nr", "mr", "cu", "au", "ni", "mi"),
    *("cand", "cs", "ce", "sends", "mid", "data"),
)


@dataclass
class _Plan:
    """A touch the batch's context says may go now, and the stamp that verdict stands on."""

    touch: Touch
    ctx: SendContext
    prepared: _Prepared
    params: tuple[Any, ...]  # its fence_in row
    event: dict[str, Any]


class FastFenceMixin:
    """The one-statement record-and-fence of a :class:`~api.dispatch.worker.Worker`."""

    _sends: dict[int, tuple[datetime, datetime, int]]
    fast_fenced = 0  #: touches this worker fenced by the statement (for tests and profiles)

    def _fast_on(self) -> bool:
        return (
            self._conn is not None
            and not self._conn.closed
            and not self._conn.invalidated
            and self.engine.dialect.name == "postgresql"
        )

    def _raw(self):
        """The pinned connection's psycopg connection, idle (no transaction open)."""
        raw = self._conn.connection.driver_connection
        return raw if raw.info.transaction_status == 0 else None  # IDLE

    def _load_sends(self, contexts: dict[int, SendContext]) -> None:
        """The daily-cap count of each touch of the batch, as its verdict will use it."""
        self._sends = {}
        if not contexts or not self._fast_on():
            return
        now, rows = self.clock(), []
        for touch_id in contexts:
            touch = self._touches.get(touch_id)
            cap = touch and ledger.recheck_sends_params(touch, contexts[touch_id].contact, now)
            if cap:
                rows.append((touch_id, cap["cap_candidate"], cap["cap_start"], cap["cap_end"]))
        raw = self._raw()
        if not rows or raw is None:
            return
        params = dict(
            zip(("id", "cand", "cs", "ce"), map(list, zip(*rows, strict=True)), strict=True)
        )
        params["counting"] = list(COUNTING)
        raw.autocommit = True
        try:
            found = dict(raw.execute(SENDS_SQL, params, prepare=True).fetchall())
        finally:
            raw.autocommit = False
        self._sends = {tid: (cs, ce, found[tid]) for tid, _, cs, ce in rows if tid in found}

    def _plan(self, touch_id: int, now: datetime) -> _Plan | None:
        """The fence of ``touch_id`` from its batch context, or None (the full way)."""
        ctx, touch = self._batch.get(touch_id), self._touches.get(touch_id)
        if ctx is None or touch is None:
            return None
        state = sa_inspect(touch)
        if state.expired_attributes or state.modified or state.session is not None:
            return None
        if (
            touch.status != "scheduled"
            or touch.lease_owner != self.id
            or touch.thread_of_id is not None
            or touch.scheduled_for is None
            or touch.scheduled_for > now
            or ctx.touch_updated_at != touch.updated_at
        ):
            return None
        cap = ledger.recheck_sends_params(touch, ctx.contact, now)
        known = self._sends.get(touch_id)
        if cap is None or known is None or known[:2] != (cap["cap_start"], cap["cap_end"]):
            return None
        decision = ledger.recheck(
            None, touch, now, contact=ctx.contact, application=ctx.application,
            where=ctx.situation, sends_today=known[2],
        )  # fmt: skip
        if not decision.allowed or preflight.blocking(ctx.check_message(touch)):
            return None  # refused: the full re-check reschedules or skips it
        try:
            channel = registry.get_channel(touch.channel)
        except registry.UnknownChannelError:
            return None
        settings = ctx.channel_settings
        if not isinstance(settings, dict):
            return None
        candidate = ctx.parties.candidate
        message_id = touch.message_id
        if not message_id and channel.address_kind == "email":
            message_id = make_message_id(message_domain(candidate))
        message = build_message(
            None, _WithId(touch, message_id), ctx.contact, candidate, channel.address_kind,
            self.config,
        )  # fmt: skip
        attempt = (touch.attempts or 0) + 1
        data: dict[str, Any] = {"attempt": attempt, "worker": self.id}
        if decision.flags:
            data["flags"] = list(decision.flags)
        event = ledger.event_row(touch.id, "sending", ACTOR, data=data)
        neighbours, facts = ctx.stamp
        n_resp, max_resp, contact_at, app_at, n_int, max_int = facts
        params = (
            touch.id, micros(touch.updated_at), touch.contact_id, touch.application_id,
            len(neighbours), sum(micros(at) for at in neighbours.values()),
            n_resp, max_resp or 0, micros(contact_at), micros(app_at), n_int, micros(max_int),
            cap["cap_candidate"], cap["cap_start"], cap["cap_end"], known[2],
            message_id, json.dumps(event["data"]),
        )  # fmt: skip
        prepared = _Prepared(touch.id, touch.channel, channel, settings, message, attempt)
        return _Plan(touch, ctx, prepared, params, event)

    def _fast_step(
        self, plans: Sequence[_Plan], answers: Sequence[_Answered]
    ) -> tuple[set[int], set[int], list[dict[str, Any]]] | None:
        """Run the statement: (ids recorded, ids fenced, their events), None if it could not
        run (the caller goes the full way for all)."""
        raw = self._raw()
        if raw is None:
            return None
        now, lease_until = utcnow(), self.clock() + self.options.lease_delta
        prev = []
        for answer in answers:
            result = answer.result
            provider_id = result.provider_id or None
            info = result.info if isinstance(result.info, dict) else {}
            status = info.get("status")
            data = {"attempt": answer.prepared.attempt, "worker": self.id, **_plain(info)}
            data["provider_id"] = provider_id
            row = ledger.event_row(answer.prepared.touch_id, "sent", ACTOR, data=data, at=answer.at)
            kept_id = provider_id if provider_id and len(provider_id) <= PROVIDER_ID_MAX else None
            status = str(status)[:32] if status else None
            prev.append((answer.prepared.touch_id, answer.at, kept_id, status, row))
        params: dict[str, Any] = {
            "now": now,
            "lease_until": lease_until,
            "owner": self.id,
            "actor": ACTOR,
            "counting": list(COUNTING),
        }
        for i, name in enumerate(("p_id", "p_at", "p_pid", "p_pst")):
            params[name] = [p[i] for p in prev]
        params["p_data"] = [json.dumps(p[4]["data"]) for p in prev]
        names = [
            "id",
            "upd",
            "c",
            "a",
            "nn",
            "sn",
            "nr",
            "mr",
            "cu",
            "au",
            "ni",
            "mi",
            "cand",
            "cs",
            "ce",
            "sends",
            "mid",
            "data",
        ]
        for i, name in enumerate(names):
            params[f"f_{name}"] = [plan.params[i] for plan in plans]
        raw.autocommit = True
        try:
            rows = raw.execute(FAST_SQL, params, prepare=True).fetchall()
        finally:
            raw.autocommit = False
        recorded = {tid for kind, tid in rows if kind == "p"}
        fenced = {tid for kind, tid in rows if kind == "f"}
        events = [p[4] for p in prev if p[0] in recorded]
        for p in prev:
            if p[0] in recorded:
                self._sent_here(p[0], p[1], p[2], p[3], now)
        for plan in plans:
            if plan.touch.id in fenced:
                self._fenced_here(plan, now, lease_until)
                events.append(plan.event)
        return recorded, fenced, events

    def _sent_here(self, touch_id, at, provider_id, status, now) -> None:
        touch = self._touches.get(touch_id)
        if touch is None:
            return
        for key, value in (
            ("status", "sent"), ("sent_at", at), ("provider_id", provider_id),
            ("provider_status", status), ("reason", None), ("rule", None),
            ("lease_owner", None), ("lease_expires_at", None), ("updated_at", now),
        ):  # fmt: skip
            set_committed_value(touch, key, value)
        self._saw(touch)

    def _fenced_here(self, plan: _Plan, now: datetime, lease_until: datetime) -> None:
        touch = plan.touch
        for key, value in (
            ("status", "sending"), ("attempts", plan.prepared.attempt),
            ("lease_expires_at", lease_until), ("updated_at", now),
            ("message_id", plan.params[16]),
        ):  # fmt: skip
            set_committed_value(touch, key, value)
        self._saw(touch)


def fast_answer(answer: _Answered) -> bool:
    """Whether an answer may be written by the statement (a plain 'sent')."""
    return isinstance(answer.result, Sent)


class _WithId:
    """A touch as :func:`build_message` reads it, with the Message-ID it will be fenced with
    (not set on the touch: it is written by the statement, or by the full way)."""

    def __init__(self, touch: Touch, message_id: str | None) -> None:
        self._touch, self.message_id = touch, message_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._touch, name)


class FastStepMixin:
    """Run the statement for a chunk of the batch and settle what it did."""

    def _fast(self, chunk: Sequence[int], waiting: Sequence[_Answered]):
        """(the fenced, the ids whose answer was written), or None when it did not run."""
        now = self.clock()
        plans = [plan for plan in (self._plan(t, now) for t in chunk) if plan is not None]
        answers = [a for a in waiting if fast_answer(a) and a.prepared.touch_id in self._touches]
        if not plans and not answers:
            return None
        try:
            done = self._fast_step(plans, answers)
        except Exception:  # the database is away, or a bug: the full way for all of them
            log.warning("the one-statement fence failed; going the full way", exc_info=True)
            raw = self._conn.connection.driver_connection
            if raw.closed or raw.broken:  # the batch's transactions go through the pool
                self._conn.invalidate()
            return None
        if done is None:
            return None
        recorded, fenced, events = done
        for answer in answers:
            if answer.prepared.touch_id in recorded:
                prepared = answer.prepared
                provider_id = answer.result.provider_id or None
                outcome = Outcome(prepared.touch_id, "sent", prepared.channel_name,
                                  prepared.attempt, provider_id=provider_id)  # fmt: skip
                self._finish(outcome, ms=answer.ms)
        for plan in plans:
            if plan.touch.id in fenced:
                self._batch.pop(plan.touch.id, None)
        self.fast_fenced += len(fenced)
        _notify(events)
        return [plan.prepared for plan in plans if plan.touch.id in fenced], recorded


def _notify(events: Sequence[dict[str, Any]]) -> None:
    """Plugins' ``touch_event`` observers hear of the committed events (as after a commit)."""
    if not events:
        return
    from channels.registry import notify_event

    for row in events:
        try:
            notify_event(
                {k: row[k] for k in ("touch_id", "kind", "at", "actor", "reason", "rule", "data")}
            )
        except Exception:  # an observer must never break the ledger
            log.exception("touch_event observer failed for touch %s", row["touch_id"])
