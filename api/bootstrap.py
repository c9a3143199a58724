"""First organisation and admin: what a new database needs before anyone can log in."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import issue_token
from api.models import Organization, User


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Organization)) == 0


def bootstrap(session: Session, org_name: str, email: str, name: str | None = None) -> str:
    """Create an org, its first admin and a token; returns the token secret (shown once)."""
    org = Organization(name=org_name)
    session.add(org)
    session.flush()
    admin = User(org_id=org.id, email=email.lower(), name=name or email, role="admin")
    session.add(admin)
    session.flush()
    _token, secret = issue_token(session, admin, "bootstrap")
    return secret
