"""The facts of many applications from a few queries, for re-planning them one by one.

Re-planning after a batch of responses touches hundreds of applications; loading each
one's facts on its own costs seven or more queries an application. :class:`FactSource`
reads the rows of all of them at once (their touches and interviews, the people in them,
those people's other touches, the responses, the candidates' counting touches, the
policy rows) and builds each application's :class:`Facts` when asked, from the loaded
objects as they are *then*. The session's identity map shares one object per row, so a
touch that the re-plan of one application moved or cancelled is seen moved or cancelled
by the next one built, exactly as if its facts had been read from the database after the
first was applied. What it cannot see is a row inserted after it was built: the caller
builds a new source after storing touches (api.scheduling.responses does).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer, lazyload, selectinload

from api import ledger, policy
from api.models import Application, Contact, Interview, PolicySetting, Response, Touch
from api.scheduling.placement import MOVABLE, Facts, Pending
from api.sql_lists import among
from api.timebounds import clamp_instant

#: Touch columns re-planning never reads (the texts, the JSON lists), which a light
#: source leaves unloaded (:class:`FactSource`); read anyway, one is loaded on its own.
UNREAD = (Touch.body, Touch.flags, Touch.warnings, Touch.plan_reason)
#: Tests set it to make such a read an error instead.
RAISE_UNREAD = False


def _columns(light: bool) -> tuple:
    """The loader options of the source's touch queries."""
    if not light:
        return ()
    option = defer(UNREAD[0], raiseload=RAISE_UNREAD)
    for column in UNREAD[1:]:
        option = option.defer(column, raiseload=RAISE_UNREAD)
    return (option,)


#: The candidate's sends the daily cap looks at start at most this long before now.
SENDS_SINCE = timedelta(days=2)


def pending_of(touch: Touch, now: datetime) -> Pending:
    at = touch.scheduled_for
    due = at if at is not None and at <= now else None
    retrying = at if at is not None and at > now and (touch.attempts or 0) > 0 else None
    return Pending(
        id=touch.id,
        contact_id=touch.contact_id,
        application_id=touch.application_id,
        round=touch.round,
        step=touch.step,
        channel=touch.channel,
        status=touch.status,
        requested_at=touch.requested_for,
        due_since=due,
        not_before=retrying,
        approve_by=touch.approve_by,
    )


def is_movable(touch: Touch) -> bool:
    return touch.status in MOVABLE and touch.automated and touch.channel != "manual"


def _insort(touches: list[Touch], touch: Touch) -> None:
    """Put ``touch`` in ``touches`` (kept in id order) unless it is there."""
    at = bisect.bisect_left(touches, touch.id, key=lambda t: t.id)
    if at == len(touches) or touches[at] is not touch:
        touches.insert(at, touch)


def _cap_time(touch: Touch, cutoff: datetime) -> datetime | None:
    """When the touch counts for the candidate's daily cap (None: it does not, or it went
    before ``cutoff``), from its state now."""
    at = touch.sent_at or touch.scheduled_for
    counts = touch.automated and touch.channel != "manual"
    if not counts or touch.status not in policy.COUNTING_STATUSES or at is None:
        return None
    return at if at >= cutoff else None


