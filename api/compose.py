"""Composing a touch's message from the database: template lookup, context, render, check.

Shared by template previews, touch scheduling and the worker's send-time re-check, so a
message is judged the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import policy, preflight, templating
from api.models import Application, Contact, Interview, Interviewer, Template, Touch, User


@dataclass
class Composition:
    subject: str | None
    body: str
    findings: list[preflight.Finding] = field(default_factory=list)
    template_source: str | None = None

    @property
    def blocking(self) -> list[preflight.Finding]:
        return preflight.blocking(self.findings)

    @property
    def warnings(self) -> list[preflight.Finding]:
        return [f for f in self.findings if f.severity != preflight.BLOCK]


def template_channel(channel: str) -> str:
    """The built-in kind of message a channel sends (email: with a subject; sms: without),
    which decides the subject rule and the message check's limits. A plugin channel's is
    that of its address kind."""
    if channel in templating.CHANNELS:
        return channel
    try:
        from channels.registry import get_channel

        kind = get_channel(channel).address_kind
    except Exception:  # unknown channel: the caller validates channel names separately
        kind = "email"
    return "email" if kind == "email" else "sms"


class FoundTemplate(NamedTuple):
    """The template in force for a step on a channel, and where it comes from."""

    subject: str | None
    body: str
    source: str  # "candidate", "org" or "default" (the plugin's own, else the built-in)
    template_id: int | None = None


def find_template(
    session: Session, org_id: int, candidate_id: int, step: str, channel: str
) -> FoundTemplate:
    """The most specific template: the candidate's for the channel, else the org's, else the
    channel's own default (a plugin's ``default_templates``), else, for a plugin channel,
    the candidate's, the org's or the built-in template of its kind (email or sms)."""
    kind = template_channel(channel)
    rows = session.scalars(
        select(Template).where(
            Template.org_id == org_id,
            Template.step == step,
            Template.channel.in_({channel, kind}),
            (Template.candidate_id == candidate_id) | Template.candidate_id.is_(None),
        )
    ).all()
    return template_among(rows, candidate_id, step, channel)


def template_among(
    rows: Sequence[Template], candidate_id: int, step: str, channel: str
) -> FoundTemplate:
    """:func:`find_template` from templates already read (any of the org's: those of
    other candidates, steps or channels are passed over)."""
    kind = template_channel(channel)
    rows = [
        t
        for t in rows
        if t.step == step
        and t.channel in (channel, kind)
        and (t.candidate_id is None or t.candidate_id == candidate_id)
    ]
    ranked = sorted(rows, key=lambda t: (t.channel != channel, t.candidate_id is None))
    own = [row for row in ranked if row.channel == channel]
    if own:
        return _found(own[0])
    shipped = plugin_default_template(channel, step)
    if shipped is not None:
        return FoundTemplate(*shipped, "default")
    if ranked:
        return _found(ranked[0])
    subject, body = templating.default_template(step, _default_channel(step, kind))
    return FoundTemplate(subject, body, "default")


def _found(row: Template) -> FoundTemplate:
    return FoundTemplate(row.subject, row.body, "candidate" if row.candidate_id else "org", row.id)


def plugin_default_template(channel: str, step: str) -> tuple[str, str] | None:
    """The ``(subject, body)`` a plugin channel ships for ``step``, if it ships a valid one."""
    if channel in templating.CHANNELS:
        return None
    try:
        from channels.registry import get_channel

        pair = get_channel(channel).default_templates.get(step)
    except Exception:  # an uninstalled channel or a malformed attribute: the kind's applies
        return None
    if pair is None:
        return None
    return pair if _valid_shipped(template_channel(channel), *pair) else None


@lru_cache(maxsize=256)
def _valid_shipped(kind: str, subject: str, body: str) -> bool:
    """A shipped template is used only when it passes the checks a saved one does."""
    return not templating.validate_template(subject, body, channel=kind)


def _default_channel(step: str, channel: str) -> str:
    available = templating.DEFAULT_CHANNELS.get(step, ())
    if channel in available or not available:
        return channel
    return available[0]


@dataclass
class Parties:
    candidate: User
    contact: Contact
    application: Application
    interview: Interview | None
    notes: Interviewer | None

    @classmethod
    def load(
        cls,
        session: Session,
        contact: Contact,
        application: Application,
        interview_id: int | None = None,
    ) -> Parties:
        candidate = session.get(User, contact.candidate_id)
        interview = session.get(Interview, interview_id) if interview_id else None
        if interview is None:
            interview = session.scalars(
                select(Interview)
                .join(Interviewer, Interviewer.interview_id == Interview.id)
                .where(
                    Interview.application_id == application.id,
                    Interviewer.contact_id == contact.id,
                )
                .order_by(Interview.starts_at.desc())
            ).first()
        notes = None
        if interview is not None:
            notes = session.get(Interviewer, (interview.id, contact.id))
        return cls(candidate, contact, application, interview, notes)


def template_context(
    parties: Parties, step: str, channel: str, previous_subject: str | None = None
) -> dict[str, Any]:
    c, k, a, i = parties.candidate, parties.contact, parties.application, parties.interview
    return templating.build_context(
        candidate={"name": c.name, "email": c.email, "phone": c.phone or ""},
        contact={"name": k.name, "title": k.title or "", "company": k.company or a.company},
        application={"company": a.company, "position": a.position},
        interview=({"starts_at": i.starts_at, "round": i.round, "format": i.format} if i else None),
        notes=notes_of(parties) or None,
        touch={"step": step, "channel": channel},
        previous={"subject": previous_subject or ""},
        tz=c.timezone,
    )


def notes_of(parties: Parties) -> dict[str, Any]:
    """The candidate's notes on this interviewer, as templates and checks read them."""
    n = parties.notes
    if n is None:
        return {}
    return {"specific_point": n.specific_point, "topics": n.topics, "skills": n.skills}


