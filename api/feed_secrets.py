"""Calendar feed secrets: the URL a calendar app polls carries the credential itself.

Calendar apps cannot send a bearer token, so the feed URL holds a secret of its own: one
per user, shown once, stored only as its SHA-256 (as api.auth does for tokens), rotated by
issuing a new one and revoked by deleting it. It reads the calendar and nothing else.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth import Principal, hash_token
from api.db import writing
from api.models import CalendarFeed, User, utcnow

SECRET_PREFIX = "cal_"
#: The longest secret a feed URL may carry (one issued is 47 characters).
SECRET_MAX = 100
#: last_used_at is informative: written at most this often, like a token's.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def feed_of(session: Session, user_id: int) -> CalendarFeed | None:
    return session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user_id)).first()


def issue(session: Session, user_id: int) -> tuple[CalendarFeed, str]:
    """A new secret for the user's feed; any earlier URL stops working at once."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    feed = feed_of(session, user_id)
    if feed is None:
        feed = CalendarFeed(user_id=user_id)
        session.add(feed)
    feed.secret_hash = hash_token(secret)
    feed.prefix = secret[:10]
    feed.created_at = utcnow()
    feed.last_used_at = None
    session.flush()
    return feed, secret


def revoke(session: Session, user_id: int) -> None:
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))


def owner(session: Session, secret: str) -> Principal | None:
    """Whose calendar a secret opens (None: unknown, rotated or revoked), noting the use."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > SECRET_MAX:
        return None
    row = session.execute(
        select(CalendarFeed, User)
        .join(User, User.id == CalendarFeed.user_id)
        .where(CalendarFeed.secret_hash == hash_token(secret))
    ).first()
    if row is None:
        return None
    feed, user = row
    now = utcnow()
    if feed.last_used_at is None or now - feed.last_used_at > LAST_USED_RESOLUTION:
        writing(session)
        feed.last_used_at = now
        session.commit()
    # The feed is read with the user's own visibility; it has no token of its own.
    return Principal(user_id=user.id, org_id=user.org_id, role=user.role, token_id=0)


def feed_url(secret: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/calendar/{secret}.ics"
