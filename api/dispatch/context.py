"""What the send-time re-check needs, loaded for a whole claimed batch at once.

Per touch, the ledger's own path (``ledger.situation`` + ``compose.Parties.load`` +
``compose.check_message`` + ``channel_settings.effective_settings``) costs about fifteen
queries. Here the same facts are loaded for a batch in a fixed number of queries and
assembled into the very same objects: a :class:`api.ledger.Situation` handed to
``ledger.decide(where=...)``, a :class:`api.preflight.CheckContext` as
``compose.check_context`` builds it, the channel settings as ``effective_settings``
loads them. ``tests/dispatch/test_dispatch_context.py`` pins the equivalence, so a
change in the ledger shows up there.

Freshness: the facts a touch's verdict can change with while a batch is worked on -
a reply or other response, a manual or cancelled touch, the contact (do-not-contact,
opt-out, zone), the application and its interviews - are summed up in a *stamp*
(:mod:`api.dispatch.stamp`). Just before a touch is fenced, :func:`fence_facts` reads it
again, with the daily-cap count, in one statement; if it differs, the touch's context is
reloaded on its own. The worker's own changes to the batch's touches are folded in as
it makes them (:meth:`SendContext.saw`), so a panel of ten notes does not reload ten
times. Policy and channel settings, templates and the candidate's other contacts are as
fresh as the batch (seconds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api import ledger, policy, preflight
from api.channel_settings import instance_defaults
from api.compose import Parties, build_check_context, plugin_checks
from api.dispatch.stamp import Stamp, _stamp, current_stamp, fence_facts
from api.models import (
    Application,
    ChannelSetting,
    Contact,
    Interview,
    Interviewer,
    PolicySetting,
    Response,
    Touch,
    User,
)

__all__ = ["SendContext", "Stamp", "current_stamp", "fence_facts", "load_contexts"]


@dataclass
class SendContext:
    """Everything around one claimed touch, as of ``stamp``."""

    touch_id: int
    touch_updated_at: datetime | None
    stamp: Stamp
    contact: Contact
    application: Application
    situation: ledger.Situation
    parties: Parties
    other_contacts: tuple[str, ...]
    companies: tuple[str, ...]  # all the candidate's; the check drops the touch's own
    channel_settings: dict[str, Any] | ValidationError | None = None

    def saw(self, touch: Touch, record: policy.TouchRecord | None = None) -> None:
        """Fold in a change this worker just committed to ``touch`` (a neighbour in the
        same contact or application), so that it does not count as news from elsewhere.
        ``record``: ``ledger.touch_record(touch)``, when the caller has made it already."""
        neighbours, touch_id = self.stamp[0], touch.id
        if touch_id == self.touch_id or touch_id not in neighbours:
            return
        neighbours[touch_id] = touch.updated_at
        record = record or ledger.touch_record(touch)
        self.situation.history = [record if r.id == touch_id else r for r in self.situation.history]

    def check_context(self, step: str, channel: str) -> preflight.CheckContext:
        """``compose.check_context``, from the loaded facts."""
        return build_check_context(
            self.parties,
            step,
            channel,
            ledger.message_limits(self.situation.settings),
            self.other_contacts,
            self.companies,
        )

    def check_message(self, touch: Touch) -> list[preflight.Finding]:
        """``compose.check_message`` on the touch's stored subject and body."""
        ctx = self.check_context(touch.step, touch.channel)
        return preflight.run_checks(
            touch.subject or "", touch.body or "", ctx, extra_checks=plugin_checks()
        )


@dataclass
class _Batch:
    touches: list[Touch]
    contacts: dict[int, Contact] = field(default_factory=dict)
    applications: dict[int, Application] = field(default_factory=dict)
    candidates: dict[int, User] = field(default_factory=dict)


