"""A worker's batch: the connection it is worked on, and who watches whose changes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.dispatch.context import SendContext

log = logging.getLogger("touchbase.dispatch")


class BatchMixin:
    """The batch's pinned connection and its contexts' watchers (see api.dispatch.worker)."""

    def _watch(self, contexts: dict[int, SendContext]) -> None:
        """The batch's contexts, and for each touch the contexts whose stamp includes it."""
        self._batch = contexts
        watchers: dict[int, list[SendContext]] = {}
        for ctx in contexts.values():
            for neighbour in ctx.stamp[0]:
                watchers.setdefault(neighbour, []).append(ctx)
        self._watchers = watchers

    @contextlib.contextmanager
    def _pinned(self) -> Iterator[None]:
        """One connection for the whole batch: no pool checkout, ping and reset around each
        of its transactions (the heartbeat thread has its own)."""
        if self._conn is not None:
            yield
            return
        try:
            conn = self.engine.connect()
        except SQLAlchemyError:
            log.exception("no database connection for the batch; using the pool")
            yield
            return
        self._conn = conn
        try:
            yield
        finally:
            self._conn = None
            conn.close()

    def _session(self) -> Session:
        """A session on the batch's connection (or the pool outside a batch)."""
        if self._conn is not None and not self._conn.closed and not self._conn.invalidated:
            return self.sessions(bind=self._conn)
        return self.sessions()
