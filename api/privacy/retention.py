"""Retention: message texts older than the organisation's limit are removed by the worker.

An organisation may keep the text of inbound messages (``inbound_body_retention_days``:
an email's text in the inbound log, a heard reply's text on its response) and of sent
messages (``sent_body_retention_days``: a touch's body and its outbox ``.eml``) for a
number of days; null keeps them. The worker sweeps on its reaper's beat (api.dispatch
.leases), a batch per transaction. Rows stay, with their times, kinds, statuses and
subjects, so every count (budgets, reports) is unchanged; only the texts go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from api.models import InboundMail, Organization, Response, Touch
from api.privacy import files

log = logging.getLogger("touchbase.privacy")
BATCH = 500
#: A retention limit's bounds (API validation): a day to ten years.
MIN_DAYS, MAX_DAYS = 1, 3650


@dataclass
class Swept:
    sent_bodies: int = 0
    inbound_texts: int = 0
    response_texts: int = 0
    files: int = 0
    by_org: dict[int, int] = field(default_factory=dict)


def _sent(session: Session, org_id: int, cutoff: datetime, config: Mapping[str, Any]):
    """One batch of sent bodies past the cutoff nulled; the outbox files to remove."""
    rows = session.execute(
        select(Touch.id, Touch.candidate_id)
        .where(
            Touch.org_id == org_id,
            Touch.sent_at < cutoff,
            Touch.body.is_not(None),
        )
        .order_by(Touch.sent_at)
        .limit(BATCH)
    ).all()
    if not rows:
        return 0, []
    ids = [r[0] for r in rows]
    session.execute(
        update(Touch).where(Touch.id.in_(ids)).values(body=None),
        execution_options={"synchronize_session": False},
    )
    paths = []
    for candidate_id in sorted({r[1] for r in rows}):
        dirs = files.outbox_dirs(session, org_id, candidate_id, config)
        paths += files.touch_files(dirs, [r[0] for r in rows if r[1] == candidate_id])
    return len(ids), paths


def _inbound(session: Session, org_id: int, cutoff: datetime) -> tuple[int, int]:
    mail = session.scalars(
        select(InboundMail.id)
        .where(
            InboundMail.org_id == org_id,
            InboundMail.received_at < cutoff,
            InboundMail.text.is_not(None),
        )
        .limit(BATCH)
    ).all()
    if mail:
        session.execute(
            update(InboundMail).where(InboundMail.id.in_(mail)).values(text=None),
            execution_options={"synchronize_session": False},
        )
    heard = session.scalars(
        select(Response.id)
        .where(Response.org_id == org_id, Response.created_at < cutoff, Response.text.is_not(None))
        .limit(BATCH)
    ).all()
    if heard:
        session.execute(
            update(Response).where(Response.id.in_(heard)).values(text=None),
            execution_options={"synchronize_session": False},
        )
    return len(mail), len(heard)


def sweep(sessions: Callable[[], Session], now: datetime, config: Mapping[str, Any]) -> Swept:
    """Apply every organisation's retention, a batch per transaction until none is left."""
    done = Swept()
    with sessions() as session, session.begin():
        orgs = session.execute(
            select(
                Organization.id,
                Organization.sent_body_retention_days,
                Organization.inbound_body_retention_days,
            ).where(
                or_(
                    Organization.sent_body_retention_days.is_not(None),
                    Organization.inbound_body_retention_days.is_not(None),
                )
            )
        ).all()
    for org_id, sent_days, inbound_days in orgs:
        while True:
            paths: list = []
            with sessions() as session, session.begin():
                sent = mail = heard = 0
                if sent_days is not None:
                    sent, paths = _sent(session, org_id, now - timedelta(days=sent_days), config)
                if inbound_days is not None:
                    mail, heard = _inbound(session, org_id, now - timedelta(days=inbound_days))
            done.files += files.remove(paths)  # after the commit: the body went first
            done.sent_bodies += sent
            done.inbound_texts += mail
            done.response_texts += heard
            done.by_org[org_id] = done.by_org.get(org_id, 0) + sent + mail + heard
            if max(sent, mail, heard) < BATCH:
                break
    total = done.sent_bodies + done.inbound_texts + done.response_texts
    if total:
        log.info(
            "retention: %d sent bodies, %d inbound texts, %d reply texts, %d files removed",
            done.sent_bodies,
            done.inbound_texts,
            done.response_texts,
            done.files,
            extra={"touchbase": {"event": "retention_swept", "removed": total}},
        )
    return done
