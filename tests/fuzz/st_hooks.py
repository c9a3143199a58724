"""schemathesis hooks for tests/fuzz/fuzz_api.py (loaded through SCHEMATHESIS_HOOKS).

The fuzzer is free to delete or demote the user it acts as, or revoke its token: those are
operations like any other. The auth provider checks every few seconds (and on a 401) that
its token still belongs to a user of the role under test, and otherwise makes one straight
in the database with the app's own token code, as `touchbase bootstrap` does.
"""

from __future__ import annotations

import json
import os
import threading

import schemathesis
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import hash_token, issue_token
from api.db import make_engine
from api.models import ApiToken, Organization, User

ROLE = os.environ.get("TB_FUZZ_ROLE", "admin")
_engine = None
_lock = threading.Lock()
_token = json.loads(os.environ.get("TB_FUZZ_TOKENS", "{}")).get(ROLE, "")


def _session() -> Session:
    global _engine
    if _engine is None:
        _engine = make_engine(os.environ["TB_FUZZ_DATABASE_URL"])
    return Session(_engine)


def _still_works(session: Session, secret: str) -> bool:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).first()
    return row is not None and row[0].revoked_at is None and row[1].role == ROLE


def _fresh_token(session: Session) -> str:
    org = session.scalars(select(Organization).order_by(Organization.id)).first()
    user = session.scalars(
        select(User).where(User.org_id == org.id, User.role == ROLE).order_by(User.id)
    ).first()
    if user is None:
        user = User(org_id=org.id, email=f"fuzz-{ROLE}@example.org", name=f"Fuzz {ROLE}", role=ROLE)
        session.add(user)
        session.flush()
    _row, secret = issue_token(session, user, "fuzz")
    session.commit()
    return secret


@schemathesis.auth(refresh_interval=5)
class TouchbaseToken:
    def get(self, case, context):
        global _token
        with _lock, _session() as session:
            if not (_token and _still_works(session, _token)):
                _token = _fresh_token(session)
            return _token

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
