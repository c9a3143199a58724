"""The idempotency_keys table's operations, and the pure rules of a key and a fingerprint.

A key is claimed in its own short transaction before the view runs, so that another
process sees it at once: the unique (user, key) makes a concurrent retry wait for the
claim's commit and then find it (409 while in flight). The answer is written later, in
the request's own transaction (:func:`answer`), by the claim's lease token only.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: What :func:`key_problem` accepts, as the OpenAPI document states it.
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
#: Expired keys the worker deletes in one transaction.
PURGE_BATCH = 1000


def key_problem(value: str) -> str | None:
    """Why a header value is no usable key (None: it is one). Printable ASCII, as a UUID
    or any random string a client makes up, at most 255 characters, like Stripe's."""
    if value == "":
        return "Must not be empty; send a new random string (e.g. a UUID) per operation."
    if len(value) > MAX_KEY_LENGTH:
        return f"Longer than {MAX_KEY_LENGTH} characters."
    if not all(" " <= ch <= "~" for ch in value) or value.strip() != value:
        return "Only printable ASCII characters, without leading or trailing spaces."
    return None


def fingerprint(method: str, path: str, query: bytes, body: Any, raw: bytes) -> str:
    """What makes two requests "the same": method, path, query (in any order) and body.
    A JSON body counts by its value (``body``, parsed), so key order and spacing do not
    make a retry "another body"; any other body by its bytes (``raw``)."""
    pairs = sorted(parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True))
    if body is not None:
        content = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    else:
        content = raw
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), json.dumps(pairs).encode(), content):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Request:
    """One request's identity under its key."""

    user_id: int
    key: str
    fingerprint: str
    method: str
    path: str


@dataclass(frozen=True)
class Claimed:
    """This request owns the key: it runs, and stores its answer with ``lease_token``."""

    row_id: int
    lease_token: str


@dataclass(frozen=True)
class Found:
    """The key is another request's: ``state`` is "answered", "in_flight" or "mismatch"."""

    state: str
    row: IdempotencyKey | None


def claim(
    sessions: sessionmaker[Session],
    req: Request,
    now: datetime,
    *,
    ttl: timedelta,
    lease: timedelta,
) -> Claimed | Found:
    """Take the key for this request, or say whose it is. An expired key is deleted and
    taken anew; an unanswered key whose lease ran out (its request crashed) is taken over."""
    token = secrets.token_hex(16)
    for _ in range(3):
        with sessions() as session:
            try:
                with session.begin():
                    # Lazily: this user's expired keys go (the worker purges everyone's).
                    session.execute(
                        delete(IdempotencyKey).where(
                            IdempotencyKey.user_id == req.user_id,
                            IdempotencyKey.expires_at <= now,
                        )
                    )
                    row = IdempotencyKey(
                        user_id=req.user_id,
                        key=req.key,
                        fingerprint=req.fingerprint,
                        method=req.method,
                        path=req.path[:2048],
                        created_at=now,
                        expires_at=now + ttl,
                        lease_token=token,
                        lease_expires_at=now + lease,
                    )
                    session.add(row)
                    session.flush()
                    return Claimed(row.id, token)
            except IntegrityError:
                pass  # the key exists: whose, and in what state?
            with session.begin():
                row = session.scalars(
                    select(IdempotencyKey).where(
                        IdempotencyKey.user_id == req.user_id, IdempotencyKey.key == req.key
                    )
                ).first()
                if row is None:
                    continue  # answered, expired and purged meanwhile: claim again
                if row.fingerprint != req.fingerprint:
                    return Found("mismatch", row)
                if row.status is not None:
                    return Found("answered", row)
                if row.lease_expires_at is not None and row.lease_expires_at > now:
                    return Found("in_flight", row)
                taken = session.execute(
                    update(IdempotencyKey)
                    .where(
                        IdempotencyKey.id == row.id,
                        IdempotencyKey.status.is_(None),
                        IdempotencyKey.lease_token == row.lease_token,
                    )
                    .values(lease_token=token, lease_expires_at=now + lease)
                ).rowcount
                if taken == 1:
                    return Claimed(row.id, token)
    return Found("in_flight", row)


def answer(
    session: Session,
    claimed: Claimed,
    *,
    status: int,
    headers: dict[str, str],
    body: str | None,
    withheld: bool,
) -> bool:
    """Store the answer in the request's transaction. False when the claim was lost (the
    request outlived its lease and a retry took the key over): then it must not commit."""
    stored = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == claimed.row_id,
            IdempotencyKey.lease_token == claimed.lease_token,
            IdempotencyKey.status.is_(None),
        )
        .values(
            status=status,
            headers=headers,
            body=body,
            withheld=withheld,
            lease_token=None,
            lease_expires_at=None,
        )
    ).rowcount
    return stored == 1


def release(sessions: sessionmaker[Session], claimed: Claimed) -> None:
    """Free the key of a request that stored no answer (5xx, rolled back): a retry runs."""
    with sessions() as session, session.begin():
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == claimed.row_id,
                IdempotencyKey.lease_token == claimed.lease_token,
                IdempotencyKey.status.is_(None),
            )
        )


def purge(sessions: sessionmaker[Session], now: datetime) -> int:
    """Delete expired keys, a batch per transaction; how many went."""
    total = 0
    while True:
        with sessions() as session, session.begin():
            ids = session.scalars(
                select(IdempotencyKey.id).where(IdempotencyKey.expires_at <= now).limit(PURGE_BATCH)
            ).all()
            if ids:
                session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
        total += len(ids)
        if len(ids) < PURGE_BATCH:
            return total