def load_contexts(
    session: Session,
    touches: Sequence[Touch],
    config: Mapping[str, Any],
    channels: Mapping[str, Any] | None = None,
) -> dict[int, SendContext]:
    """Send contexts for ``touches`` (loaded in ``session``), keyed by touch id.

    ``channels``: name -> channel object, to load each touch's channel settings (a
    touch whose channel is missing gets ``channel_settings=None``)."""
    touches = list(touches)
    if not touches:
        return {}
    b = _Batch(touches)
    contact_ids = sorted({t.contact_id for t in touches})
    app_ids = sorted({t.application_id for t in touches})
    b.contacts = _by_id(session.scalars(select(Contact).where(Contact.id.in_(contact_ids))))
    b.applications = _by_id(session.scalars(select(Application).where(Application.id.in_(app_ids))))
    cand_ids = sorted({c.candidate_id for c in b.contacts.values()})
    b.candidates = _by_id(session.scalars(select(User).where(User.id.in_(cand_ids))))
    org_ids = sorted({c.org_id for c in b.contacts.values()})

    settings = _policy_settings(session, b, org_ids, cand_ids, contact_ids)
    touch_rows = session.scalars(
        select(Touch)
        .where(or_(Touch.contact_id.in_(contact_ids), Touch.application_id.in_(app_ids)))
        .order_by(Touch.id)
    ).all()
    response_rows = session.scalars(
        select(Response)
        .where(or_(Response.contact_id.in_(contact_ids), Response.application_id.in_(app_ids)))
        .order_by(Response.occurred_at, Response.id)
    ).all()
    ends = ledger.interview_ends(session, contact_ids, app_ids)
    interviews = _interviews(session, touches, app_ids, contact_ids)
    notes = _notes(session, {i.id for i in interviews.values() if i is not None}, contact_ids)
    others, companies = _candidate_circles(session, cand_ids)
    interview_stamps = _interview_stamps(session, app_ids)
    channel_settings = _channel_settings(session, b, org_ids, cand_ids, config, channels or {})

    # one record per row, shared by the contexts that see it (records are immutable)
    records = {row.id: ledger.touch_record(row) for row in touch_rows}
    touches_of = _grouped(touch_rows)
    responses_of = _grouped(response_rows)
    out: dict[int, SendContext] = {}
    for touch in touches:
        contact = b.contacts[touch.contact_id]
        application = b.applications[touch.application_id]
        candidate = b.candidates[contact.candidate_id]
        mine = _of(touches_of, contact.id, application.id)
        heard = _of(responses_of, contact.id, application.id)
        situation = ledger.Situation(
            settings=settings[(contact.org_id, contact.candidate_id, contact.id)],
            contact=ledger.contact_info(contact),
            history=[records[r.id] for r in mine],
            responses=[ledger.response_record(r) for r in heard],
            interview_end=ends.get((contact.id, application.id, touch.round)),
            decision_date=application.decision_expected_on,
        )
        interview = interviews.get(touch.id)
        parties = Parties(
            candidate,
            contact,
            application,
            interview,
            notes.get((interview.id, contact.id)) if interview is not None else None,
        )
        neighbours = [r for r in mine if r.id != touch.id]  # what the stamp watches
        out[touch.id] = SendContext(
            touch_id=touch.id,
            touch_updated_at=touch.updated_at,
            stamp=_stamp(
                neighbours,
                heard,
                contact.updated_at,
                application.updated_at,
                interview_stamps.get(application.id, (0, None)),
            ),
            contact=contact,
            application=application,
            situation=situation,
            parties=parties,
            other_contacts=tuple(
                name for cid, name in others.get(candidate.id, ()) if cid != contact.id
            ),
            companies=tuple(companies.get(candidate.id, ())),
            channel_settings=channel_settings.get(
                (touch.org_id, touch.candidate_id, touch.channel)
            ),
        )
    return out


def _grouped(rows: Sequence[Any]) -> dict[tuple[str, int], list[tuple[int, Any]]]:
    """(position, row) of rows with a contact_id and an application_id, by ("c", contact)
    and by ("a", application): each context picks its own without scanning them all."""
    out: dict[tuple[str, int], list[tuple[int, Any]]] = defaultdict(list)
    for position, row in enumerate(rows):
        out["c", row.contact_id].append((position, row))
        out["a", row.application_id].append((position, row))
    return out


def _of(grouped: dict[tuple[str, int], list[tuple[int, Any]]], contact_id: int, app_id: int):
    """The rows of the contact or of the application, once each, in their original order."""
    found = dict(grouped.get(("c", contact_id), ()))
    found.update(grouped.get(("a", app_id), ()))
    return [found[position] for position in sorted(found)]


def _by_id(rows: Iterable[Any]) -> dict[int, Any]:
    return {row.id: row for row in rows}


def _policy_settings(
    session: Session, b: _Batch, org_ids, cand_ids, contact_ids
) -> dict[tuple[int, int, int], policy.PolicySettings]:
    """``ledger.effective_policy`` for each (org, candidate, contact) of the batch."""
    rows = session.scalars(
        select(PolicySetting).where(
            PolicySetting.org_id.in_(org_ids),
            or_(PolicySetting.candidate_id.is_(None), PolicySetting.candidate_id.in_(cand_ids)),
            or_(PolicySetting.contact_id.is_(None), PolicySetting.contact_id.in_(contact_ids)),
        )
    ).all()
    by_org: dict[int, list[PolicySetting]] = defaultdict(list)
    for row in rows:
        by_org[row.org_id].append(row)
    out = {}
    for contact in b.contacts.values():
        org, cand, cont, own = {}, {}, {}, {}
        # The same selection as ledger.all_layers.
        for row in by_org.get(contact.org_id, ()):
            if row.candidate_id is None and row.contact_id is None:
                org = row.values or {}
            elif row.contact_id is None and row.candidate_id == contact.candidate_id:
                cand = row.values or {}
            elif row.contact_id == contact.id:
                cont, own = row.values or {}, row.own_values or {}
        key = (contact.org_id, contact.candidate_id, contact.id)
        out[key] = policy.merge(org, cand, cont, own)[0]
    return out


