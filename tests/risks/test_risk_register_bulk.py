"""The 登记表 at city scale: the import writes in batches (multi-row INSERTs, one audit batch per WRITE_BATCH rows)
and must give exactly what writing row by row through the operations gives; the export streams its rows and must
list exactly the points in scope, as the records say."""

import io
import json
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from govrisk.catalog.models import Power
from govrisk.core.audit import AuditEntry, verify_chain
from govrisk.extensions import db
from govrisk.risks import operations as ops
from govrisk.risks import registers
from govrisk.risks.models import ControlMeasure, RiskPoint
from govrisk.risks.registers import COLUMNS, EXTRA_COLUMNS, RiskRegisterImporter, register_xlsx
from govrisk.workflow.register import RegisterState
from tests.risks.conftest import advance, make_point

MAX = 10 * 1024 * 1024
HEADER = [*COLUMNS, *EXTRA_COLUMNS[:8]]


def workbook(rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["某局廉政风险点登记表"])
    sheet.append(HEADER)
    for values in rows:
        sheet.append([values.get(c, "") for c in HEADER])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def line(unit, name: str, **overrides) -> dict:
    values = {"单位/科室": unit.department.name, "岗位": "分管领导", "职权": unit.power.name, "环节": "决定",
              "风险点": name, "表现形式": "接受请托", "风险类型": "岗位职责/重点权力", "风险等级": "二级",
              "防控措施": "1.【分权制衡】集体研究", "责任人": unit.people["张"].name, "监督人": unit.people["李"].name}
    values.update(overrides)
    return values


def snapshot(first_seq: int) -> dict:
    """Points, measures and audit entries written since `first_seq`, with ids replaced by what they name (ids
    differ between two runs on PostgreSQL, whose sequences do not roll back)."""
    points = db.session.scalars(sa.select(RiskPoint).order_by(RiskPoint.id)).all()
    measures = db.session.scalars(sa.select(ControlMeasure).order_by(ControlMeasure.id)).all()
    point_names = {p.id: p.code for p in points}
    measure_names = {m.id: f"{point_names[m.risk_point_id]}/{n}" for n, m in enumerate(measures)}
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.seq >= first_seq)
                                 .order_by(AuditEntry.seq)).all()
    columns = [c.key for c in RiskPoint.__table__.columns if c.key not in ("id", "created_at", "updated_at")]
    return {
        "points": [{c: str(getattr(p, c)) for c in columns} for p in points],
        "measures": [(point_names[m.risk_point_id], m.measure_type, m.description, m.status.value, m.department_id,
                      m.version) for m in measures],
        "audit": [(e.action, e.target_type,
                   (point_names if e.target_type == "risk_points" else measure_names).get(e.target_id),
                   re.sub(r"#\d+$", "#", e.target_label), e.change_dict, e.actor_id, e.seq - first_seq)
                  for e in entries],
    }


def one_by_one(preview, actor) -> None:
    """The writing as it was: every row through create_risk_point / update_risk_point / create_measure."""
    for row in sorted((r for r in preview.rows if r.action != "unchanged"), key=lambda r: r.line):
        values = row.data["values"]
        if row.data["point_id"] is None:
            point = ops.create_risk_point(values, actor=actor)
        else:
            point = db.session.get(RiskPoint, row.data["point_id"])
            ops.update_risk_point(point, {**values, "version": point.version}, actor=actor)
        for measure in row.data["measures"]:
            ops.create_measure(point, measure, actor=actor)
    db.session.flush()


def assert_import_as_one_by_one(data: bytes, actor) -> dict:
    importer = RiskRegisterImporter(actor)
    preview = importer.preview(data, "x.xlsx", max_bytes=MAX)
    assert preview.ok, [(r.line, r.errors) for r in preview.bad_rows]
    first_seq = (db.session.scalar(sa.select(sa.func.max(AuditEntry.seq))) or 0) + 1
    savepoint = db.session.begin_nested()
    importer.run(data, "x.xlsx", actor=actor, max_bytes=MAX)
    batched = snapshot(first_seq)
    assert verify_chain().ok
    savepoint.rollback()
    savepoint = db.session.begin_nested()
    one_by_one(preview, actor)
    expected = snapshot(first_seq)
    savepoint.rollback()
    assert batched == expected
    return batched


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(registers, "WRITE_BATCH", 4)
    monkeypatch.setattr(registers, "LOOKUP_CHUNK", 3)


