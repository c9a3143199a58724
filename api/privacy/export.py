"""Everything Touchbase holds of one candidate, as one ZIP (GET /v1/users/{id}/export).

The layout (``LAYOUT``, also in the README)::

    touchbase-export-<user id>/
      README.txt          what each part is
      data.json           every record, as stored (ISO dates, ids as in the API)
      messages/<file>.eml the exact emails sent, as the outbox kept them

Secrets are never in it: token and feed hashes, channel secrets (passwords, auth tokens:
the fields a channel marks secret), mailbox cursors, worker leases. A channel that is not
installed any more has its values left out (which are secret is not known).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.models import (
    ApiToken,
    Application,
    Assignment,
    AuditEvent,
    CalendarFeed,
    ChannelSetting,
    Contact,
    InboundMail,
    Interview,
    Interviewer,
    Mailbox,
    Organization,
    PolicySetting,
    Response,
    ResponseCorrection,
    Template,
    Touch,
    TouchEvent,
    User,
    utcnow,
)
from api.privacy import files

FORMAT = "touchbase-export/1"
#: Columns never exported, whatever the table: secrets and the workers' bookkeeping.
WITHHELD = frozenset(
    {"token_hash", "secret_hash", "lease_owner", "lease_expires_at", "cursor", "lease_token"}
)
LAYOUT = """\
touchbase-export-{id}/
  README.txt           this file
  data.json            every record Touchbase holds of the candidate, as stored
  messages/<file>.eml  the exact emails sent, as the outbox kept them (SMTP sends keep
                       their subject and body in data.json's touches)

data.json: user (the profile), organization, assignments (advisors, by id and name),
contacts, applications, interviews (each with its interviewers and the notes on them),
touches (each with its events), responses (each with its corrections), inbound_mail
(emails heard, with their text where kept), policy (the candidate's and their contacts'
layers), channel_settings (the candidate's own; secrets never included), templates,
calendar_feed and tokens (never their secrets), mailboxes, audit_events (actions on
this candidate, by user id).
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row(obj: Any, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A row as stored, every column but the withheld ones."""
    left_out = WITHHELD | set(skip)
    return {
        c.key: _plain(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in left_out
    }


def _channel_values(setting: ChannelSetting) -> dict[str, Any]:
    from api.resources.channels import secret_keys
    from channels import registry

    out = row(setting, skip=("values",))
    try:
        channel = registry.get_channel(setting.channel)
    except registry.UnknownChannelError:
        out["values"] = None
        out["note"] = "This channel is not installed: its values are left out."
        return out
    secret = secret_keys(channel)
    values = dict(setting.values or {})
    out["values"] = {k: v for k, v in values.items() if k not in secret}
    out["secrets_set"] = sorted(k for k in values if k in secret and values[k])
    return out


def collect(session: Session, user: User) -> dict[str, Any]:
    """Every record of the candidate, as data.json holds it."""
    uid = user.id

    def of(model, *order):
        query = select(model).where(model.candidate_id == uid)
        return session.scalars(query.order_by(*(order or (model.id,)))).all()

    touches = of(Touch)
    events: dict[int, list[dict]] = {}
    touch_ids = [t.id for t in touches]
    if touch_ids:
        for ev in session.scalars(
            select(TouchEvent).where(TouchEvent.touch_id.in_(touch_ids)).order_by(TouchEvent.id)
        ):
            events.setdefault(ev.touch_id, []).append(row(ev))
    interviews = of(Interview)
    panels: dict[int, list[dict]] = {}
    if interviews:
        for iv in session.scalars(
            select(Interviewer)
            .where(Interviewer.interview_id.in_([i.id for i in interviews]))
            .order_by(Interviewer.interview_id, Interviewer.position)
        ):
            panels.setdefault(iv.interview_id, []).append(row(iv))
    responses = of(Response)
    corrections: dict[int, list[dict]] = {}
    if responses:
        for c in session.scalars(
            select(ResponseCorrection)
            .where(ResponseCorrection.response_id.in_([r.id for r in responses]))
            .order_by(ResponseCorrection.id)
        ):
            corrections.setdefault(c.response_id, []).append(row(c))
    contacts = of(Contact)
    contact_ids = [c.id for c in contacts]
    policy_rows = session.scalars(
        select(PolicySetting)
        .where(
            PolicySetting.org_id == user.org_id,
            or_(
                PolicySetting.candidate_id == uid,
                PolicySetting.contact_id.in_(contact_ids or [-1]),
            ),
        )
        .order_by(PolicySetting.id)
    ).all()
    advisors = session.execute(
        select(Assignment, User.name)
        .join(User, User.id == Assignment.advisor_id)
        .where(Assignment.candidate_id == uid)
        .order_by(Assignment.id)
    ).all()
    feed = session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == uid)).first()
    org = session.get(Organization, user.org_id)
    return {
        "format": FORMAT,
        "exported_at": _plain(utcnow()),
        "user": row(user),
        "organization": {"id": org.id, "name": org.name},
        "assignments": [{**row(a), "advisor_name": name} for a, name in advisors],
        "contacts": [row(c) for c in contacts],
        "applications": [row(a) for a in of(Application)],
        "interviews": [{**row(i), "interviewers": panels.get(i.id, [])} for i in interviews],
        "touches": [{**row(t), "events": events.get(t.id, [])} for t in touches],
        "responses": [{**row(r), "corrections": corrections.get(r.id, [])} for r in responses],
        "inbound_mail": [row(m) for m in of(InboundMail)],
        "policy": [row(p) for p in policy_rows],
        "channel_settings": [_channel_values(s) for s in of(ChannelSetting)],
        "templates": [row(t) for t in of(Template)],
        "mailboxes": [row(m) for m in of(Mailbox)],
        "calendar_feed": row(feed) if feed is not None else None,
        "tokens": [
            row(t)
            for t in session.scalars(
                select(ApiToken).where(ApiToken.user_id == uid).order_by(ApiToken.id)
            )
        ],
        "audit_events": [
            row(e)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.org_id == user.org_id, AuditEvent.subject_id == uid)
                .order_by(AuditEvent.id)
            )
        ],
    }


def build(session: Session, user: User, config: Mapping[str, Any]) -> bytes:
    """The ZIP: README.txt, data.json and the outbox files of the candidate's touches."""
    data = collect(session, user)
    root = f"touchbase-export-{user.id}"
    dirs = files.outbox_dirs(session, user.org_id, user.id, config)
    messages = files.touch_files(dirs, [t["id"] for t in data["touches"]])
    data["messages"] = [f"messages/{p.name}" for p in messages]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/README.txt", LAYOUT.format(id=user.id))
        archive.writestr(
            f"{root}/data.json", json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
        )
        for path in messages:
            try:
                archive.writestr(f"{root}/messages/{path.name}", path.read_bytes())
            except FileNotFoundError:  # removed meanwhile (retention, an erasure)
                continue
    return buffer.getvalue()