def build_check_context(
    parties: Parties,
    step: str,
    channel: str,
    limits: Mapping[str, int],
    other_contacts: Sequence[str],
    companies: Sequence[str],
) -> preflight.CheckContext:
    """The message check's view of a touch, from facts already loaded (the worker loads
    them for a whole batch); `companies` may include the touch's own, which is dropped."""
    k, application = parties.contact, parties.application
    own = {(k.company or "").lower(), application.company.lower()}
    return preflight.CheckContext(
        step=step,
        channel=template_channel(channel),
        contact={"name": k.name, "company": k.company or application.company},
        other_contacts=tuple(other_contacts),
        other_companies=tuple(c for c in companies if c.lower() not in own),
        notes=notes_of(parties),
        limits=dict(limits),
        candidate_name=parties.candidate.name,
        position=application.position,
    )


def check_context(
    session: Session,
    parties: Parties,
    step: str,
    channel: str,
    limits: Mapping[str, int],
    reads: Reads | None = None,
) -> preflight.CheckContext:
    """What the message check needs, including everyone else the candidate knows (R1)."""
    others, companies = (reads or Reads(session)).acquaintances(parties.contact)
    return build_check_context(parties, step, channel, limits, others, companies)


def acquaintances(session: Session, contact: Contact) -> tuple[list[str], list[str]]:
    """The names of the candidate's other contacts and the companies they applied to."""
    others = session.scalars(
        select(Contact.name)
        .where(Contact.candidate_id == contact.candidate_id, Contact.id != contact.id)
        .order_by(Contact.id)
    ).all()
    companies = session.scalars(
        select(Application.company)
        .where(Application.candidate_id == contact.candidate_id)
        .distinct()
        .order_by(Application.company)
    ).all()
    return list(others), list(companies)


def plugin_checks() -> list:
    from channels.registry import checks

    return list(checks())


def check_message(
    session: Session,
    parties: Parties,
    step: str,
    channel: str,
    subject: str | None,
    body: str,
    limits: Mapping[str, int],
    reads: Reads | None = None,
) -> list[preflight.Finding]:
    ctx = check_context(session, parties, step, channel, limits, reads)
    return preflight.run_checks(subject or "", body, ctx, extra_checks=plugin_checks())


def previous_subject(
    session: Session, contact_id: int, round_: int
) -> tuple[str | None, int | None]:
    """Subject and id of the thank-you a follow-up threads onto (R16)."""
    row = session.execute(
        select(Touch.subject, Touch.id)
        .where(
            Touch.contact_id == contact_id,
            Touch.round == round_,
            Touch.step == "thank_you",
            Touch.status.in_(sorted(policy.COUNTING_STATUSES)),  # a draft thank-you too
        )
        .order_by(Touch.id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def compose(
    session: Session,
    parties: Parties,
    step: str,
    channel: str,
    limits: Mapping[str, int],
    *,
    subject: str | None = None,
    body: str | None = None,
    round_: int = 1,
    reads: Reads | None = None,
) -> Composition:
    """Render the template unless the caller wrote the message, then run the message check.
    ``reads``: where the facts come from (default: read now)."""
    reads = reads or Reads(session)
    source = "touch"
    if body is None:
        prev, _ = reads.previous_subject(parties.contact.id, round_)
        t_subject, t_body, source, _id = reads.template(
            parties.candidate.org_id, parties.candidate.id, step, channel
        )
        rendered = templating.render(
            t_subject, t_body, template_context(parties, step, channel, prev)
        )
        subject = subject if subject is not None else rendered.subject
        body = rendered.body
    if template_channel(channel) != "email":
        subject = subject or None
    findings = check_message(session, parties, step, channel, subject, body, limits, reads)
    return Composition(subject=subject, body=body, findings=findings, template_source=source)


class Reads:
    """What composing a message reads: each read on its own, now. A caller composing many
    messages at once gives a subclass that answers from rows it read for all of them
    (api.scheduling.wave_reads); what it does not hold, it reads here."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def parties(
        self, contact: Contact, application: Application, interview_id: int | None = None
    ) -> Parties:
        return Parties.load(self.session, contact, application, interview_id)

    def previous_subject(self, contact_id: int, round_: int) -> tuple[str | None, int | None]:
        return previous_subject(self.session, contact_id, round_)

    def template(self, org_id: int, candidate_id: int, step: str, channel: str) -> FoundTemplate:
        return find_template(self.session, org_id, candidate_id, step, channel)

    def acquaintances(self, contact: Contact) -> tuple[list[str], list[str]]:
        return acquaintances(self.session, contact)
