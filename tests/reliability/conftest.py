"""The reliability and security suite runs against the demo city (every domain's seed) rather than an empty database.

`app` is overridden for this folder: one session-wide database — a SQLite file, or a fresh database on the
PostgreSQL server of TEST_DATABASE_URL — upgraded to heads and loaded with `load_seed(demo=True)` plus what the
seed leaves out (supervision events and alerts, public feedback, an API token, an evidence file, an open finding,
a draft campaign report, a flow revision being edited and next year's review in planning), each through the domain's
own operation. Every test still runs inside the root conftest's rolled-back transaction.
"""

import os
import uuid
import warnings
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from govrisk import create_app
from govrisk.extensions import db

DEMO_PASSWORD = "Demo@2026"
HOME, OTHER = "YX-SCJG", "YX-ZJJ"  # the demo editor's department, and another one with its own editor


def _postgres_url():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        return None
    return sa.make_url(url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The demo city in its own database (overrides the root `app` for tests/reliability)."""
    folder = tmp_path_factory.mktemp("reliability-city")
    server = _postgres_url()
    name = f"govrisk_city_{uuid.uuid4().hex[:8]}"
    if server is not None:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'city.db'}"
    application = create_app({"CONFIG_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    application.instance_path = str(folder)
    with application.app_context():
        from flask_migrate import upgrade

        upgrade(directory=application.extensions["migrate"].directory, revision="heads")
        from govrisk.demo import load_seed

        load_seed(demo=True)
        db.session.commit()
        for extra in (_supervision, _feedback, _api_token, _attachment, _accountability, _campaign_report,
                      _flow_revision, _review_cycle):
            try:
                extra()
                db.session.commit()
            except Exception as exc:  # a domain still in progress: the suite runs with what exists
                db.session.rollback()
                warnings.warn(f"reliability city: {extra.__name__} not loaded: {exc!r}", stacklevel=1)
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()
    if server is not None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _user(username):
    from govrisk.auth.queries import get_user_by_username

    return get_user_by_username(username)


def _supervision():
    from govrisk.demo import seed_dir
    from govrisk.supervision.ingest import ingest_events, parse_file
    from govrisk.supervision.scan import run_scan

    for path in sorted((seed_dir() / "supervision").glob("*.csv")):
        parsed = parse_file(path.read_bytes(), path.name, max_bytes=50 * 1024 * 1024)
        ingest_events(parsed.rows, actor=None, source="cli", filename=path.name)
    run_scan()


def _feedback():
    from govrisk.portal.operations import submit_feedback

    submit_feedback({"category": "report", "department_id": str(_department(HOME).id),
                     "text": "窗口工作人员要求额外提交证明材料，请核查。", "contact": ""}, address="198.51.100.7")


def _api_token():
    from govrisk.auth.operations import create_api_token

    editor = _user("editor")
    create_api_token(editor, "reliability", actor=editor)


def _attachment():
    from govrisk.risks.models import ControlMeasure
    from govrisk.risks.operations import add_attachment

    measure = db.session.scalar(sa.select(ControlMeasure).where(ControlMeasure.department_id == _department(HOME).id)
                                .order_by(ControlMeasure.id).limit(1))
    add_attachment(measure, "evidence.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), actor=None)


def _accountability():
    """A finding of the home department with a rectification and an action still editable (the seed closes its own)."""
    from datetime import date, timedelta

    from govrisk.accountability import operations as ops
    from govrisk.org.models import Person

    inspector, home = _user("inspector"), _department(HOME)
    person = db.session.scalar(sa.select(Person).where(Person.department_id == home.id).order_by(Person.id).limit(1))
    finding = ops.create_finding({"source": "supervision_inspection", "department_id": home.id,
                                  "title": "窗口受理超时未说明理由", "person_ids": [person.id],
                                  "person_roles": ["responsible"]}, actor=inspector)
    ops.order_rectification(finding, {"requirement": "建立超时说明制度", "due_on": date.today() + timedelta(days=30)},
                            actor=inspector)
    ops.record_action(person, {"action_type": "admonishing_talk", "facts": "受理超时", "finding_id": finding.id},
                      actor=inspector)


def _campaign_report():
    """A draft report of the editor's reporting unit with one activity and one figure (the seed's are all handed in)."""
    from datetime import date

    from govrisk.campaigns import operations as ops
    from govrisk.campaigns import queries
    from govrisk.campaigns.models import Campaign, CampaignKind, ReportingUnit

    editor = _user("editor")
    unit = db.session.scalar(sa.select(ReportingUnit).where(ReportingUnit.department_id == _department(HOME).id)
                             .order_by(ReportingUnit.id).limit(1))
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.kind == CampaignKind.PUBLICITY)
                                 .order_by(Campaign.year.desc(), Campaign.id.desc()).limit(1))
    report = ops.open_report(campaign, unit, actor=editor)
    db.session.flush()
    ops.save_activity(report, None, {"activity_type": queries.activity_type_choices()[0][0], "venue": "政务服务中心",
                                     "held_on": date(campaign.year, 6, 15), "description": "窗口发放宣传折页"},
                      actor=editor)
    ops.save_value(report, None, {"indicator": queries.indicator_choices()[0][0], "value": "1200"}, actor=editor)


def _flow_revision():
    """A published internal flow of the home department reopened as a draft (the seed's drafts are elsewhere)."""
    from govrisk.catalog.models import Power
    from govrisk.flows import operations as ops
    from govrisk.flows.models import Flow, FlowKind
    from govrisk.workflow.register import RegisterState

    flow = db.session.scalar(sa.select(Flow).join(Power, Flow.power_id == Power.id)
                             .where(Power.department_id == _department(HOME).id, Flow.kind == FlowKind.INTERNAL,
                                    Flow.state == RegisterState.PUBLISHED).order_by(Flow.id).limit(1))
    ops.revise_flow(flow, actor=_user("editor"))


def _review_cycle():
    """The year after the seed's (closed) review, still in planning: its settings can be edited."""
    from datetime import date

    from govrisk.review import operations as ops
    from govrisk.review.models import ReviewCycle

    year = db.session.scalar(sa.select(sa.func.max(ReviewCycle.year))) + 1
    ops.create_cycle({"year": year, "department_ids": [_department(HOME).id, _department(OTHER).id],
                      "self_check_due_on": date(year, 9, 30), "inspection_due_on": date(year, 11, 15)},
                     actor=_user("inspector"))


def _department(code):
    from govrisk.org.queries import get_department_by_code

    return get_department_by_code(code)


@dataclass
class City:
    """The demo accounts by role and the two departments used for cross-department checks."""

    home: object
    other: object
    users: dict = field(default_factory=dict)  # role value → User (dept roles in HOME)
    other_editor: object = None


@pytest.fixture
def city(db_session):
    return City(home=_department(HOME), other=_department(OTHER),
                users={"dept_editor": _user("editor"), "dept_head": _user("head"), "inspector": _user("inspector"),
                       "sys_admin": _user("sysadmin"), "sec_admin": _user("secadmin"),
                       "audit_admin": _user("auditadmin")},
                other_editor=_user("editor2"))


@pytest.fixture
def login_demo(client):
    """Log a demo account in through the real form (demo password)."""
    from tests.conftest import post_form

    def login(user, on=None):
        target = on or client
        response = post_form(target, "/login", {"username": user.username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return target

    return login
