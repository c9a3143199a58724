"""What a request costs the database beyond its own queries: at most its transaction's
BEGIN and ROLLBACK (or COMMIT): on SQLite a reader's DEFERRED transaction, on PostgreSQL
none for a reader (autocommit). No ping before a checkout, one checkout, the caller's
token and user in one query, loaded once, and the token's last use written at most once a
minute (issue 16)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.pool import NullPool

from api import create_app
from api.models import ApiToken, Touch, utcnow
from tests.conftest import PG_URL


@pytest.fixture
def used(call, world):
    """The candidate's token, used once (its last use just written): `used(url)` is then
    one more request with it, as a portal makes them."""
    assert call("GET", "/v1/me", world.tokens["candidate"]).status_code == 200

    def _again(url: str):
        answer = call("GET", url, world.tokens["candidate"])
        assert answer.status_code == 200, answer.get_json()
        return answer

    return _again


BEGIN_END = {"BEGIN", "COMMIT", "ROLLBACK"}


def test_me_is_the_token_with_its_user_and_the_organisation(used, statements):
    used("/v1/me")
    assert [s for s in statements if s not in BEGIN_END] == [
        "SELECT api_tokens",
        "SELECT organizations",
    ]


def test_me_costs_at_most_a_begin_and_a_rollback_more(used, statements):
    used("/v1/me")
    assert [s for s in statements if s in BEGIN_END] in (["BEGIN", "ROLLBACK"], [])


@pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PostgreSQL")
def test_on_postgresql_a_read_sends_no_begin_and_no_rollback(used, statements):
    used("/v1/touches")
    assert not [s for s in statements if s in BEGIN_END]


def test_a_read_takes_one_connection_from_the_pool(used, statements):
    used("/v1/me")
    assert statements.checkouts == 1


@pytest.fixture
def three_touches(world, factory) -> None:
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    for _ in range(3):
        factory.touch(contact, application)


def test_a_list_is_at_most_one_transaction_around_its_own_queries(used, three_touches, statements):
    answer = used("/v1/touches?page_size=50")
    assert len(answer.get_json()) == 3
    assert statements.count("BEGIN") <= 1
    assert "COMMIT" not in statements
    assert statements.count("SELECT api_tokens") == 1


def test_a_short_page_says_its_total_without_a_count_query(used, three_touches, statements):
    answer = used("/v1/touches?page_size=50")
    assert json.loads(answer.headers["X-Pagination"])["total"] == 3
    assert not [sql for sql in statements.sql if "count(" in sql.lower()]


def test_a_full_page_counts_the_rest(used, three_touches, statements):
    answer = used("/v1/touches?page_size=2")
    assert json.loads(answer.headers["X-Pagination"])["total"] == 3
    assert len([sql for sql in statements.sql if "count(" in sql.lower()]) == 1


def test_a_page_past_the_end_counts_what_there_is(used, three_touches):
    answer = used("/v1/touches?page_size=2&page=5")
    assert answer.get_json() == []
    assert json.loads(answer.headers["X-Pagination"])["total"] == 3


def test_a_token_used_within_the_minute_costs_no_write(used, statements):
    used("/v1/me")
    assert not [s for s in statements if s.startswith(("UPDATE", "COMMIT"))]


def test_a_token_last_used_over_a_minute_ago_is_written_again(used, statements, world, db, row):
    token_id = db.scalar(
        text("SELECT id FROM api_tokens WHERE user_id = :u"), {"u": world.candidate.id}
    )
    long_ago = utcnow() - timedelta(minutes=2)
    db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=long_ago))
    db.commit()
    used("/v1/me")
    assert "UPDATE api_tokens SET" in statements
    assert row(ApiToken, token_id)["last_used_at"] > long_ago + timedelta(minutes=1)


def test_the_api_engine_does_not_ping_before_each_checkout(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    assert app.extensions["touchbase.engine"].pool._pre_ping is False


def test_the_worker_engine_pings_before_each_checkout(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "DB_PRE_PING": True})
    assert app.extensions["touchbase.engine"].pool._pre_ping is True


@pytest.fixture
def dropped_connections(used):
    """`dropped_connections()`: the database drops every connection of the app's pool
    (as a restart does), which the pool still lends; how many it dropped."""
    used("/v1/me")  # the pool now holds the connections the arrangement and request used

    def _drop() -> int:
        killer = create_engine(PG_URL, poolclass=NullPool)
        with killer.connect() as conn:
            dropped = conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        killer.dispose()
        return dropped

    return _drop


@pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PostgreSQL")
def test_a_pooled_connection_the_database_dropped_costs_no_failed_request(
    used, dropped_connections
):
    assert dropped_connections() >= 1
    used("/v1/me")  # retried once on a fresh connection: 200, not a 503


@pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="needs PostgreSQL")
def test_a_request_without_a_token_also_rides_over_a_dropped_connection(
    client, dropped_connections
):
    assert dropped_connections() >= 1
    assert client.get("/readyz").status_code == 200


@pytest.mark.skipif(PG_URL.startswith("postgresql"), reason="SQLite's write lock")
def test_on_sqlite_a_read_proceeds_while_a_write_transaction_is_open(
    used, engine_of, world, factory
):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    factory.touch(contact, application)
    writer = engine_of.raw_connection()
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE touches SET body = 'being edited'")
        done = threading.Event()
        answers = []

        def read():
            answers.append(used("/v1/touches"))
            done.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert done.wait(5), "the read waited for the writer's lock"
        assert answers[0].get_json()[0]["body"] != "being edited"
    finally:
        writer.rollback()
        writer.close()


@pytest.mark.skipif(PG_URL.startswith("postgresql"), reason="SQLite's write lock")
def test_on_sqlite_a_read_that_finds_an_expired_draft_skips_it(used, world, factory, row):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    draft = factory.touch(
        contact, application, status="draft", approve_by=utcnow() - timedelta(hours=1)
    )
    used("/v1/touches")
    assert row(Touch, draft.id)["status"] == "skipped"


def test_a_logged_touch_is_one_transaction_answer_included(call, world, factory, statements):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    statements.clear()
    answer = call(
        "POST",
        "/v1/touches",
        world.tokens["candidate"],
        json={
            "contact_id": contact.id,
            "application_id": application.id,
            "channel": "manual",
            "step": "thank_you",
            "occurred_at": "2026-01-02T10:00:00Z",
        },
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["contact_name"] == contact.name
    last_write = max(i for i, s in enumerate(statements) if s == "COMMIT")
    assert statements[last_write + 1 :] == []
