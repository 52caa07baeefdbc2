"""Powers through the workflow: code generation, edits, revisions of published powers, versions, diffs, dates."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from govrisk.catalog import operations as ops
from govrisk.catalog import queries
from govrisk.catalog.models import Power, PowerVersion
from govrisk.core.audit import AuditEntry
from govrisk.core.errors import Forbidden, StaleEditError, UserError, WorkflowError
from govrisk.extensions import db
from govrisk.workflow.engine import history_for
from govrisk.workflow.register import RegisterState as S
from tests.catalog_support import make_power, make_unit, power_data, publish


@pytest.fixture
def unit(create_department, create_user):
    return make_unit(create_department, create_user, code="T-SCJG")


@pytest.fixture
def inspector(create_user, create_department):
    return create_user("inspector", department=create_department())


def test_code_is_generated_per_department_and_category(unit):
    first, second = make_power(unit), make_power(unit)
    penalty = make_power(unit, category="cf")
    assert (first.code, second.code, penalty.code) == ("T-SCJG-XK-0001", "T-SCJG-XK-0002", "T-SCJG-CF-0001")
    assert first.state is S.DRAFT and first.department_id == unit.department.id


def test_given_code_must_be_unique(unit):
    make_power(unit, code="XK-0001")
    with pytest.raises(ops.PowerDataError) as exc:
        make_power(unit, code="XK-0001")
    assert "已被其他职权使用" in exc.value.details["errors"]["code"][0]


def test_bad_data_raises_with_every_error_and_writes_nothing(unit):
    before = db.session.scalar(sa.select(sa.func.count(Power.id)))
    with pytest.raises(ops.PowerDataError) as exc:
        make_power(unit, promised_days="30", legal_bases=[])
    assert set(exc.value.details["errors"]) == {"promised_days", "legal_bases"}
    assert db.session.scalar(sa.select(sa.func.count(Power.id))) == before


def test_other_department_and_admin_cannot_register(unit, create_department, create_user):
    other = create_department()
    with pytest.raises(ops.PowerDataError) as exc:
        ops.create_power(power_data(other), actor=unit.editor)
    assert "不能为" in exc.value.details["errors"]["department_id"][0]
    with pytest.raises(Forbidden):
        ops.create_power(power_data(unit.department), actor=unit.head)
    with pytest.raises(Forbidden):
        ops.create_power(power_data(unit.department), actor=create_user("sys_admin"))


def test_update_audits_field_changes_and_checks_version(unit):
    power = make_power(unit, legal_bases=[{"law": "甲法", "article": "第一条", "clause": ""}])
    data = {**ops.power_state(power), "promised_days": 5, "version": power.version,
            "legal_bases": [{"law": "甲法", "article": "第一条", "clause": ""}, {"law": "乙条例", "article": "第二条"}]}
    changes = ops.update_power(power, data, actor=unit.editor)
    assert set(changes) == {"promised_days", "legal_bases"}
    assert [b.law for b in power.legal_bases] == ["甲法", "乙条例"]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "catalog.power.update"))
    assert entry.change_dict["promised_days"] == [10, 5]
    assert ops.update_power(power, {**ops.power_state(power), "version": power.version}, actor=unit.editor) == {}
    with pytest.raises(StaleEditError):
        ops.update_power(power, {**data, "version": 1, "name": "改名"}, actor=unit.editor)


def test_submitted_power_cannot_be_edited(unit):
    power = make_power(unit)
    ops.transition_power(power, "submit", actor=unit.editor)
    with pytest.raises(UserError):
        ops.update_power(power, {**ops.power_state(power), "name": "新名称", "version": power.version},
                         actor=unit.editor)


def test_publication_creates_an_immutable_snapshot(unit, inspector):
    power = publish(make_power(unit, category="cf", discretion_tiers=[
        {"name": "一般", "conditions": "首次", "measure": "罚款", "min": "0", "max": "1000", "unit": "元"},
        {"name": "严重", "conditions": "再犯", "measure": "罚款", "min": "1000", "max": "5000", "unit": "元"}]),
        unit, inspector)
    version = queries.current_version(power.id)
    assert power.state is S.PUBLISHED and power.published_number == 1 and version.number == 1
    data = version.data
    assert data["code"] == power.code and data["department_name"] == unit.department.name
    assert data["legal_bases"][0]["law"] == "中华人民共和国行政许可法"
    assert data["materials"] == [{"name": "申请书", "note": "原件1份"}]
    assert [t["max"] for t in data["discretion_tiers"]] == ["1000", "5000"]
    assert data["is_fee_charged"] is False and data["category_name"] == "行政处罚"
    assert [e.transition for e in history_for(power)] == ["submit", "approve", "publish"]


def test_editing_a_published_power_starts_a_revision_and_keeps_the_published_version(unit, inspector):
    power = publish(make_power(unit, name="原名称"), unit, inspector)
    ops.update_power(power, {**ops.power_state(power), "name": "新名称", "version": power.version}, actor=unit.editor)
    assert power.state is S.DRAFT and power.is_revision and power.is_on_portal
    public = queries.public_version(power.code)
    assert public.number == 1 and public.data["name"] == "原名称"
    publish(power, unit, inspector)
    public = queries.public_version(power.code)
    assert public.number == 2 and public.data["name"] == "新名称"
    old = queries.get_version(power.id, 1)
    assert not old.is_current and old.superseded_at == public.published_at
    rows = queries.diff_snapshots(old.data, public.data)
    assert [(r.label, r.before, r.after) for r in rows] == [("职权名称", "原名称", "新名称")]


def test_code_of_a_published_power_cannot_change(unit, inspector):
    power = publish(make_power(unit), unit, inspector)
    with pytest.raises(ops.PowerDataError):
        ops.update_power(power, {**ops.power_state(power), "code": "NEW-1", "version": power.version},
                         actor=unit.editor)


def test_discarding_a_revision_restores_the_published_content(unit, inspector):
    power = publish(make_power(unit, name="原名称"), unit, inspector)
    ops.update_power(power, {**ops.power_state(power), "name": "草稿名称", "version": power.version},
                     actor=unit.editor)
    ops.transition_power(power, "discard", actor=unit.editor)
    assert power.state is S.PUBLISHED and power.name == "原名称" and power.published_number == 1


def test_discard_needs_a_published_version(unit):
    power = make_power(unit)
    with pytest.raises(WorkflowError, match="尚未发布过"):
        ops.transition_power(power, "discard", actor=unit.editor)


def test_retiring_takes_the_power_off_the_portal_but_keeps_history(unit, inspector):
    power = publish(make_power(unit), unit, inspector)
    ops.transition_power(power, "retire", actor=inspector, comment="职能划转")
    assert power.state is S.RETIRED and power.published_number is None
    assert queries.public_version(power.code) is None
    assert queries.get_version(power.id, 1).superseded_at is not None
    assert db.session.get(Power, power.id) is not None


def test_catalog_on_a_date_comes_from_the_versions(unit, inspector):
    from govrisk.core.types import utcnow

    power = publish(make_power(unit, name="第一版名称"), unit, inspector)
    v1 = queries.get_version(power.id, 1)
    v1.published_at = utcnow() - timedelta(days=30)
    ops.update_power(power, {**ops.power_state(power), "name": "第二版名称", "version": power.version},
                     actor=unit.editor)
    publish(power, unit, inspector)
    v1.superseded_at = queries.get_version(power.id, 2).published_at = utcnow() - timedelta(days=10)
    filters = queries.PowerFilters(department_id=unit.department.id)
    names = lambda day: [v.name for v in queries.catalog_on(day, filters, None, page=1, per_page=50).items]  # noqa: E731
    assert names(date.today() - timedelta(days=40)) == []
    assert names(date.today() - timedelta(days=20)) == ["第一版名称"]
    assert names(date.today()) == ["第二版名称"]


def test_legal_basis_text_round_trip():
    entries = [{"law": "中华人民共和国食品安全法", "article": "第三十五条",
                "clause": "国家对食品生产经营实行许可制度；从事……"},
               {"law": "食品经营许可和备案管理办法", "article": "第四条", "clause": ""}]
    text = ops.format_legal_basis_text(entries)
    assert ops.parse_legal_basis_text(text) == entries
    assert ops.parse_legal_basis_text("《甲法》第一条；《乙法》第二条") == [
        {"law": "甲法", "article": "第一条", "clause": ""}, {"law": "乙法", "article": "第二条", "clause": ""}]
    assert ops.parse_legal_basis_text("某某规定") == [{"law": "某某规定", "article": "", "clause": ""}]


# -- every transition × role --------------------------------------------------------------------------------

ROLES = ("editor", "head", "inspector", "other_editor", "other_head", "sysadmin")
CASES = [  # transition, state before, roles allowed
    ("submit", "draft", {"editor"}),
    ("submit", "returned", {"editor"}),
    ("approve", "submitted", {"head"}),
    ("return", "submitted", {"head", "inspector"}),
    ("return", "dept_approved", {"head", "inspector"}),
    ("publish", "dept_approved", {"inspector"}),
    ("retire", "draft", {"head", "inspector"}),
    ("retire", "published", {"head", "inspector"}),
    ("discard", "revision", {"editor"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("transition,state,allowed", CASES)
def test_transition_matrix(transition, state, allowed, role, unit, inspector, create_department, create_user):
    other = create_department()
    actors = {"editor": unit.editor, "head": unit.head, "inspector": inspector,
              "other_editor": create_user("dept_editor", department=other),
              "other_head": create_user("dept_head", department=other), "sysadmin": create_user("sys_admin")}
    power = make_power(unit)
    path = {"draft": [], "submitted": ["submit"], "returned": ["submit", "return"],
            "dept_approved": ["submit", "approve"], "published": ["submit", "approve", "publish"]}
    steps_by = {"submit": unit.editor, "approve": unit.head, "return": unit.head, "publish": inspector}
    if state == "revision":
        publish(power, unit, inspector)
        ops.update_power(power, {**ops.power_state(power), "name": "修订", "version": power.version},
                         actor=unit.editor)
    else:
        for step in path[state]:
            ops.transition_power(power, step, actor=steps_by[step], comment="意见")
    before = power.state
    if role in allowed:
        ops.transition_power(power, transition, actor=actors[role], comment="意见")
        assert power.state is not before
    else:
        with pytest.raises(WorkflowError):
            ops.transition_power(power, transition, actor=actors[role], comment="意见")
        assert power.state is before


def test_return_needs_a_comment(unit):
    power = make_power(unit)
    ops.transition_power(power, "submit", actor=unit.editor)
    with pytest.raises(WorkflowError, match="必须填写意见"):
        ops.transition_power(power, "return", actor=unit.head, comment="  ")


def test_revise_is_not_a_button(unit, inspector):
    power = publish(make_power(unit), unit, inspector)
    with pytest.raises(UserError):
        ops.transition_power(power, "revise", actor=unit.editor)


def test_versions_are_never_changed_by_later_edits(unit, inspector):
    power = publish(make_power(unit), unit, inspector)
    snapshot = db.session.scalar(sa.select(PowerVersion.snapshot).where(PowerVersion.power_id == power.id))
    ops.update_power(power, {**ops.power_state(power), "phone": "0871-1", "version": power.version},
                     actor=unit.editor)
    assert db.session.scalar(sa.select(PowerVersion.snapshot).where(PowerVersion.power_id == power.id)) == snapshot
