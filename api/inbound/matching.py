"""Which touch, contact and application an inbound email answers.

In order of trust:

1. ``In-Reply-To`` / ``References`` naming a Message-ID Touchbase stored for one of its
   touches: that touch, its contact, application and round.
2. The sender's address equal to a contact's (addresses are stored lower-cased): that
   contact, in the application of their most recent touch.
3. The sender's company domain equal to a contact's (a recruiter or coordinator answering
   for the panel): the application with the most recent touch to a contact of that
   domain. The response is recorded against the panel member the reply names, else
   against the contact of that most recent touch; the reason says which. Public mail
   domains (data/public_mail_domains.txt) never match by domain: two strangers at
   gmail.com are no company.

When the candidate whose mailbox received the message is known (their forwarding route,
their own upload, their IMAP box), only their contacts and touches are considered, so one
candidate's mail never lands on another's panel; else the whole org's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.db import is_postgres
from api.inbound import message
from api.models import Application, Contact, Interview, Interviewer, Touch, User
from api.sql_lists import among

PUBLIC_DOMAINS_FILE = Path(__file__).with_name("data") / "public_mail_domains.txt"
WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
POSSESSIVE = re.compile(r"['\u2019]s$", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    contact: Contact | None
    application: Application | None
    touch: Touch | None
    how: str
    #: Matched by the sender's company domain: the contact is a stand-in until
    #: :func:`named_contact` reads the reply for the panel member it is about.
    by_domain: str | None = None


NO_MATCH = Match(None, None, None, "no touch or contact matches")


@functools.cache
def public_domains() -> frozenset[str]:
    lines = PUBLIC_DOMAINS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().lower() for s in lines if s.strip() and not s.startswith("#"))


def domain_of(address: str | None) -> str | None:
    """The domain of an address, lower-cased; None for none or a public mail domain."""
    if not address or "@" not in address:
        return None
    domain = address.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return domain if domain and domain not in public_domains() else None


def _touches(org_id: int, candidate_id: int | None):
    query = select(Touch).where(Touch.org_id == org_id)
    if candidate_id is not None:
        query = query.where(Touch.candidate_id == candidate_id)
    return query


def _latest(query):
    """Most recent first: what went out, by when; then what is planned, newest first."""
    return query.order_by(Touch.sent_at.desc().nulls_last(), Touch.id.desc())


def match(
    session: Session,
    org_id: int,
    msg,
    sender: str | None,
    candidate_id: int | None = None,
) -> Match:
    """The best match for ``msg`` (:data:`NO_MATCH` when none); see the module docstring."""
    answered = message.in_reply_to(msg) + message.references(msg)
    if answered:
        touch = session.scalars(
            _touches(org_id, candidate_id)
            .where(Touch.message_id.in_(answered))
            .order_by(Touch.id.desc())
        ).first()
        if touch is not None:
            contact = session.get(Contact, touch.contact_id)
            application = session.get(Application, touch.application_id)
            return Match(contact, application, touch, "by In-Reply-To/References")
    if not sender:
        return NO_MATCH
    return _by_sender(session, org_id, sender, candidate_id) or _by_domain(
        session, org_id, sender, candidate_id
    )


def _by_sender(session: Session, org_id: int, sender: str, candidate_id: int | None):
    contacts = select(Contact.id).where(Contact.org_id == org_id, Contact.email == sender)
    if candidate_id is not None:
        contacts = contacts.where(Contact.candidate_id == candidate_id)
    ids = list(session.scalars(contacts))
    if not ids:
        return None
    last = session.scalars(
        _latest(_touches(org_id, candidate_id).where(Touch.contact_id.in_(ids)))
    ).first()
    contact = session.get(Contact, last.contact_id if last else max(ids))
    application = session.get(Application, last.application_id) if last else None
    return Match(contact, application, last, "by the sender's address")


def _by_domain(session: Session, org_id: int, sender: str, candidate_id: int | None) -> Match:
    domain = domain_of(sender)
    if domain is None or _is_a_user(session, org_id, sender):
        return NO_MATCH
    last = session.scalars(
        _latest(
            _touches(org_id, candidate_id)
            .join(Contact, Contact.id == Touch.contact_id)
            .where(func.lower(Contact.email).endswith("@" + domain, autoescape=True))
        )
    ).first()
    if last is None:
        return NO_MATCH
    return Match(
        session.get(Contact, last.contact_id),
        session.get(Application, last.application_id),
        last,
        f"by the sender's company domain ({domain})",
        by_domain=domain,
    )


def _is_a_user(session: Session, org_id: int, sender: str) -> bool:
    """The candidate's (or any org user's) own address is no recruiter of the company,
    even when they share its domain (an internal move): their mail is never a reply."""
    found = select(User.id).where(User.org_id == org_id, func.lower(User.email) == sender)
    return session.scalar(found.limit(1)) is not None


def panel(session: Session, application: Application) -> list[Contact]:
    """The people of an application: its interviewers and everyone it wrote to."""
    ids = set(
        session.scalars(select(Touch.contact_id).where(Touch.application_id == application.id))
    )
    ids |= set(
        session.scalars(
            select(Interviewer.contact_id)
            .join(Interview, Interview.id == Interviewer.interview_id)
            .where(Interview.application_id == application.id)
        )
    )
    return list(session.scalars(select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id)))


def named(contacts: list[Contact], text: str) -> Contact | None:
    """The one contact ``text`` names: by full name, else by a capitalised first name
    ("Bob is travelling and asked me to reply"); None when it names none or several."""
    words = [POSSESSIVE.sub("", w) for w in WORD.findall(text or "")]  # "Dan's team"
    folded = [w.casefold() for w in words]
    joined = " " + " ".join(folded) + " "

    def tokens(contact: Contact) -> list[str]:
        return [t.casefold() for t in WORD.findall(contact.name or "")]

    full = [c for c in contacts if len(tokens(c)) > 1 and f" {' '.join(tokens(c))} " in joined]
    if len(full) == 1:
        return full[0]
    if full:
        return None
    capitalised = {w.casefold() for w in words if w[:1].isupper()}
    first = [c for c in contacts if tokens(c) and tokens(c)[0] in capitalised]
    return first[0] if len(first) == 1 else None


def named_contact(session: Session, found: Match, text: str) -> Match:
    """A domain match recorded against the panel member the reply names, else kept on the
    contact of the application's most recent touch; the reason says which."""
    if found.by_domain is None or found.application is None:
        return found
    person = named([c for c in panel(session, found.application)], text)
    if person is None:
        return replace(
            found,
            how=f"{found.how}; it names no one on the panel, so it is recorded against "
            f"{found.contact.name if found.contact else 'no one'}, whose touch is the most recent",
        )
    touch = found.touch
    if person.id != (found.contact.id if found.contact else None):
        touch = session.scalars(
            _latest(
                select(Touch).where(
                    Touch.application_id == found.application.id, Touch.contact_id == person.id
                )
            )
        ).first()
    return replace(
        found,
        contact=person,
        touch=touch,
        how=f"{found.how}; recorded against {person.name}, whom it names",
    )


