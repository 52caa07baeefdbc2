"""Every change to flow charts: create, save a document, new versions, workflow, import. Flush and audit, never commit.

A document is stored only when it is well-formed (parses, no duplicate or unknown step ids, fits the columns, and,
for internal flows, names posts of the power's department). Other findings — a cycle, a dead end, an exceeded time
limit — are stored with the draft and block its submission (the guard in `workflow.py`).
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from govrisk.catalog.models import Power
from govrisk.catalog.queries import get_power_by_code
from govrisk.core.audit import log_change
from govrisk.core.bulk import bulk_allocations
from govrisk.core.errors import Forbidden, UserError
from govrisk.extensions import db
from govrisk.flows import queries
from govrisk.flows.bpmn import bpmn_to_flow, is_bpmn
from govrisk.flows.models import (
    DOCUMENT_MAX,
    KEY_MAX,
    LABEL_MAX,
    NAME_MAX,
    POST_MAX,
    Flow,
    FlowEdge,
    FlowKind,
    FlowStep,
)
from govrisk.flows.validation import ERROR, Finding, FlowDoc, FlowReport, Step, finding, parse_flow, validate_flow
from govrisk.flows.workflow import EDITABLE_STATES
from govrisk.org.models import Post
from govrisk.workflow.engine import fire
from govrisk.workflow.register import RegisterState

#: Findings that make a document unstorable; every other finding is stored with the draft.
MALFORMED = frozenset({"invalid_document", "duplicate_step", "unknown_step"})
MAX_STEPS, MAX_EDGES = 300, 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FlowDocumentError(UserError):
    """A flow document that cannot be stored; `details["findings"]` lists every reason."""

    def __init__(self, findings: list[Finding], prefix: str | None = None):
        shown = _("；").join(f.message for f in findings[:8])
        extra = len(findings) - 8
        more = ngettext("（另有 %(num)s 处问题）", "（另有 %(num)s 处问题）", extra) if extra > 0 else ""
        message = _("%(prefix)s：%(problems)s%(more)s", prefix=prefix or _("流程图未保存"), problems=shown, more=more)
        super().__init__(message, details={"findings": [f.to_dict() for f in findings]})
        self.findings = findings


# ---------------------------------------------------------------- reading and checking documents


def read_document(raw: bytes | str, filename: str = "", *, power_code: str | None = None,
                  kind: str | None = None) -> FlowDoc:
    """A flow JSON (§7.1) or BPMN upload as a document; raises FlowDocumentError with the findings if unreadable."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if is_bpmn(data, filename):
        doc, problems = bpmn_to_flow(data, power_code=power_code, kind=kind)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FlowDocumentError([finding("invalid_document", (), _("文件不是 UTF-8 编码的 JSON 或 BPMN"))],
                                    prefix=_("无法读取")) from None
        doc, problems = parse_flow(text)
    if doc is None:
        raise FlowDocumentError(problems, prefix=_("无法读取"))
    return doc


def _too_long(where: str, value: str | None, limit: int) -> list[Finding]:
    if value is None:
        return []
    if len(value) > limit:
        return [finding("invalid_document", (), _("%(what)s过长（%(n)s 个字符，最多 %(max)s 个）", what=where,
                                                  n=len(value), max=limit))]
    if _CONTROL.search(value):
        return [finding("invalid_document", (), _("%(what)s含有控制字符", what=where))]
    return []


def _size_problems(doc: FlowDoc) -> list[Finding]:
    if len(doc.steps) > MAX_STEPS or len(doc.edges) > MAX_EDGES:
        return [finding("invalid_document", (), _("步骤最多 %(steps)s 个、连线最多 %(edges)s 条", steps=MAX_STEPS,
                                                  edges=MAX_EDGES))]
    out: list[Finding] = []
    for step in doc.steps:
        sid = step.id[:20]
        out += _too_long(_("步骤“%(step)s”的编号", step=sid), step.id, KEY_MAX)
        out += _too_long(_("步骤“%(step)s”的名称", step=sid), step.name, NAME_MAX)
        out += _too_long(_("步骤“%(step)s”的岗位", step=sid), step.post, POST_MAX)
        for document in step.documents:
            out += _too_long(_("步骤“%(step)s”的文书", step=sid), document, DOCUMENT_MAX)
    for index, edge in enumerate(doc.edges):
        out += _too_long(_("连线 edges[%(i)s] 的条件", i=index), edge.label, LABEL_MAX)
    return out


