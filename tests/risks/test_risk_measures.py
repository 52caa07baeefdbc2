"""Control measures: their workflow by role, evidence and attachments (type by content, size), overdue marking by
`govrisk tick`, residual risk after verification."""

import io
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from govrisk.core.errors import Forbidden, StaleEditError, UserError, WorkflowError
from govrisk.extensions import db
from govrisk.risks import operations as ops
from govrisk.risks.attachments import check_upload, clean_filename, sniff
from govrisk.risks.models import ControlMeasure, GradeKind, MeasureAttachment
from govrisk.risks.workflow import MeasureStatus as M
from govrisk.workflow import engine
from tests.risks.conftest import advance, make_point

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def ooxml(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{part}document.xml", "<x/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.exe", "MZ")
    return buffer.getvalue()


def add_measure(unit, point=None, **overrides):
    point = point or make_point(unit)
    data = {"measure_type": "procedure_control", "description": "审查与决定分离", "owner_id": unit.people["张"].id,
            "due_on": date.today() + timedelta(days=30), "evidence": ""}
    data.update(overrides)
    return ops.create_measure(point, data, actor=unit.editor)


def test_create_measure_and_its_checks(unit, other_unit):
    measure = add_measure(unit)
    assert measure.status is M.PLANNED and measure.department_id == unit.department.id
    with pytest.raises(ops.RiskDataError) as exc:
        add_measure(unit, measure.risk_point, measure_type="magic", description="", due_on="2026-13-40",
                    owner_id=other_unit.people["张"].id)
    errors = exc.value.details["errors"]
    assert set(errors) == {"measure_type", "description", "due_on", "owner_id"}
    with pytest.raises(Forbidden):
        ops.create_measure(measure.risk_point, {"measure_type": "education", "description": "x"},
                           actor=other_unit.editor)


def test_measure_edit_uses_optimistic_locking(unit):
    measure = add_measure(unit)
    data = {"measure_type": "education", "description": "警示教育", "due_on": None, "version": 1}
    ops.update_measure(measure, data, actor=unit.editor)
    with pytest.raises(StaleEditError):
        ops.update_measure(measure, {**data, "description": "另一个"}, actor=unit.editor)
    assert measure.description == "警示教育"


ROLES = ("editor", "head", "inspector", "other_editor")
MEASURE_TRANSITIONS = [
    ("start", M.PLANNED, {"editor", "head"}),
    ("implement", M.IN_PROGRESS, {"editor", "head"}),
    ("verify", M.IMPLEMENTED, {"inspector"}),
    ("reject", M.IMPLEMENTED, {"inspector"}),
    ("rework", M.INEFFECTIVE, {"editor", "head"}),
    ("verify", M.PLANNED, set()),
    ("start", M.VERIFIED, set()),
]
PATH = {M.PLANNED: [], M.IN_PROGRESS: ["start"], M.IMPLEMENTED: ["start", "implement"],
        M.INEFFECTIVE: ["start", "implement", "reject"], M.VERIFIED: ["start", "implement", "verify"]}


def _walk(measure, status, unit, inspector):
    for name in PATH[status]:
        actor = inspector if name in ("verify", "reject") else unit.editor
        ops.transition_measure(measure, name, actor=actor, comment="无效" if name == "reject" else None)


@pytest.mark.parametrize(("name", "status", "allowed"), MEASURE_TRANSITIONS)
@pytest.mark.parametrize("role", ROLES)
def test_measure_transition_by_role(unit, other_unit, inspector, name, status, allowed, role):
    measure = add_measure(unit, evidence="已落实")
    _walk(measure, status, unit, inspector)
    actor = {"editor": unit.editor, "head": unit.head, "inspector": inspector, "other_editor": other_unit.editor}[role]
    if role in allowed:
        ops.transition_measure(measure, name, actor=actor, comment="意见")
        assert measure.status is not status
    else:
        with pytest.raises(WorkflowError):
            ops.transition_measure(measure, name, actor=actor, comment="意见")
        assert measure.status is status


def test_implementing_needs_evidence_and_dates_it(unit, inspector):
    measure = add_measure(unit)
    with pytest.raises(WorkflowError, match="落实情况或上传佐证材料"):
        ops.transition_measure(measure, "implement", actor=unit.editor)
    ops.add_attachment(measure, "记录.pdf", PDF, actor=unit.editor)
    ops.transition_measure(measure, "implement", actor=unit.editor)
    assert measure.implemented_on == date.today()
    ops.transition_measure(measure, "verify", actor=inspector)
    assert measure.verified_by_id == inspector.id and measure.verified_at is not None


def test_reject_needs_a_comment_and_rework_clears_the_date(unit, inspector):
    measure = add_measure(unit, evidence="已落实")
    _walk(measure, M.IMPLEMENTED, unit, inspector)
    with pytest.raises(WorkflowError, match="必须填写意见"):
        ops.transition_measure(measure, "reject", actor=inspector)
    ops.transition_measure(measure, "reject", actor=inspector, comment="未见制度文件")
    ops.transition_measure(measure, "rework", actor=unit.editor)
    assert measure.status is M.IN_PROGRESS and measure.implemented_on is None


def test_measures_of_a_retired_point_are_frozen(unit, inspector):
    measure = add_measure(unit)
    advance(measure.risk_point, "retired", unit, inspector)
    with pytest.raises(WorkflowError, match="已停用"):
        ops.transition_measure(measure, "start", actor=unit.editor)
    with pytest.raises(Forbidden):
        add_measure(unit, measure.risk_point)


# ---------------------------------------------------------------- attachments


@pytest.mark.parametrize(("name", "content", "kind", "content_type"), [
    ("制度.pdf", PDF, "pdf", "application/pdf"),
    ("照片.PNG", PNG, "png", "image/png"),
    ("现场.jpeg", JPG, "jpg", "image/jpeg"),
    ("方案.docx", ooxml("word/"), "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("台账.xlsx", ooxml("xl/"), "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("旧文档.doc", OLE, "doc", "application/msword"),
    ("表格.et", OLE, "et", "application/vnd.ms-excel"),
])
def test_allowed_files_are_recognised_by_content(name, content, kind, content_type):
    assert check_upload(name, content) == (name, kind, content_type)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("病毒.exe", b"MZ\x90\x00", "不支持的文件类型"),
    ("脚本.html", b"<script>", "不支持的文件类型"),
    ("假的.pdf", b"MZ\x90\x00" * 10, "不符"),
    ("假的.docx", plain_zip(), "不符"),
    ("表格.xlsx", ooxml("word/"), "不符"),
    ("图片.png", PDF, "不符"),
    ("空.pdf", b"", "文件为空"),
])
def test_forbidden_files_are_refused(name, content, message):
    with pytest.raises(UserError, match=message):
        check_upload(name, content)