# ------------------------------------------------------------------------ a batch at once


@dataclass
class Known:
    """What a batch's lookups found, so each message matches from memory: the org's
    touches by their Message-ID, and the contacts of each sender address with the most
    recent touch to them (:func:`lookup`)."""

    by_message_id: dict[str, list[Touch]]
    by_sender: dict[str, Touch]
    #: Senders that are contacts, and the batch's sender domains some contact has.
    contacts: set[str]
    domains: set[str]
    #: The found touches' contacts and applications, held here: the session's identity
    #: map is weak, so rows loaded and let go would be read again, one ``get`` each.
    people: dict[int, Contact] = field(default_factory=dict)
    applications: dict[int, Application] = field(default_factory=dict)

    def parties(self, session: Session, touch: Touch) -> tuple[Contact, Application]:
        """The touch's contact and application, from what the lookup loaded."""
        contact = self.people.get(touch.contact_id) or session.get(Contact, touch.contact_id)
        application = self.applications.get(touch.application_id) or session.get(
            Application, touch.application_id
        )
        return contact, application

    def may_change(self, sender: str | None) -> bool:
        """Whether what :func:`match` answers for ``sender`` may change as the batch is
        acted on (its newest touch is one the batch may add): a contact, or someone at
        a domain a contact has. Else it is what it was before the batch: no one."""
        return bool(sender) and (sender in self.contacts or domain_of(sender) in self.domains)

    def touch(self, message_id: str | None, candidate_id: int | None = None) -> Touch | None:
        """The newest touch with that Message-ID, in the candidate's scope."""
        found = [
            t
            for t in self.by_message_id.get(message_id or "", [])
            if candidate_id is None or t.candidate_id == candidate_id
        ]
        return max(found, key=lambda t: t.id) if found else None