def _department_posts(power: Power) -> dict[str, Post]:
    """The department's active posts by name and by code (a name shared by two posts matches neither)."""
    posts = queries.department_posts(power.department_id)
    names = {}
    for post in posts:
        names[post.name] = None if post.name in names else post
    return {**{k: v for k, v in names.items() if v is not None}, **{p.code: p for p in posts}}


def storable_document(power: Power, doc: FlowDoc) -> tuple[FlowDoc, dict[str, Post]]:
    """The document with internal posts resolved to the department's post names, and the posts by step id.

    Raises FlowDocumentError listing every reason it cannot be stored.
    """
    problems = [f for f in validate_flow(doc).findings if f.code in MALFORMED] + _size_problems(doc)
    if problems:
        raise FlowDocumentError(problems)
    if doc.kind != FlowKind.INTERNAL.value:
        return doc, {}
    posts, resolved, bad = _department_posts(power), {}, []
    steps = []
    for step in doc.steps:
        name = (step.post or "").strip()
        if name and name not in posts:
            bad.append(finding("invalid_document", (step.id,), _(
                "步骤 %(step)s 的岗位“%(post)s”不是%(department)s的岗位（内部流程图须使用本单位岗位）",
                step=step.id, post=name, department=power.department.name)))
        elif name:
            resolved[step.id] = posts[name]
        post = resolved[step.id].name if step.id in resolved else step.post
        steps.append(Step(step.id, step.name, post, step.role, step.time_limit_days, step.documents))
    if bad:
        raise FlowDocumentError(bad)
    return FlowDoc(doc.power_code, doc.kind, doc.time_limit_days, tuple(steps), doc.edges), resolved


# ---------------------------------------------------------------- storing


def _refuse_removing_referenced_steps(flow: Flow, doc: FlowDoc) -> None:
    """Steps that other records point at (risk points …) may not vanish from under them: refuse, write nothing."""
    keep = {s.id for s in doc.steps}
    removed = {row.id: row.key for row in flow.steps if row.id is not None and row.key not in keep}
    if not removed:
        return
    target = FlowStep.__table__.c.id
    for table in db.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.references(FlowStep.__table__) and fk.column is target:
                stmt = sa.select(fk.parent).where(fk.parent.in_(list(removed))).distinct()
                used = sorted(removed[step_id] for step_id in db.session.scalars(stmt))
                if used:
                    raise UserError(ngettext("步骤 %(steps)s 已被其他登记事项（%(table)s）引用，不能删除；"
                                             "请先调整引用它的记录，或保留该步骤。",
                                             "步骤 %(steps)s 已被其他登记事项（%(table)s）引用，不能删除；"
                                             "请先调整引用它的记录，或保留该步骤。",
                                             len(used), steps=_("、").join(used), table=table.name))


def _apply(flow: Flow, doc: FlowDoc, posts: dict[str, Post]) -> None:
    """Write the content, keeping step rows by key (so whatever links to a step stays linked)."""
    existing = {s.key: s for s in flow.steps}
    rows = []
    for position, step in enumerate(doc.steps):
        row = existing.pop(step.id, None) or FlowStep(key=step.id)
        post = posts.get(step.id)
        row.position, row.name, row.role, row.time_limit_days = position, step.name, step.role, step.time_limit_days
        row.post_id, row.post_name = (post.id if post else None), (step.post or "")
        row.documents_json = json.dumps(list(step.documents), ensure_ascii=False)
        rows.append(row)
    flow.steps = rows
    edges = list(flow.edges)
    for position, edge in enumerate(doc.edges):
        row = edges[position] if position < len(edges) else FlowEdge()
        row.position, row.source_key, row.target_key = position, edge.source, edge.target
        row.label, row.is_loop = edge.label or "", edge.loop
        if position >= len(edges):
            flow.edges.append(row)
    del flow.edges[len(doc.edges):]
    flow.time_limit_days = doc.time_limit_days


