"""Bearer tokens, roles, and the visibility rules every resource uses.

Every view declares who may call it with `@roles(...)` or `@public`; the app refuses
to serve an endpoint that declares neither, and the access test walks the URL map
to prove each rule.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, request
from sqlalchemy import Select, select, update

from api.db import get_session, writing
from api.models import ApiToken, Assignment, User, utcnow
from api.problems import Problem

TOKEN_PREFIX = "tb_"
ACCESS_ATTR = "__touchbase_access__"
PUBLIC = "public"
ALL_ROLES = ("admin", "advisor", "candidate")
# last_used_at is informative: write it at most this often per token to spare the database.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_PRINCIPAL_KEY = "touchbase.principal"
_USER_KEY = "touchbase.user"


@dataclass(frozen=True)
class Principal:
    user_id: int
    org_id: int
    role: str
    token_id: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token row; the returned secret is never stored and never shown again."""
    secret = new_token_secret()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="touchbase"'},
    )


def authenticate() -> Principal:
    """The request's principal from its bearer token (401 if none), looked up once per
    request (api.idempotency needs it before the view does)."""
    known = request.environ.get(_PRINCIPAL_KEY)
    if known is not None:
        return known
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorized("A bearer token is required: Authorization: Bearer tb_...")
    secret = secret.strip()
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise _unauthorized("The bearer token is not valid.")
    session = get_session()
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).first()
    now = utcnow()
    if row is None:
        raise _unauthorized("The bearer token is not valid.")
    token, user = row
    if token.revoked_at is not None:
        raise _unauthorized("The bearer token has been revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise _unauthorized("The bearer token has expired.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # Committed before the view runs, so it is kept even when the request is rejected;
        # at most once a minute per token, the other requests write nothing here.
        writing(session)
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        session.commit()
    principal = Principal(user_id=user.id, org_id=user.org_id, role=user.role, token_id=token.id)
    request.environ[_PRINCIPAL_KEY] = principal
    # The session's identity map holds its objects weakly: kept here, the caller's user is
    # session.get()'s without a second query for the rest of the request.
    session.info[_USER_KEY] = user
    return principal


def current() -> Principal:
    return g.principal


def roles(*allowed: str) -> Callable:
    """Require a valid bearer token of one of `allowed` roles (401, then 403)."""
    unknown = set(allowed) - set(ALL_ROLES)
    if unknown or not allowed:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            principal = authenticate()
            if principal.role not in allowed:
                raise Problem(
                    403, f"The {principal.role} role may not do this; needs {' or '.join(allowed)}."
                )
            g.principal = principal
            return fn(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, frozenset(allowed))
        apidoc = copy.deepcopy(getattr(fn, "_apidoc", {}))
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        if set(allowed) != set(ALL_ROLES):
            responses.setdefault(403, []).append("FORBIDDEN")
        apidoc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
        wrapper._apidoc = apidoc
        return wrapper

    return decorator


def public(fn: Callable) -> Callable:
    """No token needed (health checks, signed provider webhooks)."""
    setattr(fn, ACCESS_ATTR, PUBLIC)
    fn.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})["security"] = []
    return fn


def access_rule(view_func: Callable, method: str) -> object | None:
    """The declared access of a routed view for one HTTP method (None: undeclared)."""
    view_class = getattr(view_func, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        return getattr(handler, ACCESS_ATTR, None)
    return getattr(view_func, ACCESS_ATTR, None)


# -- visibility -----------------------------------------------------------------------------


def visible_candidates(principal: Principal) -> Select:
    """Ids of the candidates whose records the caller may see."""
    if principal.role == "candidate":
        return select(User.id).where(User.id == principal.user_id)
    query = select(User.id).where(User.org_id == principal.org_id, User.role == "candidate")
    if principal.role == "advisor":
        query = query.where(
            User.id.in_(
                select(Assignment.candidate_id).where(Assignment.advisor_id == principal.user_id)
            )
        )
    return query


def scope(query: Select, model, principal: Principal) -> Select:
    """Restrict a query on a candidate-owned model to what the caller may see."""
    query = query.where(model.org_id == principal.org_id)
    if principal.role == "candidate":
        return query.where(model.candidate_id == principal.user_id)
    if principal.role == "advisor":
        return query.where(model.candidate_id.in_(visible_candidates(principal)))
    return query


def _find_visible(model, object_id: int, principal: Principal):
    query = scope(select(model), model, principal).where(model.id == object_id)
    return get_session().scalars(query).first()


def get_visible(model, object_id: int, principal: Principal | None = None):
    """The object if the caller may see it; otherwise 404, exactly as if it did not exist."""
    found = _find_visible(model, object_id, principal or current())
    if found is None:
        raise not_found(model)
    return found


def get_referenced(model, object_id: int, field: str):
    """An object a request body names: visible to the caller, else 422 naming the field
    (the same answer whether it is absent or someone else's)."""
    found = _find_visible(model, object_id, current())
    if found is None:
        reason = f"Unknown {model.__tablename__.rstrip('s')}."
        raise Problem(422, f"Invalid input: {field}: {reason}", errors={field: [reason]})
    return found


def not_found(model=None) -> Problem:
    from api.operation_ids import singular

    table = getattr(model, "__tablename__", "object")
    name = singular(table) if table.endswith("s") else table
    return Problem(404, f"No such {name.replace('_', ' ')}.")


def visible_candidate(user_id: int) -> User:
    """The candidate ``/v1/users/{user_id}/...`` is about: one the caller may act for
    (themselves, an assigned one, any of the org for an admin). Someone the caller may not
    see is a 404; a user an admin sees who is no candidate (an advisor, an admin) is a 409
    that says so, since policies and channel settings are a candidate's."""
    principal = current()
    session = get_session()
    found = session.scalars(
        select(User).where(User.id == user_id, User.id.in_(visible_candidates(principal)))
    ).first()
    if found is not None:
        return found
    other = session.get(User, user_id) if principal.role == "admin" else None
    if other is not None and other.org_id == principal.org_id:
        raise Problem(
            409,
            f"User {user_id} is an {other.role}, not a candidate: policies and channel "
            "settings are set per candidate (or for the whole organisation).",
            type_="urn:touchbase:problem:not-a-candidate",
            title="Not a candidate",
        )
    raise not_found(User)


def resolve_candidate(candidate_id: int | None, field: str = "candidate_id") -> User:
    """The candidate a new record belongs to: the caller themselves, or one they may act for."""
    principal = current()
    session = get_session()
    if principal.role == "candidate":
        if candidate_id not in (None, principal.user_id):
            raise Problem(
                422,
                f"Invalid input: {field}: Unknown candidate.",
                errors={field: ["Unknown candidate."]},
            )
        return session.get(User, principal.user_id)
    if candidate_id is None:
        raise Problem(
            422,
            f"Invalid input: {field}: Required when acting for a candidate.",
            errors={field: ["Required when acting for a candidate."]},
        )
    found = session.scalars(
        select(User).where(User.id.in_(visible_candidates(principal)), User.id == candidate_id)
    ).first()
    if found is None:
        raise Problem(
            422,
            f"Invalid input: {field}: Unknown candidate.",
            errors={field: ["Unknown candidate."]},
        )
    return found