class FactSource:
    """The loaded rows of ``applications``; :meth:`facts` builds one's facts from them.

    ``extra_contacts``: people of touches not yet stored that a caller will pass as
    ``extra`` (a plan's), so their contact rows are loaded too. ``light``: the touches
    are loaded without the columns re-planning never reads (:data:`UNREAD`), for a
    caller that shows none of them (an inbound batch loads hundreds).

    A source may serve a whole batch (api.inbound.pipeline hears one with one source):
    :meth:`cover` loads the rows of applications not yet loaded, and the caller hands it
    the responses and touches it inserts (:meth:`add_responses`, :meth:`add_touches`), so
    its facts are those a fresh read would give, for the queries of the new ones only."""

    def __init__(
        self,
        session: Session,
        applications: Sequence[Application],
        now: datetime,
        extra_contacts: Iterable[int] = (),
        *,
        light: bool = False,
    ) -> None:
        self.now = now
        self._session = session
        self._options = _columns(light)
        self._apps: set[int] = set()
        self._interviews: dict[int, list[Interview]] = defaultdict(list)
        self._app_contacts: dict[int, set[int]] = defaultdict(set)
        self._extra: set[int] = set()
        #: Contacts whose every touch is loaded (by their id), and the loaded touches.
        self._whole: set[int] = set()
        self._touch_ids: set[int] = set()
        self._by_app: dict[int, list[Touch]] = defaultdict(list)
        self._by_contact: dict[int, list[Touch]] = defaultdict(list)
        self._contacts: dict[int, Contact] = {}
        #: Contacts and applications whose responses are loaded, and those responses.
        self._said_by: set[int] = set()
        self._said_on: set[int] = set()
        self._response_ids: set[int] = set()
        self._said: dict[tuple[str, int], list[Response]] = defaultdict(list)
        self._policy_rows: dict[int, list[PolicySetting]] = defaultdict(list)
        self._orgs: set[int] = set()
        self._settings: dict[int, policy.PolicySettings] = {}
        self._candidates: set[int] = set()
        self._cap_touches: dict[int, list[Touch]] = defaultdict(list)
        self.cover(session, applications, extra_contacts)

    def cover(
        self,
        session: Session,
        applications: Sequence[Application],
        extra_contacts: Iterable[int] = (),
    ) -> None:
        """Load the rows of those of ``applications`` (and ``extra_contacts``) not loaded."""
        app_ids = sorted({a.id for a in applications} - self._apps)
        extra = set(extra_contacts) - self._extra
        if not app_ids and not extra:
            return
        self._apps.update(app_ids)
        self._extra |= extra
        if app_ids:
            interviews = session.scalars(
                select(Interview)
                .where(among(session, Interview.application_id, app_ids))
                .options(selectinload(Interview.interviewers))
            ).all()
            for iv in interviews:
                self._interviews[iv.application_id].append(iv)
                self._app_contacts[iv.application_id].update(i.contact_id for i in iv.interviewers)
        # The applications' touches and their people's in every application, one object
        # each: the panel's (and ``extra``) at once, then those of anyone else written to.
        panel = set().union(*(self._app_contacts[a] for a in app_ids), extra) - self._whole
        found = self._touches(
            session,
            or_(
                among(session, Touch.contact_id, sorted(panel)),
                among(session, Touch.application_id, app_ids),
            ),
        )
        self._whole |= panel
        for t in found:
            if t.application_id in self._apps:
                self._app_contacts[t.application_id].add(t.contact_id)
        wanted = set().union(*(self._app_contacts[a] for a in app_ids), extra)
        if unseen := sorted(wanted - self._whole):
            self._touches(session, among(session, Touch.contact_id, unseen))
            self._whole.update(unseen)
        if missing := sorted(wanted - set(self._contacts)):
            for c in session.scalars(select(Contact).where(among(session, Contact.id, missing))):
                self._contacts[c.id] = c
        said_by = sorted(wanted - self._said_by)
        said_on = sorted(set(app_ids) - self._said_on)
        if said_by or said_on:
            self.add_responses(
                session.scalars(
                    select(Response)
                    .options(lazyload(Response.corrections))
                    .where(
                        # IN, not among(): the server scans the responses, and
                        # only a list of constants is hashed for it (PostgreSQL 14+)
                        or_(Response.contact_id.in_(said_by), Response.application_id.in_(said_on))
                    )
                )
            )
            self._said_by.update(said_by)
            self._said_on.update(said_on)
        orgs = sorted({self._contacts[c].org_id for c in wanted if c in self._contacts})
        if orgs := sorted(set(orgs) - self._orgs):
            query = select(PolicySetting).where(PolicySetting.org_id.in_(orgs))
            for row in session.scalars(query):
                self._policy_rows[row.org_id].append(row)
            self._orgs.update(orgs)
        candidates = sorted({a.candidate_id for a in applications} - self._candidates)
        if candidates:
            self._load_cap_touches(session, candidates)
            self._candidates.update(candidates)

    def _touches(self, session: Session, where) -> list[Touch]:
        """The touches ``where`` finds, those not loaded yet added to the maps."""
        found = session.scalars(select(Touch).where(where).options(*self._options)).all()
        self.add_touches(found, cap=False)
        return list(found)

    def add_touches(self, touches: Iterable[Touch], cap: bool = True) -> None:
        """Touches the source's maps should hold: rows loaded, or new ones just stored
        (``cap``: also for the candidates' daily cap, when they are automated)."""
        for t in sorted(touches, key=lambda t: t.id):
            if t.id in self._touch_ids:
                continue
            self._touch_ids.add(t.id)
            _insort(self._by_app[t.application_id], t)
            _insort(self._by_contact[t.contact_id], t)
            if t.application_id in self._apps:
                self._app_contacts[t.application_id].add(t.contact_id)
            if cap and t.candidate_id in self._candidates and t.automated:
                _insort(self._cap_touches[t.candidate_id], t)

    def add_responses(self, responses: Iterable[Response]) -> None:
        """Responses the source should hold: rows loaded, or new ones just stored."""
        for r in responses:
            if r.id not in self._response_ids:
                self._response_ids.add(r.id)
                self._said[("contact", r.contact_id)].append(r)
                self._said[("application", r.application_id)].append(r)

    def holds(self, contact: Contact, application: Application) -> bool:
        """Whether every touch, response and policy row of the contact and the application
        is loaded (what :func:`api.ledger.situation` reads, :meth:`history` answers)."""
        return (
            application.id in self._apps
            and application.id in self._said_on
            and contact.id in self._whole
            and contact.id in self._said_by
            and contact.org_id in self._orgs
        )

    def history(self, contact_id: int, application_id: int) -> list[Touch]:
        """The touches of the contact and those of the application, in id order."""
        found = {t.id: t for t in self._by_app[application_id]}
        found.update((t.id, t) for t in self._by_contact[contact_id])
        return [found[n] for n in sorted(found)]

    def heard(self, application: Application, contact_id: int) -> list[Response]:
        """The responses of the application or from the contact, in the order they came."""
        return self._responses_of(application, {contact_id})

    def interviews_of(self, application_id: int) -> list[Interview]:
        """The application's interviews, their interviewers loaded."""
        return self._interviews[application_id]

    def setting(self, contact: Contact) -> policy.PolicySettings:
        """The contact's merged policy (its org's rows are loaded: :meth:`holds`)."""
        return self._setting(contact)

    def _responses_of(self, application: Application, contact_ids: set[int]) -> list[Response]:
        """The responses of the application or from its people, in the order they came."""
        found = {r.id: r for r in self._said[("application", application.id)]}
        for c in contact_ids:
            found.update((r.id, r) for r in self._said[("contact", c)])
        return sorted(found.values(), key=lambda r: (r.occurred_at, r.id))

    def sends_on_day(self, params: dict) -> int | None:
        """What :data:`api.ledger.SENDS_ON_LOCAL_DAY` counts for ``params``
        (:func:`api.ledger.daily_cap_params`), from the loaded touches as they stand now;
        None when that candidate's are not loaded, or the day starts before them."""
        candidate, start, end = params["cap_candidate"], params["cap_start"], params["cap_end"]
        if candidate not in self._candidates or start < clamp_instant(self.now) - SENDS_SINCE:
            return None
        count = 0
        for t in self._cap_touches[candidate]:
            at = t.sent_at or t.scheduled_for
            if (
                t.automated
                and t.status in policy.COUNTING_STATUSES
                and at is not None
                and start <= at < end
                and t.id != params["cap_exclude"]
            ):
                count += 1
        return count

    def thank_you_of(self, contact_id: int, round_: int) -> tuple[bool, int | None]:
        """(known, id) of the thank-you a (contact, round) threads onto
        (api.compose.previous_subject's): known is False when the contact's touches are
        not all loaded."""
        known, found = self.thank_you(contact_id, round_)
        return known, found.id if found is not None else None

    def thank_you(self, contact_id: int, round_: int) -> tuple[bool, Touch | None]:
        """:meth:`thank_you_of`, the touch itself (its subject is what a note threads)."""
        if contact_id not in self._whole:
            return False, None
        for t in self._by_contact[contact_id]:
            if t.round == round_ and t.step == "thank_you" and t.status in policy.COUNTING_STATUSES:
                return True, t
        return True, None

    def _load_cap_touches(self, session: Session, candidates: list[int]) -> None:
        """The candidates' automated touches that may count for the daily cap now or once
        re-planned (a pending one may be moved into the window)."""
        at = func.coalesce(Touch.sent_at, Touch.scheduled_for)
        rows = session.scalars(
            select(Touch)
            .options(*self._options)
            .where(
                among(session, Touch.candidate_id, candidates),
                Touch.automated.is_(True),
                Touch.channel != "manual",
                Touch.status.in_(sorted(policy.COUNTING_STATUSES)),
                or_(
                    at >= clamp_instant(self.now) - SENDS_SINCE,
                    Touch.status.in_(MOVABLE),
                ),
            )
        ).all()
        for t in sorted(rows, key=lambda t: t.id):
            _insort(self._cap_touches[t.candidate_id], t)

    def _setting(self, contact: Contact) -> policy.PolicySettings:
        if contact.id not in self._settings:
            layers = ledger.layers_of(
                self._policy_rows[contact.org_id], contact.candidate_id, contact.id
            )
            self._settings[contact.id] = policy.merge(*layers)[0]
        return self._settings[contact.id]

    def facts(
        self, application: Application, extra: Iterable[Pending] = ()
    ) -> tuple[Facts, dict[int, Touch]]:
        """The facts of one loaded application as they stand now, and its stored pending
        touches by id (what :func:`api.scheduling.store.apply` writes)."""
        extra = list(extra)
        touches = self._by_app[application.id]
        interviews = self._interviews[application.id]
        contact_ids = self._app_contacts[application.id] | {p.contact_id for p in extra}
        missing = {p.contact_id for p in extra} - self._extra - self._app_contacts[application.id]
        if missing:
            raise ValueError(f"contacts {sorted(missing)} were not loaded: pass extra_contacts")
        if application.id not in self._apps:
            raise ValueError(f"application {application.id} was not loaded: cover it")
        if unloaded := sorted(contact_ids - self._whole):  # someone new, by a new touch
            self.cover(self._session, [], unloaded)
        contacts = [self._contacts[c] for c in sorted(contact_ids) if c in self._contacts]
        movable = {t.id: t for t in touches if is_movable(t)}
        others = sorted(
            (
                t
                for c in contact_ids
                for t in self._by_contact[c]
                if t.application_id != application.id
            ),
            key=lambda t: t.id,
        )
        ends: dict[tuple[int, int], datetime] = {}
        for iv in interviews:
            for person in iv.interviewers:
                key = (person.contact_id, iv.round)
                ends[key] = max(ends.get(key, iv.ends_at), iv.ends_at)
        cutoff = clamp_instant(self.now) - SENDS_SINCE
        sends = [
            at
            for t in self._cap_touches[application.candidate_id]
            if t.id not in movable and (at := _cap_time(t, cutoff)) is not None
        ]
        facts = Facts(
            now=self.now,
            application_id=application.id,
            decision_date=application.decision_expected_on,
            contacts={c.id: ledger.contact_info(c) for c in contacts},
            settings={c.id: self._setting(c) for c in contacts},
            interview_ends=ends,
            fixed=[ledger.touch_record(t) for t in [*touches, *others] if t.id not in movable],
            pending=[pending_of(t, self.now) for t in movable.values()] + extra,
            responses=[
                ledger.response_record(r) for r in self._responses_of(application, contact_ids)
            ],
            candidate_sends=sends,
            application_status=application.status,
        )
        return facts, movable