def summary_values(doc: FlowDoc, report: FlowReport) -> dict:
    """The stored summary columns of a flow validated as `report`."""
    errors = sum(1 for f in report.findings if f.severity == ERROR)
    return {"step_count": len(doc.steps), "decision_step_count": sum(1 for s in doc.steps if s.role == "decision"),
            "error_count": errors, "warning_count": len(report.findings) - errors,
            "critical_path_days": report.critical_path_days,
            "findings_json": json.dumps([f.to_dict() for f in report.findings], ensure_ascii=False)}


def _summarise(flow: Flow, doc: FlowDoc) -> FlowReport:
    """The stored counts: structure, posts and time only — risk points change on their own, so
    `uncovered_key_step` is reported live (chart page, submit guard) and counted by the risk provider in SQL."""
    report = queries.report_for(doc, flow.power)
    for name, value in summary_values(doc, report).items():
        setattr(flow, name, value)
    return report


def _edge_text(edge: dict) -> str:
    text = f"{edge['from']}→{edge['to']}"
    if edge.get("label"):
        text += f"（{edge['label']}）"
    return text + ("［退回］" if edge.get("loop") else "")


def content_changes(before: dict | None, after: dict) -> dict:
    """Field-level {name: [before, after]} between two §7.1 documents: per step, the edges, the time limit."""
    before = before or {"steps": [], "edges": [], "time_limit_days": None}
    old = {s["id"]: s for s in before["steps"]}
    new = {s["id"]: s for s in after["steps"]}
    changes = {f"steps.{key}": [old.get(key), new.get(key)] for key in sorted(old.keys() | new.keys())
               if old.get(key) != new.get(key)}
    if [k for k in old if k in new] != [k for k in new if k in old]:
        changes["step_order"] = [list(old), list(new)]
    old_edges, new_edges = [_edge_text(e) for e in before["edges"]], [_edge_text(e) for e in after["edges"]]
    if old_edges != new_edges:
        changes["edges"] = [old_edges, new_edges]
    if before["time_limit_days"] != after["time_limit_days"]:
        changes["time_limit_days"] = [before["time_limit_days"], after["time_limit_days"]]
    return changes


def _check_identity(flow_power: Power, kind: FlowKind, doc: FlowDoc) -> None:
    if doc.power_code != flow_power.code:
        raise UserError(_("文档的职权编码“%(code)s”与流程图所属职权“%(power)s”不一致。", code=doc.power_code,
                          power=flow_power.code))
    if doc.kind != kind.value:
        raise UserError(_("文档是%(kind)s，不能保存为%(target)s。", kind=FlowKind(doc.kind).title, target=kind.title))


def save_flow(flow: Flow, doc: FlowDoc, *, actor, expected_version: int | None = None) -> FlowReport:
    """Store a document as the content of a draft or returned version; returns its validation report."""
    flow.check_version(expected_version)
    if flow.state not in EDITABLE_STATES:
        raise UserError(_("第 %(n)s 版当前为“%(state)s”，不能修改；已发布的流程图请先“新建版本”。", n=flow.number,
                          state=flow.state.title))
    _check_identity(flow.power, flow.kind, doc)
    doc, posts = storable_document(flow.power, doc)
    changes = content_changes(queries.flow_doc(flow).to_dict(), doc.to_dict())
    _refuse_removing_referenced_steps(flow, doc)
    _apply(flow, doc, posts)
    report = _summarise(flow, doc)
    if changes:
        flow.bump_version()
        db.session.flush()
        log_change("flows.flow.update", flow, actor=actor, changes=changes)
    return report


def _refuse_second_open(power: Power, kind: FlowKind) -> None:
    current = queries.open_flow(power.id, kind)
    if current is not None:
        raise UserError(_("该职权的%(kind)s已有正在办理的第 %(n)s 版（%(state)s），请在该版本上修改。",
                          kind=kind.title, n=current.number, state=current.state.title))


def create_flow(power: Power, kind: FlowKind, doc: FlowDoc, *, actor) -> Flow:
    """A new draft version of the power's chart of this kind, with the document as its content."""
    _refuse_second_open(power, kind)
    _check_identity(power, kind, doc)
    doc, posts = storable_document(power, doc)
    flow = Flow(power=power, kind=kind, number=queries.next_number(power.id, kind), state=RegisterState.DRAFT)
    db.session.add(flow)
    _apply(flow, doc, posts)
    _summarise(flow, doc)
    db.session.flush()
    changes = {"kind": [None, kind.value], "number": [None, flow.number], **content_changes(None, doc.to_dict())}
    log_change("flows.flow.create", flow, actor=actor, changes=changes)
    return flow