def test_many_rows_on_the_same_power_post_and_people_as_one_by_one(unit, small_batches):
    rows = [line(unit, f"风险点{i}", 防控措施=f"1.【分权制衡】集体研究{i}\n2. 全程留痕") for i in range(11)]
    rows[3]["防控措施"] = "1.【制度】同一条\n2.【制度】同一条"  # two equal measures on one point
    rows[5].update(环节="", 环节编号="review", 岗位="")  # the step by its id; the post then comes from the step
    rows[7].update(监督人="", 风险等级="")
    written = assert_import_as_one_by_one(workbook(rows), unit.editor)
    assert len(written["points"]) == 11 and len(written["measures"]) == 22
    assert [a[0] for a in written["audit"][:4]] == ["risks.point.create", "risks.measure.create",
                                                    "risks.measure.create", "risks.point.create"]
    posts = {str(unit.posts["分管领导"].id), str(unit.step("review").post_id)}
    assert {p["post_id"] for p in written["points"]} == posts
    assert len({p["code"] for p in written["points"]}) == 11


def test_creates_and_updates_mixed_across_batches_as_one_by_one(unit, inspector, small_batches):
    draft = make_point(unit, name="已有草稿")
    by_code = make_point(unit, name="按编码更新")
    returned = advance(make_point(unit, name="已退回的"), "returned", unit, inspector)
    ops.create_measure(returned, {"measure_type": "sod", "description": "已有措施"}, actor=unit.editor)
    rows = [line(unit, "新一"), line(unit, "已有草稿", 表现形式="改了"),
            line(unit, "新名字", 风险点编码=by_code.code, 防控措施="1.【制度】新增"),
            line(unit, "已退回的", 防控措施="1.【分权制衡】已有措施\n2.【制度】再加一条"),
            line(unit, "新二", 防控措施=""), line(unit, "新三")]
    written = assert_import_as_one_by_one(workbook(rows), unit.editor)
    create, update, measure = "risks.point.create", "risks.point.update", "risks.measure.create"
    assert [a[0] for a in written["audit"]] == [create, measure, update, measure, update, measure, update, measure,
                                                create, create, measure]
    assert draft.id and returned.state is RegisterState.RETURNED


@pytest.mark.parametrize("sub_first", [False, True])
def test_codes_follow_the_one_by_one_rule_with_nested_department_codes(unit, create_department, small_batches,
                                                                        sub_first):
    """FX-<code>- prefixes can nest (R-D01 and R-D01-X): the codes handed out in a batch follow the rule of
    `_next_code` exactly as if each point had been stored before the next was numbered."""
    sub = create_department(code=f"{unit.department.code}-X", name="嵌套编码科", parent=unit.department)
    power = Power(code=f"{unit.power.code}-X", name="嵌套编码许可", category="xk", department_id=sub.id,
                  statutory_days=20, promised_days=20, state=RegisterState.PUBLISHED, published_number=1)
    db.session.add(power)
    db.session.flush()
    gap = make_point(unit, name="编号有空档")
    gap.code = f"FX-{unit.department.code}-0007"  # the greatest code then says 8, the count says 2
    db.session.flush()
    plain = {"岗位": "", "环节": "", "责任人": "", "防控措施": ""}
    rows = []
    for i in range(5):
        below = {**line(unit, f"下级{i}", **plain), "单位/科室": sub.name, "职权": power.name, "监督人": ""}
        above = line(unit, f"上级{i}", **plain)
        rows += [below, above] if sub_first == (i % 2 == 0) else [above, below]
    written = assert_import_as_one_by_one(workbook(rows), unit.editor)
    codes = [p["code"] for p in written["points"]][1:]
    parent, child = f"FX-{unit.department.code}-", f"FX-{sub.code}-"
    assert codes[:4] == ([f"{child}0001", f"{parent}0002", f"{parent}0003", f"{child}0002"] if sub_first else
                         [f"{parent}0008", f"{child}0001", f"{child}0002", f"{parent}0003"])
    assert len(set(codes)) == 10


def test_an_import_of_the_same_file_again_changes_nothing(unit):
    data = workbook([line(unit, f"点{i}") for i in range(5)])
    RiskRegisterImporter(unit.editor).run(data, "x.xlsx", actor=unit.editor, max_bytes=MAX)
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    preview = RiskRegisterImporter(unit.editor).run(data, "x.xlsx", actor=unit.editor, max_bytes=MAX)
    assert preview.count("unchanged") == 5
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


def test_the_import_refuses_what_one_by_one_refuses(unit, other_unit):
    rows = [line(unit, "好"), line(other_unit, "他局的职权", 单位="x")]
    preview = RiskRegisterImporter(unit.editor).preview(workbook(rows), "x.xlsx", max_bytes=MAX)
    assert [r.line for r in preview.bad_rows] == [4]


