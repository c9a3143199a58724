"""Settings from the environment (TOUCHBASE_*), with safe defaults for the embedded setup."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENV_PREFIX = "TOUCHBASE_"


def _instance_dir() -> Path:
    return Path(os.environ.get("TOUCHBASE_INSTANCE_DIR", Path.cwd() / "instance")).resolve()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from exc


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(ENV_PREFIX + name, "")
    if raw == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


def default_ratelimit_storage(database_url: str) -> str:
    """Where rate-limit counters live unless TOUCHBASE_RATELIMIT_STORAGE_URL says: in the
    process for the embedded setup (SQLite: one process), in Redis on this machine for
    production (PostgreSQL: API processes on many machines must share one count)."""
    if database_url.startswith("sqlite"):
        return "memory://"
    return "redis://127.0.0.1:6379/0"


def _float(name: str, default: float) -> float:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{ENV_PREFIX}{name} must be a number, got {raw!r}") from exc


def _floats(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw == "":
        return tuple(float(v) for v in default)
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError as exc:
        raise RuntimeError(f"{ENV_PREFIX}{name} must be comma-separated seconds") from exc
    if not values or any(v < 0 for v in values):
        raise RuntimeError(f"{ENV_PREFIX}{name} must be comma-separated seconds")
    return values


def _secret_key(instance: Path) -> str:
    """A stable secret for the embedded setup, generated once and kept in instance/."""
    given = os.environ.get("TOUCHBASE_SECRET_KEY")
    if given:
        return given
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Flask config for the app factory; `overrides` win (tests pass their own)."""
    overrides = dict(overrides or {})
    instance = Path(overrides.get("INSTANCE_DIR") or _instance_dir())
    config: dict[str, Any] = {
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": os.environ.get(
            "TOUCHBASE_DATABASE_URL", f"sqlite:///{instance / 'touchbase.db'}"
        ),
        "PUBLIC_URL": os.environ.get("TOUCHBASE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        "OUTBOX_DIR": os.environ.get("TOUCHBASE_OUTBOX_DIR", str(instance / "outbox")),
        # Bodies larger than this are answered 413 before any parsing.
        "MAX_CONTENT_LENGTH": _int("MAX_BODY_BYTES", 256 * 1024),
        "TOKEN_DEFAULT_TTL_DAYS": _int("TOKEN_DEFAULT_TTL_DAYS", 0),
        # PostgreSQL connections each process keeps open (and may add for bursts).
        "DB_POOL_SIZE": _int("DB_POOL_SIZE", 20),
        "DB_MAX_OVERFLOW": _int("DB_MAX_OVERFLOW", 10),
        "LOG_JSON": os.environ.get("TOUCHBASE_LOG_JSON", "") not in ("", "0", "false"),
        "WORKER_ENABLED": True,
        # The worker looks for due mailboxes this often (each has its own poll interval).
        "MAILBOX_TICK_SECONDS": _int("MAILBOX_TICK_SECONDS", 5),
        # A worker that holds a mailbox longer without a word loses it to another.
        "MAILBOX_LEASE_SECONDS": _int("MAILBOX_LEASE_SECONDS", 300),
        # Messages fetched from a mailbox at once and heard in one transaction.
        "MAILBOX_BATCH": _int("MAILBOX_BATCH", 200),
        # How long a POST's Idempotency-Key and its answer are kept (Stripe: 24 hours).
        "IDEMPOTENCY_TTL_SECONDS": _int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        # A request that holds its key longer without answering (it crashed) loses it.
        "IDEMPOTENCY_LEASE_SECONDS": _int("IDEMPOTENCY_LEASE_SECONDS", 60),
        # Rate limits (api.ratelimit), each "N/second|minute|hour|day".
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        # Requests one bearer token may make, on every endpoint that needs one.
        "RATELIMIT_PER_TOKEN": os.environ.get("TOUCHBASE_RATELIMIT_PER_TOKEN") or "1200/minute",
        # Failed authentications (401) one client address may cause before every request of
        # it that needs a token is answered 429 until the window ends.
        "RATELIMIT_AUTH_FAILURES": os.environ.get("TOUCHBASE_RATELIMIT_AUTH_FAILURES")
        or "20/minute",
        # Requests one client address may make to the endpoints that need no token (Twilio
        # webhooks, the calendar feed, the docs); /healthz and /readyz are never limited.
        "RATELIMIT_PUBLIC": os.environ.get("TOUCHBASE_RATELIMIT_PUBLIC") or "600/minute",
        # Prefix of every counter's key in Redis: deployments (or test runs) can share one.
        "RATELIMIT_STORAGE_PREFIX": os.environ.get("TOUCHBASE_RATELIMIT_STORAGE_PREFIX")
        or "touchbase",
        # Reverse proxies in front that append to X-Forwarded-For: the client address the
        # per-address limits count is the one the outermost of them saw (0: the socket's).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Outbound webhooks (api.webhooks): the worker looks for due deliveries this often
        # (0 turns the pass off); a delivery held longer without an answer is another's.
        "WEBHOOK_TICK_SECONDS": _float("WEBHOOK_TICK_SECONDS", 2.0),
        "WEBHOOK_LEASE_SECONDS": _int("WEBHOOK_LEASE_SECONDS", 60),
        # Seconds between attempts: the Standard Webhooks schedule, about 27 hours in all;
        # after the last one a delivery is failed.
        "WEBHOOK_RETRY_SCHEDULE": _floats(
            "WEBHOOK_RETRY_SCHEDULE", (5, 300, 1800, 7200, 18000, 36000, 36000)
        ),
        "WEBHOOK_CONNECT_TIMEOUT": _float("WEBHOOK_CONNECT_TIMEOUT", 3.0),
        "WEBHOOK_READ_TIMEOUT": _float("WEBHOOK_READ_TIMEOUT", 5.0),
        # After a rotation the old secret keeps signing beside the new one this long.
        "WEBHOOK_SECRET_OVERLAP_SECONDS": _int("WEBHOOK_SECRET_OVERLAP_SECONDS", 24 * 3600),
        # Private, loopback and link-local addresses are refused (SSRF) unless this is on.
        "WEBHOOK_ALLOW_PRIVATE": _flag("WEBHOOK_ALLOW_PRIVATE", False),
    }
    storage = os.environ.get("TOUCHBASE_RATELIMIT_STORAGE_URL")
    if storage:
        config["RATELIMIT_STORAGE_URI"] = storage
    config.update(overrides)
    config.setdefault("RATELIMIT_STORAGE_URI", default_ratelimit_storage(config["DATABASE_URL"]))
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(instance)
    return config
