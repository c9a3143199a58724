"""The mailboxes Touchbase reads replies from (named by the email channel's settings)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api.auth import ALL_ROLES, current, roles, scope
from api.models import Mailbox
from api.resources.common import PAGINATION, Blueprint, SelectPage
from api.resources.listing import Sort
from api.schemas.mailboxes import MailboxSchema

MAILBOX_SORT = Sort(Mailbox.id, component="CreatedSort", created_at=Mailbox.created_at)

blp = Blueprint(
    "mailboxes",
    __name__,
    url_prefix="/v1/mailboxes",
    description="Mailboxes replies are read from, and whether reading them works: set "
    "`imap_host` and the other `imap_*` settings of the email channel to add one.",
)


@blp.route("")
class Mailboxes(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, MailboxSchema(many=True))
    @blp.paginate(SelectPage, sort=MAILBOX_SORT, **PAGINATION)
    def get(self):
        """Mailboxes polled for replies, with the status of the last poll

        The mailboxes the workers poll for replies (set by the email channel's
        `imap_*` settings), each with the status of its last poll (`ok` or
        `unavailable` with the reason), when it is next due and how many messages it
        has heard.
        """
        return scope(select(Mailbox), Mailbox, current()).order_by(Mailbox.id)