def test_size_limit_comes_from_the_config(app, unit):
    measure = add_measure(unit)
    app.config["RISK_ATTACHMENT_MAX_BYTES"] = 1024
    try:
        with pytest.raises(UserError, match="文件过大"):
            ops.add_attachment(measure, "大.pdf", PDF + b"0" * 2000, actor=unit.editor)
    finally:
        app.config.pop("RISK_ATTACHMENT_MAX_BYTES")
    assert db.session.scalar(sa.select(sa.func.count(MeasureAttachment.id))) == 0


@given(st.text(max_size=300))
@settings(max_examples=60, deadline=None)
def test_clean_filename_never_keeps_a_path(name):
    cleaned = clean_filename(name)
    assert "/" not in cleaned and "\\" not in cleaned and '"' not in cleaned and 0 < len(cleaned) <= 200


@given(st.binary(max_size=64))
@settings(max_examples=100, deadline=None)
def test_sniff_accepts_only_known_signatures(content):
    kind = sniff(content)
    assert kind is None or content.startswith((b"%PDF-", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0"))


def test_attachment_is_stored_removed_not_deleted_and_duplicates_refused(unit):
    measure = add_measure(unit)
    attachment = ops.add_attachment(measure, "../../etc/制度.pdf", PDF, actor=unit.editor)
    assert attachment.filename == "制度.pdf" and attachment.size == len(PDF) and len(attachment.sha256) == 64
    with pytest.raises(UserError, match="已经上传过"):
        ops.add_attachment(measure, "副本.pdf", PDF, actor=unit.editor)
    ops.remove_attachment(attachment, actor=unit.editor)
    assert attachment.is_removed and db.session.get(MeasureAttachment, attachment.id).content == PDF
    with pytest.raises(UserError, match="已经移除"):
        ops.remove_attachment(attachment, actor=unit.editor)


# ---------------------------------------------------------------- overdue (govrisk tick)


def tick(today: date) -> int:
    """Run this domain's rule as `govrisk tick` does (other domains' rules are theirs to test)."""
    rule = next(r for r in engine.deadline_rules() if r.name == "risk_measure")
    return engine.apply_deadline_rule(rule, today)


def test_tick_marks_open_overdue_measures_once(unit, inspector):
    overdue = add_measure(unit, due_on=date.today() - timedelta(days=3))
    late_done = add_measure(unit, overdue.risk_point, due_on=date.today() - timedelta(days=3), evidence="已办")
    _walk(late_done, M.IMPLEMENTED, unit, inspector)
    future = add_measure(unit, overdue.risk_point)
    assert tick(date.today()) == 1
    assert overdue.is_overdue and overdue.is_late and overdue.escalation_level == 1
    assert not late_done.is_overdue and not future.is_overdue
    assert tick(date.today()) == 0
    assert tick(date.today() + timedelta(days=40)) == 2  # escalates after 30 days
    assert overdue.escalation_level == 2


def test_postponing_clears_overdue(unit):
    measure = add_measure(unit, due_on=date.today() - timedelta(days=3))
    tick(date.today())
    ops.update_measure(measure, {"measure_type": measure.measure_type, "description": measure.description,
                                 "due_on": date.today() + timedelta(days=10), "version": measure.version},
                       actor=unit.editor)
    assert not measure.is_overdue and measure.escalation_level == 0


def test_tick_command_runs_the_rule(app, unit, monkeypatch):
    monkeypatch.setattr(engine, "_DEADLINE_RULES", [r for r in engine.deadline_rules() if r.name == "risk_measure"])
    add_measure(unit, due_on=date(2020, 1, 1))
    result = app.test_cli_runner().invoke(args=["tick", "--today", "2020-01-05"])
    assert "risk_measure: 1" in result.output


# ---------------------------------------------------------------- residual risk


def test_residual_level_needs_verified_measures_and_a_reason(unit, inspector):
    point = advance(make_point(unit, proposed_level=1, likelihood=4), "confirmed", unit, inspector)
    verified = add_measure(unit, point, evidence="已落实")
    _walk(verified, M.VERIFIED, unit, inspector)
    planned = add_measure(unit, point)
    with pytest.raises(Forbidden):
        ops.record_residual(point, 2, "理由", [verified.id], actor=unit.head)
    with pytest.raises(UserError, match="已验证有效"):
        ops.record_residual(point, 2, "理由", [planned.id], actor=inspector)
    with pytest.raises(UserError, match="至少选择一项"):
        ops.record_residual(point, 2, "理由", [], actor=inspector)
    with pytest.raises(UserError, match="评定理由"):
        ops.record_residual(point, 2, "", [verified.id], actor=inspector)
    grade = ops.record_residual(point, 2, "措施有效", [verified.id], actor=inspector)
    assert point.residual_level == 2 and grade.kind is GradeKind.RESIDUAL and grade.previous_level == 1
    assert grade.inputs["measures"][0]["id"] == verified.id


def test_residual_cannot_be_higher_than_the_confirmed_level(unit, inspector):
    point = advance(make_point(unit, proposed_level=2), "confirmed", unit, inspector)
    measure = add_measure(unit, point, evidence="已落实")
    _walk(measure, M.VERIFIED, unit, inspector)
    with pytest.raises(UserError, match="不能高于确认等级"):
        ops.record_residual(point, 1, "理由", [measure.id], actor=inspector)
    assert point.residual_level is None
    assert db.session.scalar(sa.select(sa.func.count(ControlMeasure.id))) == 1
