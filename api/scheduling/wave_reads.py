"""What composing a wave's notes reads, from a few queries for the whole wave.

Composed one by one, a note reads its candidate, its interview and the notes on the
interviewer, the thank-you it threads onto, its template, and the names and companies the
message check compares it with (R1): some seven statements a note. A wave's notes
(api.scheduling.proposing) read them for all at once here, or from the batch's
:class:`~api.scheduling.facts.FactSource`, which holds the touches and interviews of the
applications it re-planned; anything neither holds is read as alone (api.compose.Reads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger
from api.compose import FoundTemplate, Parties, Reads, template_among
from api.models import Application, Contact, Template, User
from api.scheduling.facts import FactSource


class WaveReads(Reads):
    """:class:`api.compose.Reads` for the notes of ``asked`` (contact, application) pairs."""

    def __init__(
        self,
        session: Session,
        asked: Sequence[tuple[Contact, Application]],
        source: FactSource | None = None,
    ) -> None:
        super().__init__(session)
        self.source = source
        orgs = sorted({c.org_id for c, _ in asked})
        candidates = sorted({c.candidate_id for c, _ in asked})
        # the candidates, into the identity map (Parties.load and ours find them there)
        session.scalars(select(User).where(User.id.in_(candidates))).all()
        self._templates: dict[int, list[Template]] = defaultdict(list)
        query = select(Template).where(
            Template.org_id.in_(orgs),
            Template.candidate_id.in_(candidates) | Template.candidate_id.is_(None),
        )
        for row in session.scalars(query):
            self._templates[row.org_id].append(row)
        self._names: dict[int, list[tuple[int, str]]] = defaultdict(list)
        rows = session.execute(
            select(Contact.candidate_id, Contact.id, Contact.name)
            .where(Contact.candidate_id.in_(candidates))
            .order_by(Contact.id)
        )
        for candidate_id, contact_id, name in rows:
            self._names[candidate_id].append((contact_id, name))
        self._companies: dict[int, list[str]] = defaultdict(list)
        rows = session.execute(
            select(Application.candidate_id, Application.company)
            .where(Application.candidate_id.in_(candidates))
            .distinct()
            .order_by(Application.candidate_id, Application.company)
        )
        for candidate_id, company in rows:
            self._companies[candidate_id].append(company)
        self._candidates = set(candidates)
        self._orgs = set(orgs)

    def parties(
        self, contact: Contact, application: Application, interview_id: int | None = None
    ) -> Parties:
        source = self.source
        if interview_id is not None or source is None or not source.holds(contact, application):
            return super().parties(contact, application, interview_id)
        theirs = [
            (iv, person)
            for iv in source.interviews_of(application.id)
            for person in iv.interviewers
            if person.contact_id == contact.id
        ]
        interview, notes = max(theirs, key=lambda pair: pair[0].starts_at, default=(None, None))
        candidate = self.session.get(User, contact.candidate_id)
        return Parties(candidate, contact, application, interview, notes)

    def previous_subject(self, contact_id: int, round_: int) -> tuple[str | None, int | None]:
        if self.source is not None:
            known, touch = self.source.thank_you(contact_id, round_)
            if known:
                return (touch.subject, touch.id) if touch is not None else (None, None)
        return super().previous_subject(contact_id, round_)

    def template(self, org_id: int, candidate_id: int, step: str, channel: str) -> FoundTemplate:
        if org_id not in self._orgs or candidate_id not in self._candidates:
            return super().template(org_id, candidate_id, step, channel)
        return template_among(self._templates[org_id], candidate_id, step, channel)

    def acquaintances(self, contact: Contact) -> tuple[list[str], list[str]]:
        if contact.candidate_id not in self._candidates:
            return super().acquaintances(contact)
        others = [name for n, name in self._names[contact.candidate_id] if n != contact.id]
        return others, list(self._companies[contact.candidate_id])


def situation_from(
    source: FactSource, contact: Contact, application: Application, round_: int
) -> ledger.Situation:
    """What :func:`api.ledger.situation` reads (the whole history), from ``source``, which
    holds the contact and the application (:meth:`FactSource.holds`)."""
    ends = [
        iv.ends_at
        for iv in source.interviews_of(application.id)
        if iv.round == round_ and any(p.contact_id == contact.id for p in iv.interviewers)
    ]
    return ledger.Situation(
        settings=source.setting(contact),
        contact=ledger.contact_info(contact),
        history=[ledger.touch_record(t) for t in source.history(contact.id, application.id)],
        responses=[ledger.response_record(r) for r in source.heard(application, contact.id)],
        interview_end=max(ends, default=None),
        decision_date=application.decision_expected_on,
    )