def _recency(touch: Touch) -> tuple:
    """The order of :func:`_latest`: sent ones by when they went, then the newest."""
    sent = touch.sent_at
    return (1, sent.timestamp(), touch.id) if sent is not None else (0, 0.0, touch.id)


def lookup(
    session: Session,
    org_id: int,
    message_ids: set[str],
    senders: set[str],
    candidate_id: int | None = None,
) -> Known:
    """One query for the touches any of ``message_ids`` names (org-wide: a copy of our
    own is ours whoever's it is), one for the contacts of ``senders``, one for those
    contacts' touches, then their contacts and applications in two (so a match's
    ``session.get`` finds them loaded), and one for which of the other senders' domains
    a contact has."""
    by_id: dict[str, list[Touch]] = {}
    if message_ids:
        for t in session.scalars(
            select(Touch).where(
                Touch.org_id == org_id, among(session, Touch.message_id, sorted(message_ids))
            )
        ):
            by_id.setdefault(t.message_id, []).append(t)
    by_sender: dict[str, Touch] = {}
    address: dict[int, str] = {}
    if senders:
        contacts = select(Contact.id, Contact.email).where(
            Contact.org_id == org_id, among(session, Contact.email, sorted(senders))
        )
        if candidate_id is not None:
            contacts = contacts.where(Contact.candidate_id == candidate_id)
        address = {contact_id: email for contact_id, email in session.execute(contacts)}
        if address:
            query = _touches(org_id, candidate_id).where(
                among(session, Touch.contact_id, sorted(address))
            )
            for t in session.scalars(query):
                email = address[t.contact_id]
                if email not in by_sender or _recency(t) > _recency(by_sender[email]):
                    by_sender[email] = t
    touches = [t for ts in by_id.values() for t in ts] + list(by_sender.values())
    people: dict[int, Contact] = {}
    apps: dict[int, Application] = {}
    if touches:
        ids = sorted({t.contact_id for t in touches})
        query = select(Contact).where(among(session, Contact.id, ids))
        people = {c.id: c for c in session.scalars(query)}
        ids = sorted({t.application_id for t in touches})
        found = session.scalars(select(Application).where(among(session, Application.id, ids)))
        apps = {a.id: a for a in found}
    contacts = set(address.values()) if senders else set()
    others = {domain_of(s) for s in senders - contacts} - {None}
    domains = _domains(session, org_id, others, candidate_id)
    return Known(by_id, by_sender, contacts, domains, people, apps)


def _domains(session: Session, org_id: int, domains: set, candidate_id: int | None) -> set[str]:
    """Which of ``domains`` a contact's address is at (in the candidate's scope)."""
    if not domains:
        return set()
    email = func.lower(Contact.email)
    if is_postgres(session.get_bind()):  # one hashed IN, not a LIKE per domain per row
        at = func.split_part(email, "@", -1).in_(sorted(domains))
    else:
        at = or_(*(email.endswith("@" + d, autoescape=True) for d in sorted(domains)))
    query = select(email).where(Contact.org_id == org_id, at)
    if candidate_id is not None:
        query = query.where(Contact.candidate_id == candidate_id)
    return {domain_of(found) for found in session.scalars(query)} & domains


def match_known(
    session: Session, known: Known, msg, sender: str | None, candidate_id: int | None
) -> Match | None:
    """:func:`match` from what :func:`lookup` found, when that is its answer: by the
    headers, or by the sender's address when a touch to that contact went out. None when
    :func:`match` must look for itself at the message's turn (by the company domain, or a
    contact whose touches are all still pending: the batch may add the newest)."""
    answered = message.in_reply_to(msg) + message.references(msg)
    found = [t for mid in answered if (t := known.touch(mid, candidate_id)) is not None]
    if found:
        touch = max(found, key=lambda t: t.id)
        return Match(*known.parties(session, touch), touch, "by In-Reply-To/References")
    last = known.by_sender.get(sender or "")
    if last is None or last.sent_at is None:
        return None
    return Match(*known.parties(session, last), last, "by the sender's address")
