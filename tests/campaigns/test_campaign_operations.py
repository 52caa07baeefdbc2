"""Reporting units, campaigns, reports and their figures: every rule that refuses bad input, and the audit trail."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govrisk.campaigns import operations as ops
from govrisk.campaigns import queries
from govrisk.campaigns.documents import mention_rows
from govrisk.campaigns.models import IndicatorValue, ReportingUnit, UnitReport, ValueSource
from govrisk.core.audit import AuditEntry
from govrisk.core.errors import Forbidden, StaleEditError, UserError
from govrisk.extensions import db
from tests.campaigns.conftest import BRANCH_TEXT, file_report


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


# --- units -------------------------------------------------------------------------------------------------------


def test_unit_tree_paths_follow_moves(world):
    assert world.branch.path == f"/{world.city.id}/{world.county.id}/{world.bank.id}/{world.branch.id}/"
    ops.update_unit(world.bank, {"code": "T-BANK", "name": "测试银行支行", "kind": "bank", "parent_id": world.city.id},
                    actor=None)
    assert world.branch.path == f"/{world.city.id}/{world.bank.id}/{world.branch.id}/"
    assert world.branch.reviewer_unit_id == world.bank.id and world.city.reviewer_unit_id == world.city.id


@pytest.mark.parametrize("new_parent", ["bank", "branch"])
def test_unit_cannot_move_under_itself(world, new_parent):
    with pytest.raises(UserError, match="循环"):
        ops.update_unit(world.bank, {"code": "T-BANK", "name": "x", "kind": "bank",
                                     "parent_id": getattr(world, new_parent).id}, actor=None)


def test_unit_code_is_unique_and_retire_needs_children_retired(world):
    with pytest.raises(UserError, match="已存在"):
        ops.create_unit({"code": "T-BANK", "name": "重复", "kind": "bank"}, actor=None)
    with pytest.raises(UserError, match="下级单位"):
        ops.retire_unit(world.bank, actor=None)
    ops.retire_unit(world.branch, actor=None)
    ops.retire_unit(world.branch2, actor=None)
    ops.retire_unit(world.bank, actor=None)
    assert world.bank.is_retired and db.session.get(ReportingUnit, world.bank.id) is not None


def test_membership_rules_and_audit(world, create_user):
    from govrisk.core.permissions import Role

    with pytest.raises(UserError, match="不存在"):
        ops.add_member(world.bank, "nobody", actor=None)
    with pytest.raises(UserError, match="单位填报员或单位负责人"):
        ops.add_member(world.bank, world.users.inspector.username, actor=None)
    with pytest.raises(UserError, match="已是"):
        ops.add_member(world.bank, world.users.bank_head.username, actor=None)
    member = ops.add_member(world.branch, world.users.bank_editor.username, actor=world.users.sysadmin)
    assert queries.is_member(world.users.bank_editor, world.branch.id)
    ops.remove_member(member, actor=world.users.sysadmin)
    assert not queries.is_member(world.users.bank_editor, world.branch.id)
    removed = _audit("campaigns.unit.member_remove")[-1]
    assert removed.actor_name == world.users.sysadmin.username
    assert removed.change_dict["user_id"] == [world.users.bank_editor.id, None]
    assert create_user(Role.DEPT_EDITOR, department=world.users.bank_head.department)  # sanity: factory works


def test_visibility_is_own_units_and_their_subtrees(world):
    u = world.users
    assert queries.can_see_unit(u.bank_head, world.branch)
    assert not queries.can_see_unit(u.branch_editor, world.bank)
    assert not queries.can_see_unit(u.branch_editor, world.branch2)
    assert queries.can_see_unit(u.inspector, world.outside)
    assert queries.can_see_campaign(u.branch_editor, world.campaign)
    assert not queries.can_see_campaign(u.outsider, world.campaign)


# --- campaigns ---------------------------------------------------------------------------------------------------


def _campaign_data(world, **changes):
    data = {"code": "T-X", "name": "测试", "theme": "", "kind": "publicity", "year": 2026,
            "start_on": date(2026, 6, 1), "end_on": date(2026, 6, 30), "central_day_on": None, "report_due_on": None,
            "issuing_body": "", "plan_doc_no": "", "target_groups": "", "venues": [], "description": "",
            "root_unit_id": world.county.id, "previous_id": None}
    return {**data, **changes}


@pytest.mark.parametrize("changes, field, message", [
    ({"end_on": date(2026, 5, 1)}, "end_on", "结束日期"),
    ({"central_day_on": date(2026, 7, 15)}, "central_day_on", "集中宣传日"),
    ({"year": 2027}, "year", "年度"),
    ({"venues": ["moon"]}, "venues", "宣传阵地"),
    ({"root_unit_id": 0}, "root_unit_id", "牵头单位"),
    ({"code": "T-2026"}, "code", "已存在"),
])
def test_campaign_refuses_bad_input(world, changes, field, message):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(type(world.campaign)))
    with pytest.raises(UserError, match=message) as info:
        ops.create_campaign(_campaign_data(world, **changes), actor=world.users.city_head)
    assert info.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(type(world.campaign))) == before


def test_previous_campaign_must_be_earlier_and_is_guessed(world):
    with pytest.raises(UserError, match="上年活动"):
        ops.create_campaign(_campaign_data(world, previous_id=world.campaign.id), actor=None)
    last_year = ops.create_campaign(_campaign_data(world, code="T-2025", year=2025, root_unit_id=world.city.id,
                                                   start_on=date(2025, 6, 1), end_on=date(2025, 6, 30)), actor=None)
    assert queries.guess_previous("publicity", 2026, world.city.id) == last_year
    assert queries.guess_previous("education", 2026, world.city.id) is None


def test_campaign_tree_cannot_shrink_below_its_reports(world):
    file_report(world, world.branch, world.users.branch_editor)
    data = _campaign_data(world, code="T-2026", root_unit_id=world.school.id, version=world.campaign.version)
    with pytest.raises(UserError, match="不能缩小"):
        ops.update_campaign(world.campaign, data, actor=world.users.city_head)


def test_campaign_management_scope(world):
    u = world.users
    assert world.campaign.can_manage(u.city_head) and world.campaign.can_manage(u.inspector)
    assert not world.campaign.can_manage(u.bank_head)  # a unit below the root does not run the city's campaign
    assert not world.campaign.can_manage(u.outsider)


# --- reports -----------------------------------------------------------------------------------------------------


def test_report_for_a_unit_outside_the_campaign_is_refused(world):
    with pytest.raises(UserError, match="不在本次活动"):
        ops.open_report(world.campaign, world.outside, actor=world.users.outsider)
    assert queries.report_for(world.campaign.id, world.outside.id) is None


def test_only_the_units_editors_open_and_edit_its_report(world):
    with pytest.raises(Forbidden):
        ops.open_report(world.campaign, world.branch, actor=world.users.bank_editor)
    report = ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor)
    assert ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor) is report
    with pytest.raises(Forbidden):
        ops.save_value(report, None, {"indicator": "leaflets", "value": "5"}, actor=world.users.bank_head)


@pytest.mark.parametrize("raw, expected", [
    ("1500", Decimal("1500")), ("1,500", Decimal("1500")), ("１５００", Decimal("1500")), ("1.5万", Decimal("15000")),
    ("三千", Decimal("3000")), ("一千五百", Decimal("1500")), ("0", Decimal("0")), ("2.25", Decimal("2.25")),
])
def test_parse_value_reads_what_people_type(raw, expected):
    assert ops.parse_value(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("-5", "负数"), ("－5", "负数"), ("abc", "不是有效的数字"), ("", "请填写"), ("12份", "不是有效的数字"),
    ("1e20", "不是有效的数字"), ("99999999999999999", "过大"),
])
def test_parse_value_refuses_clearly(raw, message):
    with pytest.raises(UserError, match=message):
        ops.parse_value(raw)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=12))
def test_parse_value_never_crashes_and_never_goes_negative(raw):
    try:
        value = ops.parse_value(raw)
    except UserError:
        return
    assert value >= 0


def test_save_extraction_is_all_or_nothing(world):
    editor = world.users.branch_editor
    report = ops.open_report(world.campaign, world.branch, actor=editor)
    rows = mention_rows(BRANCH_TEXT)["rows"]
    assert [r["indicator"] for r in rows] == ["banners", "leaflets", "consultations", "leaflets"]
    bad = [dict(r) for r in rows]
    bad[2]["value"] = "-45"
    with pytest.raises(UserError, match="第 3 个数字：数值不能为负数"):
        ops.save_extraction(report, BRANCH_TEXT, bad, actor=editor)
    assert queries.report_values(report.id) == [] and report.narrative == ""
    unknown = [dict(r) for r in rows]
    unknown[0]["indicator"] = "rockets"
    with pytest.raises(UserError, match="未知的指标"):
        ops.save_extraction(report, BRANCH_TEXT, unknown, actor=editor)
    rows[0]["keep"] = False  # dropped
    rows[1]["indicator"], rows[1]["label"] = "custom", "环保袋"  # corrected to a custom indicator
    rows[2]["value"], rows[2]["is_approx"] = "50", True  # corrected value, marked approximate
    saved = ops.save_extraction(report, BRANCH_TEXT, rows, actor=editor)
    assert [(v.indicator, v.label, v.value, v.is_approx) for v in saved] == [
        ("custom", "环保袋", Decimal("300"), True), ("consultations", "", Decimal("50"), True),
        ("leaflets", "", Decimal("500"), True)]
    assert all(BRANCH_TEXT[v.text_start:v.text_end] == v.phrase for v in saved)
    assert report.narrative == BRANCH_TEXT
    entry = _audit("campaigns.report.extraction")[-1]
    assert entry.actor_name == editor.username and len(entry.change_dict["figures"][1]) == 3


def test_extraction_replaces_text_figures_but_keeps_manual_ones(world):
    editor = world.users.branch_editor
    report = file_report(world, world.branch, editor)
    ops.save_value(report, None, {"indicator": "trainees", "value": "18", "unit": "人次"}, actor=editor)
    text = "本月发放宣传资料100份。"
    ops.save_extraction(report, text, mention_rows(text)["rows"], actor=editor)
    values = queries.report_values(report.id)
    assert sorted((v.indicator, v.value, v.source) for v in values) == [
        ("leaflets", Decimal("100"), ValueSource.TEXT), ("trainees", Decimal("18"), ValueSource.MANUAL)]


def test_tampered_offsets_are_not_trusted(world):
    editor = world.users.branch_editor
    report = ops.open_report(world.campaign, world.branch, actor=editor)
    row = {"keep": True, "indicator": "leaflets", "value": "5", "unit": "份", "start": 900, "end": 950,
           "phrase": "伪造"}
    saved = ops.save_extraction(report, "短文本。", [row], actor=editor)
    assert saved[0].text_start is None and saved[0].phrase == "伪造"


def test_report_cannot_change_once_submitted(world):
    report = file_report(world, world.branch, world.users.branch_editor, state="submitted")
    for change in (lambda: ops.save_value(report, None, {"indicator": "leaflets", "value": "1"},
                                          actor=world.users.branch_editor),
                   lambda: ops.update_report_texts(report, {"leadership": "x"}, actor=world.users.branch_editor),
                   lambda: ops.save_extraction(report, "发放宣传资料1份。", [], actor=world.users.branch_editor)):
        with pytest.raises(UserError, match="已报送"):
            change()


def test_texts_use_optimistic_locking(world):
    report = ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor)
    ops.update_report_texts(report, {"leadership": "甲", "version": report.version}, actor=world.users.branch_editor)
    with pytest.raises(StaleEditError):
        ops.update_report_texts(report, {"leadership": "乙", "version": 1}, actor=world.users.branch_editor)
    assert report.leadership == "甲"


def test_activity_validation(world):
    report = ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor)
    good = {"held_on": date(2026, 6, 15), "activity_type": "branch_hall", "venue": "营业厅", "audience": "客户",
            "description": "厅堂宣传"}
    with pytest.raises(UserError, match="活动形式"):
        ops.save_activity(report, None, {**good, "activity_type": "party"}, actor=world.users.branch_editor)
    with pytest.raises(UserError, match="相差太远"):
        ops.save_activity(report, None, {**good, "held_on": date(2019, 1, 1)}, actor=world.users.branch_editor)
    activity = ops.save_activity(report, None, good, actor=world.users.branch_editor)
    ops.remove_activity(activity, actor=world.users.branch_editor)
    assert queries.report_activities(report.id) == []
    assert _audit("campaigns.activity.remove")[-1].change_dict["description"] == ["厅堂宣传", None]


# --- totals and roll-up ------------------------------------------------------------------------------------------


def test_report_totals_prefer_the_texts_own_total(world):
    report = file_report(world, world.branch, world.users.branch_editor)
    totals = {row.identity: row.total for row in queries.report_totals(report)}
    assert totals[("leaflets", "")] == queries.Total(Decimal("500"), True)  # 共…500余份, not 300 + 500
    assert totals[("banners", "")] == queries.Total(Decimal("2"), False)


def _rollup(world, unit, **kwargs):
    result = queries.rollup(world.campaign, unit, **kwargs)
    return {row.identity: row for row in result.rows}, result


def test_rollup_counts_the_units_own_report_and_accepted_sub_reports(world):
    u = world.users
    file_report(world, world.branch, u.branch_editor, state="accepted", reviewer=u.bank_head)
    file_report(world, world.branch2, u.branch2_editor, "发放宣传资料200份，悬挂横幅3条。", state="submitted")
    file_report(world, world.bank, u.bank_editor, "支行发放宣传资料1000份。")  # the bank's own draft
    rows, result = _rollup(world, world.bank)
    leaflets = rows[("leaflets", "")]
    assert leaflets.total == queries.Total(Decimal("1500"), True)  # 1000 (own) + 500余 (accepted branch)
    assert leaflets.by_bucket == {None: queries.Total(Decimal("1000")), world.branch.id: queries.Total(Decimal("500"),
                                                                                                         True)}
    assert result.reports_counted == 2
    rows, result = _rollup(world, world.bank, include_submitted=True)
    assert rows[("leaflets", "")].total.value == Decimal("1700") and rows[("banners", "")].total.value == 5
    rows, _ = _rollup(world, world.county)  # the bank's own report is not accepted by the county yet
    assert rows[("leaflets", "")].by_bucket == {world.bank.id: queries.Total(Decimal("500"), True)}


def test_rollup_comparison_with_last_year(world):
    u = world.users
    last = ops.create_campaign(_campaign_data(world, code="T-2025", year=2025, root_unit_id=world.city.id,
                                              start_on=date(2025, 6, 1), end_on=date(2025, 6, 30)), actor=None)
    world.campaign.previous_id = last.id
    db.session.flush()
    file_report(world, world.branch, u.branch_editor, "发放宣传资料400份，开展讲座2场。", state="accepted",
                reviewer=u.bank_head, campaign=last)
    file_report(world, world.branch, u.branch_editor, state="accepted", reviewer=u.bank_head)
    rows, result = _rollup(world, world.bank)
    assert result.previous_campaign == last
    assert rows[("leaflets", "")].previous == queries.Total(Decimal("400"))
    assert rows[("leaflets", "")].change == Decimal("100") and round(rows[("leaflets", "")].change_pct) == 25
    assert rows[("events", "")].total == queries.Total() and rows[("events", "")].previous.value == 2
    assert rows[("banners", "")].previous is None and rows[("banners", "")].change is None


def test_custom_indicators_roll_up_by_name(world):
    u = world.users
    for unit, editor, value in ((world.branch, u.branch_editor, "3"), (world.branch2, u.branch2_editor, "4")):
        report = ops.open_report(world.campaign, unit, actor=editor)
        ops.save_value(report, None, {"indicator": "custom", "label": "环保袋", "value": value, "unit": "个"},
                       actor=editor)
        ops.transition_report(report, "submit", actor=editor)
        ops.transition_report(report, "accept", actor=u.bank_head)
    rows, _ = _rollup(world, world.county)
    assert rows[("custom", "环保袋")].total.value == 7 and rows[("custom", "环保袋")].title == "环保袋"


def test_coverage_counts_units_per_sub_unit(world):
    u = world.users
    file_report(world, world.branch, u.branch_editor, state="accepted", reviewer=u.bank_head)
    file_report(world, world.school, u.school_editor, "发放宣传资料50份。", state="submitted")
    coverage = {c.name: c for c in queries.coverage(world.campaign, world.county)}
    bank = coverage[world.bank.name]
    assert bank.units == 3 and bank.counts == {"none": 2, "accepted": 1}
    assert coverage[world.school.name].counts == {"submitted": 1}


# --- import ------------------------------------------------------------------------------------------------------


def _import(world, csv_text: str, actor):
    importer = ops.IndicatorImporter(world.campaign, actor)
    return importer, importer.preview(csv_text.encode("utf-8"), "values.csv", max_bytes=10_000)


def test_import_reports_every_bad_row_and_writes_nothing(world):
    text = ("unit_code,indicator,value,approx,label,unit\n"
            "T-BR1,leaflets,300,是,,份\n"
            "T-BR1,rockets,3,,,\n"
            "T-OUT,leaflets,3,,,\n"
            "T-BR2,leaflets,3,,,\n"
            "T-BR1,banners,-2,,,\n"
            "T-BR1,宣传资料,5,,,\n"
            "NOPE,leaflets,1,,,\n"
            "T-BR1,custom,2,,,\n")
    importer, preview = _import(world, text, world.users.branch_editor)
    errors = {r.line: "；".join(r.errors) for r in preview.bad_rows}
    assert set(errors) == {3, 4, 5, 6, 7, 8, 9}
    assert "未知的指标" in errors[3] and "不在本次活动范围内" in errors[4]
    assert "不是“测试人民路分理处”的填报人员" in errors[5]
    assert "负数" in errors[6] and "重复" in errors[7] and "不存在" in errors[8] and "指标名称" in errors[9]
    with pytest.raises(UserError, match="未写入任何数据"):
        importer.run(text.encode("utf-8"), "values.csv", actor=world.users.branch_editor, max_bytes=10_000)
    assert queries.report_for(world.campaign.id, world.branch.id) is None


def test_import_creates_then_updates_then_changes_nothing(world):
    editor = world.users.branch_editor
    text = "unit_code,indicator,value,approx,label,unit\nT-BR1,宣传资料,300,是,,份\nT-BR1,custom,5,,环保袋,个\n"
    importer, preview = _import(world, text, editor)
    assert [r.action for r in preview.rows] == ["create", "create"]
    importer.run(text.encode(), "v.csv", actor=editor, max_bytes=10_000)
    report = queries.report_for(world.campaign.id, world.branch.id)
    assert sorted((v.indicator, v.value, v.is_approx, v.source) for v in queries.report_values(report.id)) == [
        ("custom", Decimal("5"), False, ValueSource.IMPORT), ("leaflets", Decimal("300"), True, ValueSource.IMPORT)]
    _, again = _import(world, text, editor)
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]
    _, changed = _import(world, text.replace("300", "350"), editor)
    assert [r.action for r in changed.rows] == ["update", "unchanged"]


def test_import_into_a_submitted_report_is_refused(world):
    file_report(world, world.branch, world.users.branch_editor, state="submitted")
    _, preview = _import(world, "unit_code,indicator,value\nT-BR1,leaflets,3\n", world.users.branch_editor)
    assert "已报送" in preview.bad_rows[0].errors[0]


# --- education ---------------------------------------------------------------------------------------------------


def _session(department, held_on, form="warning_education", attendance=30, **extra):
    return {"department_id": department.id, "held_on": held_on, "topic": "警示教育", "form": form,
            "attendance": attendance, "speaker": "", "notes": "", "campaign_id": None, **extra}


def test_education_stats_for_a_department_and_year(create_department, create_user):
    from govrisk.core.permissions import Role

    bureau = create_department()
    office = create_department(parent=bureau)
    editor = create_user(Role.DEPT_EDITOR, department=bureau)
    ops.save_session(None, _session(bureau, date(2026, 3, 5), "four_meetings_one_lesson", 40), actor=editor)
    ops.save_session(None, _session(bureau, date(2026, 3, 20), "warning_education", 50), actor=editor)
    ops.save_session(None, _session(bureau, date(2026, 9, 1), "warning_education", 45), actor=editor)
    ops.save_session(None, _session(bureau, date(2025, 12, 30), "special_training", 99), actor=editor)
    retired = ops.save_session(None, _session(bureau, date(2026, 5, 5), "special_training", 77), actor=editor)
    ops.retire_session(retired, actor=editor)
    ops.save_session(None, _session(office, date(2026, 4, 1), "party_lecture", 12), actor=editor)
    stats = queries.education_stats(bureau.id, 2026)
    assert stats["sessions"] == 3 and stats["attendance"] == 135 and stats["months"] == 2
    assert stats["last_held_on"] == date(2026, 9, 1)
    assert stats["by_form"]["warning_education"] == {"title": "警示教育", "sessions": 2, "attendance": 95}
    assert "special_training" not in stats["by_form"]
    with_units = queries.education_stats(bureau.id, 2026, include_subunits=True)
    assert with_units["sessions"] == 4 and with_units["attendance"] == 147
    empty = queries.education_stats(office.id, 2024)
    assert empty["sessions"] == 0 and empty["by_form"] == {} and empty["last_held_on"] is None


@pytest.mark.parametrize("changes, message", [
    ({"attendance": -1}, "负数"), ({"form": "karaoke"}, "教育形式"), ({"topic": "  "}, "主题"),
])
def test_education_refuses_bad_input(create_department, create_user, changes, message):
    from govrisk.core.permissions import Role

    bureau = create_department()
    editor = create_user(Role.DEPT_EDITOR, department=bureau)
    with pytest.raises(UserError, match=message):
        ops.save_session(None, _session(bureau, date(2026, 3, 5), **changes), actor=editor)


def test_education_only_for_own_departments(create_department, create_user):
    from govrisk.core.permissions import Role

    own, other = create_department(), create_department()
    editor = create_user(Role.DEPT_EDITOR, department=own)
    with pytest.raises(Forbidden):
        ops.save_session(None, _session(other, date(2026, 3, 5)), actor=editor)


def test_unit_report_rows_are_unique_per_campaign_and_unit(world):
    report = ops.open_report(world.campaign, world.branch, actor=world.users.branch_editor)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitReport).where(
        UnitReport.unit_id == world.branch.id)) == 1
    assert report.values == [] and isinstance(report.id, int)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)) == 0
