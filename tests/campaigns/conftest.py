"""A small campaign world: city → county → bank → two branches (and a school), their accounts, one campaign."""

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import pytest

from govrisk.core.permissions import Role

BRANCH_TEXT = ("6月15日，东大街分理处在营业厅开展防范非法集资宣传，悬挂横幅2条，发放宣传资料300余份，"
               "接受咨询群众45人次。活动中共发放宣传资料500余份。")


@dataclass
class World:
    city: object
    county: object
    bank: object
    branch: object
    branch2: object
    school: object
    outside: object
    campaign: object
    users: SimpleNamespace


@pytest.fixture
def world(create_department, create_user):
    from govrisk.campaigns import operations as ops

    department = create_department(code="T-EXT", name="社会报送单位", kind="other")

    def unit(code, name, kind, parent=None):
        return ops.create_unit({"code": code, "name": name, "kind": kind,
                                "parent_id": parent.id if parent else None}, actor=None)

    city = unit("T-CITY", "测试市处非办", "city")
    county = unit("T-CTY", "测试区处非办", "county", city)
    bank = unit("T-BANK", "测试银行支行", "bank", county)
    branch = unit("T-BR1", "测试东大街分理处", "branch", bank)
    branch2 = unit("T-BR2", "测试人民路分理处", "branch", bank)
    school = unit("T-SCH", "测试实验小学", "school", county)
    outside = unit("T-OUT", "另一个市", "city")

    def user(*roles, units, name=None):
        account = create_user(*roles, department=department, username=name)
        for u in units:
            ops.add_member(u, account.username, actor=None)
        return account

    users = SimpleNamespace(
        city_head=user(Role.DEPT_HEAD, Role.DEPT_EDITOR, units=[city], name="t_city"),
        county_head=user(Role.DEPT_HEAD, units=[county], name="t_county_head"),
        county_editor=user(Role.DEPT_EDITOR, units=[county], name="t_county_editor"),
        bank_head=user(Role.DEPT_HEAD, units=[bank], name="t_bank_head"),
        bank_editor=user(Role.DEPT_EDITOR, units=[bank], name="t_bank_editor"),
        branch_editor=user(Role.DEPT_EDITOR, units=[branch], name="t_branch"),
        branch2_editor=user(Role.DEPT_EDITOR, units=[branch2], name="t_branch2"),
        school_editor=user(Role.DEPT_EDITOR, units=[school], name="t_school"),
        outsider=user(Role.DEPT_EDITOR, Role.DEPT_HEAD, units=[outside], name="t_outsider"),
        inspector=create_user(Role.INSPECTOR, username="t_inspector"),
        sysadmin=create_user(Role.SYS_ADMIN, username="t_sysadmin"),
    )
    campaign = ops.create_campaign({
        "code": "T-2026", "name": "2026年测试宣传月", "theme": "守住钱袋子 护好幸福家", "kind": "publicity",
        "year": 2026, "start_on": date(2026, 6, 1), "end_on": date(2026, 6, 30), "central_day_on": date(2026, 6, 15),
        "report_due_on": date(2026, 7, 10), "issuing_body": "测试市处非办", "plan_doc_no": "测处非办〔2026〕3号",
        "target_groups": "老年人", "venues": ["communities"], "description": "", "root_unit_id": city.id,
        "previous_id": None}, actor=users.city_head)
    return World(city, county, bank, branch, branch2, school, outside, campaign, users)


def file_report(world, unit, editor, text=BRANCH_TEXT, *, state="draft", reviewer=None, campaign=None):
    """A report built from text with every figure kept, taken to `state` through the workflow."""
    from govrisk.campaigns import operations as ops
    from govrisk.campaigns.documents import mention_rows

    report = ops.open_report(campaign or world.campaign, unit, actor=editor)
    ops.save_extraction(report, text, mention_rows(text)["rows"], actor=editor)
    if state in ("submitted", "accepted", "returned"):
        ops.transition_report(report, "submit", actor=editor)
    if state == "accepted":
        ops.transition_report(report, "accept", actor=reviewer)
    if state == "returned":
        ops.transition_report(report, "return", actor=reviewer, comment="请补充数据")
    return report
