"""`touchbase bootstrap` and `touchbase db`: what a new installation runs first."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api import cli, create_app, migrate, serve
from api.auth import hash_token
from api.db import make_engine
from api.models import ApiToken, Organization, User
from channels.email_address import email_address_problem

TOKEN = re.compile(r"tb_[A-Za-z0-9_-]+")


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    """A migrated SQLite file the commands find through the environment, as in production."""
    url = f"sqlite:///{tmp_path / 'touchbase.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("TOUCHBASE_DATABASE_URL", url)
    monkeypatch.setenv("TOUCHBASE_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("TOUCHBASE_SECRET_KEY", "cli-test")
    return url


def _bootstrap(capsys, *extra: str) -> tuple[int, str]:
    code = cli.main(["bootstrap", "--org", "North career office", *extra])
    return code, capsys.readouterr().out


def test_bootstrap_prints_one_admin_token_once(database, capsys):
    code, out = _bootstrap(capsys, "--email", "Admin@North.example")

    assert code == 0
    tokens = TOKEN.findall(out)
    assert len(tokens) == 1
    assert len(tokens[0]) >= 43


def test_the_bootstrap_token_works_as_the_new_admin(database, capsys, tmp_path):
    _code, out = _bootstrap(capsys, "--email", "Admin@North.example", "--name", "Ada Admin")
    secret = TOKEN.search(out).group(0)
    app = create_app(
        {"DATABASE_URL": database, "SECRET_KEY": "x", "INSTANCE_DIR": str(tmp_path / "app")}
    )

    response = app.test_client().get("/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    me = response.get_json()
    assert me["role"] == "admin"
    assert me["email"] == "admin@north.example"
    assert me["name"] == "Ada Admin"
    assert me["org_name"] == "North career office"


def test_bootstrap_stores_only_the_tokens_hash(database, capsys):
    _code, out = _bootstrap(capsys, "--email", "admin@north.example")
    secret = TOKEN.search(out).group(0)

    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(ApiToken.__table__)).all()
            orgs = conn.scalars(select(Organization.name)).all()
            roles = conn.execute(select(User.email, User.role)).all()
    finally:
        engine.dispose()

    assert len(stored) == 1
    assert all(secret not in str(value) for value in stored[0])
    assert stored[0]._mapping["token_hash"] == hash_token(secret)
    assert orgs == ["North career office"]
    assert [tuple(r) for r in roles] == [("admin@north.example", "admin")]


def test_bootstrap_requires_an_org_and_an_email(database):
    with pytest.raises(SystemExit) as exited:
        cli.main(["bootstrap", "--org", "North"])

    assert exited.value.code != 0


def test_bootstrap_refuses_an_address_the_api_would_refuse(database, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["bootstrap", "--org", "North", "--email", "admin@localhost"])

    assert exited.value.code == 2
    assert "not a usable email address" in capsys.readouterr().err
    with make_engine(database).connect() as conn:
        assert conn.scalar(select(User.id)) is None


def test_the_embedded_first_admin_has_an_address_the_api_accepts():
    assert email_address_problem(serve.FIRST_ADMIN_EMAIL) is None


def test_db_upgrade_and_check_from_the_command_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    assert cli.main(["db", "upgrade", "--database-url", url]) == 0
    assert cli.main(["db", "check", "--database-url", url]) == 0
    assert "reproduce the models" in capsys.readouterr().out


def test_db_check_fails_on_a_database_behind_the_models(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")

    assert cli.main(["db", "check", "--database-url", url]) == 1
    assert "differ" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--batch", "0"), ("--batch", "-5"), ("--batch", "ten"), ("--poll", "0"), ("--lease", "nan")],
)
def test_worker_refuses_a_setting_that_is_not_above_zero_with_a_usage_error(option, value, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["worker", "--once", option, value])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err


def test_worker_settings_parse_as_numbers():
    args = cli.build_parser().parse_args(["worker", "--batch", "7", "--lease", "2.5"])

    assert (args.batch, args.poll, args.lease) == (7, 1.0, 2.5)


def test_db_upgrade_says_which_revision_the_database_is_at(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    assert cli.main(["db", "upgrade", "--database-url", url]) == 0

    assert capsys.readouterr().out == f"{url} is at revision {migrate.current_revision(url)}\n"
    assert migrate.current_revision(url) is not None


def test_db_upgrade_never_prints_the_database_password():
    shown = migrate.shown_url("postgresql+psycopg://touchbase:s3cret@db.internal/touchbase")

    assert "s3cret" not in shown
    assert shown.startswith("postgresql+psycopg://touchbase:")
