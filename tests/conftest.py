"""Shared fixtures: one app per session on a migrated database, a rolled-back transaction per test."""

import os
import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from govrisk import create_app
from govrisk.extensions import db

PASSWORD = "Test@12345"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _database_url(tmp_dir: str) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{Path(tmp_dir) / 'test.db'}"


def _reset_schema(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app():
    tmp_dir = tempfile.mkdtemp(prefix="govrisk-test-")
    application = create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": _database_url(tmp_dir)})
    application.instance_path = tmp_dir
    with application.app_context():
        _reset_schema(db.engine)
        from flask_migrate import upgrade

        upgrade(directory=application.extensions["migrate"].directory, revision="heads")
        from tests.support import TestBase

        TestBase.metadata.create_all(db.engine)
        from govrisk.demo import load_calendar, load_reference

        load_reference()
        load_calendar()
        db.session.commit()
    yield application


@pytest.fixture(autouse=True)
def db_session(app):
    """Every test runs inside a transaction that is rolled back; request commits become savepoints."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own get_bind() would ignore the connection and use the engine.
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Each request starts with an empty `g`, as in production.

    The per-test app context stays pushed for the factories, and Flask reuses it for test requests;
    without this, g (the logged-in user, CSRF token, caches) would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


def csrf_token(client, url: str = "/login") -> str:
    """A valid CSRF token for this client's session, read from a rendered page."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, *, token_url: str = "/login", **kwargs):
    """POST a form with a valid CSRF token, as a browser would."""
    return client.post(url, data={"csrf_token": csrf_token(client, token_url), **(data or {})}, **kwargs)


@pytest.fixture
def create_department(db_session):
    from govrisk.org.operations import create_department as create

    counter = iter(range(1, 10_000))

    def factory(code=None, name=None, parent=None, kind="government"):
        n = next(counter)
        return create({"code": code or f"T-D{n:03d}", "name": name or f"测试单位{n}", "kind": kind,
                       "parent_id": parent.id if parent else None}, actor=None)

    return factory


@pytest.fixture
def create_user(db_session):
    from govrisk.auth.operations import create_user as create
    from govrisk.auth.operations import grant_role

    counter = iter(range(1, 10_000))

    def factory(*roles, department=None, username=None, must_change_password=False):
        n = next(counter)
        user = create({"username": username or f"user{n}", "display_name": f"用户{n}", "password": PASSWORD,
                       "department_id": department.id if department else None}, actor=None)
        user.must_change_password = must_change_password
        for role in roles:
            grant_role(user, role, actor=None)
        db.session.flush()
        return user

    return factory


@pytest.fixture
def create_post(db_session):
    from govrisk.org.operations import save_post

    counter = iter(range(1, 10_000))

    def factory(department, *, name=None, is_key=False, headcount=1):
        n = next(counter)
        return save_post(None, {"department_id": department.id, "code": f"P{n:03d}", "name": name or f"岗位{n}",
                                "duties": "", "headcount": headcount, "is_key": is_key}, actor=None)

    return factory


@pytest.fixture
def create_person(db_session):
    from govrisk.org.operations import save_person

    counter = iter(range(1, 10_000))

    def factory(department, *, name=None):
        n = next(counter)
        return save_person(None, {"department_id": department.id, "staff_no": f"S{n:05d}", "name": name or f"人员{n}",
                                  "title": ""}, actor=None)

    return factory


@pytest.fixture
def login_as(client):
    """Log a user in through the real login form; returns the client."""

    def login(user, password: str = PASSWORD):
        response = post_form(client, "/login", {"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return login