def revise_flow(flow: Flow, *, actor) -> Flow:
    """Start the next version from a published one (which stays public until the new one is published)."""
    if flow.state is not RegisterState.PUBLISHED:
        raise UserError(_("只能从已发布的版本新建版本。"))
    return create_flow(flow.power, flow.kind, queries.flow_doc(flow), actor=actor)


def transition_flow(flow: Flow, name: str, *, actor, comment: str | None = None,
                    expected_version: int | None = None):
    """Fire a workflow transition; publishing retires the version it replaces."""
    flow.check_version(expected_version)
    event = fire(flow, name, actor=actor, comment=comment)
    if name == "publish":
        others = db.session.scalars(sa.select(Flow).where(
            Flow.power_id == flow.power_id, Flow.kind == flow.kind, Flow.id != flow.id,
            Flow.state == RegisterState.PUBLISHED))
        for old in others:
            fire(old, "retire", actor=actor, comment=f"由第 {flow.number} 版取代")
    return event


def recheck_flows(*, batch: int = 2000) -> int:
    """Re-validate every flow that is not retired (after promised limits changed); returns how many summaries changed.

    Reads a batch of flows with three queries and writes back only the summaries that differ (derived columns: no
    new version, no audit entry — the content did not change).
    """
    table, changed = Flow.__table__, 0
    update = table.update().where(table.c.id == sa.bindparam("flow_id")).values(
        {name: sa.bindparam(name) for name in SUMMARY_COLUMNS})
    with bulk_allocations():
        for rows in queries.stored_documents(batch=batch):
            updates = []
            for flow_id, stored, doc, limit in rows:
                values = summary_values(doc, validate_flow(doc, time_limit_days=limit))
                if any(stored[name] != values[name] for name in SUMMARY_COLUMNS):
                    updates.append({"flow_id": flow_id, **values})
            if updates:
                db.session.execute(update, updates)
                changed += len(updates)
    db.session.expire_all()
    return changed


SUMMARY_COLUMNS = ("step_count", "decision_step_count", "error_count", "warning_count", "critical_path_days",
                   "findings_json")


# ---------------------------------------------------------------- import (DESIGN §7.4)


def import_flow(raw: bytes, filename: str = "", *, actor, power_code: str | None = None,
                kind: str | None = None) -> tuple[Flow, str]:
    """Attach a flow JSON or BPMN file to its existing power: ('create' | 'update' | 'unchanged', flow).

    An unknown power, a malformed file or a version under review is refused and nothing is stored; the same file
    imported twice changes nothing.
    """
    doc = read_document(raw, filename, power_code=power_code, kind=kind)
    if power_code and doc.power_code != power_code:
        raise UserError(_("文件中的职权编码为“%(code)s”，与所选职权“%(chosen)s”不一致，未导入。", code=doc.power_code,
                          chosen=power_code))
    if kind and doc.kind != kind:
        raise UserError(_("文件是%(kind)s，与所选类型不一致，未导入。", kind=FlowKind(doc.kind).title))
    power = get_power_by_code(doc.power_code)
    if power is None:
        raise UserError(_("职权编码“%(code)s”不存在，流程图未导入。请先在职权目录中登记该职权。", code=doc.power_code))
    if actor is not None and not (power.can_view(actor) and actor.can("register.edit")):
        raise Forbidden(_("您不能为该职权导入流程图（只能导入本单位的职权）。"))
    flow_kind = FlowKind(doc.kind)
    doc, _posts = storable_document(power, doc)
    current = queries.open_flow(power.id, flow_kind) or queries.published_flow(power.id, flow_kind)
    if current is not None and queries.flow_doc(current).to_dict() == doc.to_dict():
        return current, "unchanged"
    if current is not None and current.is_open:
        save_flow(current, doc, actor=actor)
        return current, "update"
    return create_flow(power, flow_kind, doc, actor=actor), "create"