# ---------------------------------------------------------------- export


def export_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=3, values_only=True))


def test_the_export_of_a_department_lists_exactly_its_points(make_unit, inspector):
    top = make_unit()
    sub = make_unit(parent=top.department)
    other = make_unit()
    ours = [make_point(top, name=f"本局{i}") for i in range(3)] + [make_point(sub, name="下属单位的")]
    make_point(other, name="别的单位的")
    advance(make_point(top, name="已停用的"), "retired", top, inspector)
    ops.create_measure(ours[0], {"measure_type": "sod", "description": "集体研究"}, actor=top.editor)
    ops.create_measure(ours[0], {"measure_type": "institution", "description": "全程\r\n留痕 & <记录>"},
                       actor=top.editor)
    rows = export_rows(register_xlsx(None, department_id=top.department.id))
    assert sorted(r[19] for r in rows) == sorted(p.code for p in ours)
    assert [r[0] for r in rows] == list(range(1, 5))
    first = next(r for r in rows if r[19] == ours[0].code)
    assert first[9] == "1.【分权制衡】集体研究\n2.【制度】全程\r\n留痕 & <记录>"
    city = export_rows(register_xlsx(None))
    assert {r[19] for r in city} == {p.code for p in db.session.scalars(sa.select(RiskPoint)).all()
                                     if p.state is not RegisterState.RETIRED}
    scoped = export_rows(register_xlsx({sub.department.id}))
    assert [r[19] for r in scoped] == [ours[3].code]


def test_export_rows_say_what_the_records_say(unit, inspector):
    point = advance(make_point(unit), "confirmed", unit, inspector, level=1, reason="上调")
    ops.create_measure(point, {"measure_type": "sod", "description": "集体研究决定"}, actor=unit.editor)
    bare = make_point(unit, name=" 前后有空格 ", step_id="", post_id="", responsible_id="", supervisor_id="",
                      likelihood="", severity="", discretion="", methods=[], indicator="")
    names = registers._names()
    expected = {}
    for p in (point, bare):
        section = p.post.section if p.post is not None else None
        expected[p.code] = [p.department.name + (f"/{section.name}" if section else ""),
                            p.post.name if p.post else "", p.power.name, p.step.name if p.step else "", p.name,
                            p.manifestation, names["types"].get(p.risk_type), registers.level_title_zh(p.level),
                            "\n".join(f"{i}.【{names['measures'][m.measure_type]}】{m.description}"
                                      for i, m in enumerate(p.measures, start=1)),
                            p.responsible.name if p.responsible else "", p.supervisor.name if p.supervisor else "",
                            p.likelihood, p.severity, p.discretion.zh if p.discretion else "",
                            "、".join(names["methods"][k] for k in p.method_keys), p.indicator, p.power.code,
                            p.step_key or "", p.code, p.state.zh]
    for row in export_rows(register_xlsx(None, department_id=unit.department.id)):
        assert [v if v is not None else "" for v in row[1:]] == \
            [v if v is not None else "" for v in expected[row[19]]]


def test_the_streamed_sheet_is_the_one_openpyxl_writes(tmp_path):
    """save_streamed writes the same cells, types and styles as openpyxl's write-only mode cell by cell."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    from govrisk.core.xlsx import save_streamed

    values = [[1, " 空格 ", "=SUM(A1)", None, "", 2.5, True, "a&b<c>\r\nd\te", 12345678901234567, "末"],
              [2, "控制\x01字符", "中文"]]

    def build(streamed: bool) -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("表")
        sheet.column_dimensions["B"].width = 30
        sheet.freeze_panes = "A2"

        def cell(value, head=False):
            c = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                c.data_type = "s"
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if head:
                c.font = Font(bold=True)
            return c

        sheet.append([cell("标题", head=True)])
        if streamed:
            return save_streamed(book, sheet, values, style_cell=cell)
        for row in values:
            sheet.append([cell(v.replace("\x01", "") if isinstance(v, str) else v) for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def cells(data: bytes) -> list:
        sheet = load_workbook(io.BytesIO(data)).active
        return [sheet.freeze_panes, sheet.column_dimensions["B"].width,
                *[[(c.coordinate, c.value, c.data_type, c.alignment.wrap_text, c.alignment.vertical, c.font.b)
                   for c in row] for row in sheet.iter_rows()]]

    assert cells(build(True)) == cells(build(False))
    assert json.dumps(cells(build(True)), ensure_ascii=False, default=str).count("控制字符") == 1
