"""Channel sessions: a batch's messages of one channel go through one session.

A channel that offers ``open_session()`` (the email channel: one SMTP connection per
server, ``RSET`` between messages) gets one per batch, opened at its first message and
closed when the batch ends; any other channel gets one ``send`` per message. The outcome
of each message is classified by the channel as it would be alone, so exactly-once is
untouched: the fence still comes before each message, and a reply lost on a reused
connection is ``unknown``.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.base import SendResult, send_safely

log = logging.getLogger("touchbase.dispatch")


class SessionMixin:
    """The open channel sessions of a :class:`~api.dispatch.worker.Worker`'s batch."""

    _sessions: dict[str, Any]

    def _send(self, prepared) -> SendResult:
        """Send a fenced touch's message, through its channel's session when it has one."""
        session = self._session_for(prepared.channel_name, prepared.channel)
        return send_safely(prepared.channel, prepared.message, prepared.settings, session)

    def _session_for(self, name: str, channel: Any) -> Any:
        if name in self._sessions:
            return self._sessions[name]
        opener = getattr(channel, "open_session", None)
        session = None
        if callable(opener):
            try:
                session = opener()
            except Exception:  # a plugin's bug: its messages go one send each
                log.exception("channel %r: open_session failed; sending one by one", name)
        self._sessions[name] = session
        return session

    def _close_sessions(self) -> None:
        """Close the batch's sessions (QUIT for SMTP); never raises."""
        sessions, self._sessions = self._sessions, {}
        for name, session in sessions.items():
            if session is None:
                continue
            try:
                session.close()
            except Exception:
                log.exception("channel %r: closing its session failed", name)
