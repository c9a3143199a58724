"""Liveness and readiness for load balancers and process supervisors."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from api.auth import public
from api.db import get_session
from api.problems import Problem
from api.resources.common import Blueprint
from api.schemas.fields import ReadSchema

blp = Blueprint("health", __name__, description="Process and database health, no token needed.")


class HealthSchema(ReadSchema):
    status = fields.String()


@blp.route("/healthz")
class Health(MethodView):
    @public
    @blp.response(200, HealthSchema)
    @blp.doc(operationId="check_liveness")
    def get(self):
        """The process is up

        For a load balancer or an orchestrator's liveness probe: answers 200 while
        the process serves requests, without touching the database, so a database
        outage never restarts a healthy process.
        """
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="check_readiness")
    def get(self):
        """The database answers

        For a readiness probe: 200 when the database answers, 503 (problem+json,
        `Retry-After`) while it cannot be reached, so traffic goes elsewhere until
        it is back.
        """
        try:
            get_session().execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means not ready
            raise Problem(503, "The database is not reachable.") from exc
        return {"status": "ok"}