def _interviews(session: Session, touches, app_ids, contact_ids) -> dict[int, Interview | None]:
    """The interview each touch is about, as ``Parties.load`` finds it."""
    named = {t.interview_id for t in touches if t.interview_id}
    by_id = (
        _by_id(session.scalars(select(Interview).where(Interview.id.in_(named)))) if named else {}
    )
    latest: dict[tuple[int, int], Interview] = {}
    if any(by_id.get(t.interview_id) is None for t in touches):
        rows = session.execute(
            select(Interview, Interviewer.contact_id)
            .join(Interviewer, Interviewer.interview_id == Interview.id)
            .where(Interview.application_id.in_(app_ids), Interviewer.contact_id.in_(contact_ids))
            .order_by(Interview.starts_at.desc())
        ).all()
        for interview, contact_id in rows:
            latest.setdefault((interview.application_id, contact_id), interview)
    out = {}
    for t in touches:
        found = by_id.get(t.interview_id) if t.interview_id else None
        out[t.id] = found or latest.get((t.application_id, t.contact_id))
    return out


def _notes(session: Session, interview_ids, contact_ids) -> dict[tuple[int, int], Interviewer]:
    if not interview_ids:
        return {}
    rows = session.scalars(
        select(Interviewer).where(
            Interviewer.interview_id.in_(sorted(interview_ids)),
            Interviewer.contact_id.in_(contact_ids),
        )
    ).all()
    return {(r.interview_id, r.contact_id): r for r in rows}


def _candidate_circles(session: Session, cand_ids):
    """Each candidate's contacts (id, name) and application companies, for R1's checks."""
    others: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cand, cid, name in session.execute(
        select(Contact.candidate_id, Contact.id, Contact.name)
        .where(Contact.candidate_id.in_(cand_ids))
        .order_by(Contact.id)
    ):
        others[cand].append((cid, name))
    companies: dict[int, list[str]] = defaultdict(list)
    for cand, company in session.execute(
        select(Application.candidate_id, Application.company)
        .where(Application.candidate_id.in_(cand_ids))
        .distinct()
    ):
        companies[cand].append(company)
    return others, companies


def _interview_stamps(session: Session, app_ids) -> dict[int, tuple[int, Any]]:
    rows = session.execute(
        select(Interview.application_id, func.count(Interview.id), func.max(Interview.updated_at))
        .where(Interview.application_id.in_(app_ids))
        .group_by(Interview.application_id)
    ).all()
    return {a: (n, at) for a, n, at in rows}


def _channel_settings(
    session: Session, b: _Batch, org_ids, cand_ids, config, channels: Mapping[str, Any]
) -> dict[tuple[int, int, str], dict[str, Any] | ValidationError]:
    """``channel_settings.effective_settings`` for each (org, candidate, channel)."""
    names = sorted({t.channel for t in b.touches if t.channel in channels})
    if not names:
        return {}
    rows = session.scalars(
        select(ChannelSetting).where(
            ChannelSetting.org_id.in_(org_ids),
            ChannelSetting.channel.in_(names),
            or_(ChannelSetting.candidate_id.is_(None), ChannelSetting.candidate_id.in_(cand_ids)),
        )
    ).all()
    org_values: dict[tuple[int, str], dict] = {}
    cand_values: dict[tuple[int, int, str], dict] = {}
    for row in rows:
        if row.candidate_id is None:
            org_values[(row.org_id, row.channel)] = dict(row.values or {})
        else:
            cand_values[(row.org_id, row.candidate_id, row.channel)] = dict(row.values or {})
    out: dict[tuple[int, int, str], dict[str, Any] | ValidationError] = {}
    for touch in b.touches:
        if touch.channel not in channels:
            continue
        key = (touch.org_id, touch.candidate_id, touch.channel)
        if key in out:
            continue
        raw = {
            **instance_defaults(touch.channel, config),
            **org_values.get((touch.org_id, touch.channel), {}),
            **cand_values.get(key, {}),
        }
        try:
            out[key] = channels[touch.channel].load_settings(raw)
        except ValidationError as exc:
            out[key] = exc
    return out
