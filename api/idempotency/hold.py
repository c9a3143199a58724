"""A request's hold on its session: the view's commits become savepoints, and the one real
commit carries the effect and the stored answer together.

Views commit explicitly (api.db). Under a hold, ``session.commit()`` releases the current
savepoint and opens the next (:meth:`Hold.checkpoint`), ``session.rollback()`` goes back to
the last one (:meth:`Hold.undo`): what the view kept and threw away is as before, but
nothing reaches the database until :meth:`Hold.settle` has the answer. A request that
fails with a 4xx keeps what it had committed (e.g. a refusal's event) with its answer; a 5xx
keeps nothing, stores nothing, and frees the key, so a retry runs again.
"""

from __future__ import annotations

import logging

from flask import Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.db import HOLD_KEY
from api.idempotency import keys
from api.idempotency.answers import in_flight
from api.ledger.events import forget_events_after, pending_events
from api.problems import problem_response

log = logging.getLogger("touchbase.idempotency")

#: Headers of an answer a replay repeats (with its status and body).
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified", "Link")


def stored(status: int) -> bool:
    """Stripe's rule: an answer the request itself gave is kept, even a 4xx; a server
    error or a rate limit is not (the retry runs again)."""
    return status < 500 and status != 429


class Hold:
    def __init__(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        claimed: keys.Claimed,
        *,
        withheld: bool,
    ) -> None:
        self.session = session
        self.sessions = sessions
        self.claimed = claimed
        self.withheld = withheld
        self._events = pending_events(session)
        self._savepoint = session.begin_nested()
        session.info[HOLD_KEY] = self

    def checkpoint(self) -> None:
        """The view's commit(): what it did so far is kept (at the real commit)."""
        self._savepoint.commit()
        self._events = pending_events(self.session)
        self._savepoint = self.session.begin_nested()

    def undo(self) -> None:
        """The view's rollback(): back to its last commit, as without a hold."""
        self._savepoint.rollback()
        forget_events_after(self.session, self._events)
        self._savepoint = self.session.begin_nested()

    def settle(self, response: Response) -> Response:
        """Commit the effect with the answer, or roll back and free the key; the response
        to send (a 409 or 503 if the answer could not be stored)."""
        self.session.info.pop(HOLD_KEY, None)
        status = response.status_code
        if not stored(status):
            self.abandon()
            return response
        try:
            if status < 400:
                self._savepoint.commit()
            else:  # what the view did after its last commit is not kept
                self._savepoint.rollback()
                forget_events_after(self.session, self._events)
            headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
            body = None if self.withheld else response.get_data(as_text=True)
            if not keys.answer(
                self.session,
                self.claimed,
                status=status,
                headers=headers,
                body=body,
                withheld=self.withheld,
            ):
                self.session.rollback()
                return lost_claim()
            self.session.commit()
        except SQLAlchemyError:
            log.warning("could not store the idempotent answer", exc_info=True)
            self.abandon()
            return unavailable()
        return response

    def abandon(self) -> None:
        """Nothing of the request is kept, and its key is free again."""
        self.session.info.pop(HOLD_KEY, None)
        try:
            self.session.rollback()
        except SQLAlchemyError:
            self.session.invalidate()
        try:
            keys.release(self.sessions, self.claimed)
        except SQLAlchemyError:  # the database is away: the claim's lease runs out
            log.warning("could not free an idempotency key", exc_info=True)


def lost_claim() -> Response:
    return in_flight(
        "This request took longer than its claim on the Idempotency-Key, and a retry took "
        "the key over; nothing of it was kept."
    )


def unavailable() -> Response:
    return problem_response(
        503,
        "The database could not store the answer; nothing was kept. Retry shortly with the "
        "same Idempotency-Key.",
        headers={"Retry-After": "5"},
    )
