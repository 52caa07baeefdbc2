"""Every change of the annual review: cycles and their stages, participants, checklists, self-checks, inspection
notes, public appraisal, indicators, scores and adjustments, grades, ranking and commendation. Flush, never commit."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_pgettext

from govrisk import resource_dir
from govrisk.core.audit import log_change, record_create, record_update
from govrisk.core.errors import UserError
from govrisk.core.importer import Importer, ImportRow
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.review import indicators as ind
from govrisk.review import queries, snapshot
from govrisk.review.models import (
    ChecklistItem,
    CheckResult,
    CycleDepartment,
    Grade,
    Indicator,
    IndicatorScore,
    InspectionNote,
    ReviewCycle,
    ScoreAdjustment,
    SelfCheck,
    SelfCheckAnswer,
)
from govrisk.review.workflow import CycleState
from govrisk.workflow import fire

MIN_YEAR, MAX_YEAR = 2000, 2100


def _seed(name: str) -> dict:
    return json.loads((resource_dir("seed") / "review" / name).read_text(encoding="utf-8"))


def _number(value, field: str, *, low: float = 0, high: float = 100, label: str = "") -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(_("%(label)s必须是数字。", label=label), field=field) from None
    if not low <= number <= high:
        raise UserError(_("%(label)s必须在 %(low)s 到 %(high)s 之间。", label=label, low=low, high=high),
                        field=field)
    return round(number, 2)


def participant(cycle: ReviewCycle, department_id: int | None) -> CycleDepartment:
    """The cycle's participant for a department, or a refusal naming the problem."""
    cd = queries.get_cycle_department(cycle, department_id) if department_id else None
    if cd is None:
        department = db.session.get(Department, department_id) if department_id else None
        raise UserError(_("“%(name)s”未参加 %(year)s 年度考核，不能评分或录入。",
                          name=department.name if department else department_id, year=cycle.year))
    return cd


# ---------------------------------------------------------------- cycles


def _check_departments(department_ids) -> list[Department]:
    from govrisk.accountability.queries import MAX_ID

    ids = sorted({int(i) for i in department_ids or [] if str(i).isdigit() and 0 < int(i) <= MAX_ID})
    if not ids or len(ids) != len(set(department_ids or [])):
        raise UserError(_("请至少选择一个参加考核的单位。") if not ids else _("所选单位不存在或已停用。"),
                        field="department_ids")
    departments = list(db.session.scalars(sa.select(Department).where(Department.id.in_(ids))))
    if len(departments) != len(ids) or any(d.is_retired for d in departments):
        raise UserError(_("所选单位不存在或已停用。"), field="department_ids")
    for d in departments:
        for other in departments:
            if other.id != d.id and other.path.startswith(d.path):
                raise UserError(_("“%(child)s”是“%(parent)s”的下级单位，已随上级一并考核，不能重复选择。",
                                  child=other.name, parent=d.name), field="department_ids")
    return sorted(departments, key=lambda d: (d.sort_order, d.code))


def _check_dates(data: dict) -> None:
    first, second = data.get("self_check_due_on"), data.get("inspection_due_on")
    if first and second and second < first:
        raise UserError(_("年度检查截止日期不能早于自查截止日期。"), field="inspection_due_on")


def _copy_setup(cycle: ReviewCycle) -> None:
    """Indicators and checklist from the previous cycle when there is one, else from seed/review."""
    previous = db.session.scalar(sa.select(ReviewCycle).where(ReviewCycle.year < cycle.year)
                                 .order_by(ReviewCycle.year.desc()).limit(1))
    if previous is not None and previous.indicators:
        rows = [{"key": i.key, "method": i.method, "name": i.name, "description": i.description, "weight": i.weight,
                 "params": i.params, "is_active": i.is_active} for i in previous.indicators]
        items = [{"section": i.section, "text": i.text} for i in previous.checklist_items if not i.is_retired]
    else:
        rows, items = _seed("indicators.json")["indicators"], _seed("checklist.json")["items"]
    for position, row in enumerate(rows):
        db.session.add(Indicator(cycle_id=cycle.id, key=row["key"], method=row["method"], name=row["name"],
                                 description=row.get("description", ""), weight=float(row["weight"]),
                                 params_json=json.dumps(row.get("params", {}), ensure_ascii=False),
                                 position=position, is_active=row.get("is_active", True)))
    for position, item in enumerate(items):
        db.session.add(ChecklistItem(cycle_id=cycle.id, position=position, section=item.get("section", ""),
                                     text=item["text"]))
    db.session.flush()


def _add_participants(cycle: ReviewCycle, departments: list[Department]) -> None:
    for position, department in enumerate(departments):
        cd = CycleDepartment(cycle_id=cycle.id, department_id=department.id, position=position)
        cd.department = department
        db.session.add(cd)
        db.session.flush()
        db.session.add(SelfCheck(cycle_department_id=cd.id))
    db.session.flush()
    db.session.expire(cycle, ["departments"])


def create_cycle(data: dict, *, actor) -> ReviewCycle:
    """Plan a year's review (one per year) with its participants, indicators and checklist."""
    try:
        year = int(data.get("year"))
    except (TypeError, ValueError):
        raise UserError(_("请填写有效的年度。"), field="year") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise UserError(_("年度必须在 %(low)s 到 %(high)s 之间。", low=MIN_YEAR, high=MAX_YEAR), field="year")
    if queries.cycle_for_year(year) is not None:
        raise UserError(_("%(year)s 年度考核周期已经存在，每年只能有一个考核周期。", year=year), field="year")
    _check_dates(data)
    departments = _check_departments(data.get("department_ids"))
    cycle = ReviewCycle(year=year, title=(data.get("title") or "").strip() or _("%(year)s年度廉政风险防控检查考核",
                                                                               year=year),
                        self_check_due_on=data.get("self_check_due_on"),
                        inspection_due_on=data.get("inspection_due_on"), note=(data.get("note") or "").strip(),
                        created_by_id=getattr(actor, "id", None))
    record_create("review.cycle.create", cycle, actor=actor)
    _copy_setup(cycle)
    _add_participants(cycle, departments)
    log_change("review.cycle.participants", cycle, actor=actor,
               changes={"departments": [None, [d.code for d in departments]]})
    return cycle


def update_cycle(cycle: ReviewCycle, data: dict, *, actor) -> dict:
    """Title, deadlines and note; participants may change only while planning."""
    if cycle.state is CycleState.CLOSED:
        raise UserError(_("考核周期已归档，不能再修改。"))
    _check_dates(data)
    fields = {k: data[k] for k in ("title", "self_check_due_on", "inspection_due_on", "note") if k in data}
    changes = record_update("review.cycle.update", cycle, fields, actor=actor, expected_version=data.get("version"))
    if "department_ids" in data:
        changes.update(set_participants(cycle, data["department_ids"], actor=actor))
    return changes


def set_participants(cycle: ReviewCycle, department_ids, *, actor) -> dict:
    """Replace the participants while the cycle is being planned."""
    departments = _check_departments(department_ids)
    current = {cd.department_id: cd for cd in cycle.departments}
    wanted = {d.id for d in departments}
    if wanted == set(current):
        return {}
    if cycle.state is not CycleState.PLANNING:
        raise UserError(_("自查启动后参加单位不能再调整。"), field="department_ids")
    for department_id, cd in current.items():
        if department_id not in wanted:
            db.session.delete(cd.self_check)
            db.session.delete(cd)
    db.session.flush()
    _add_participants(cycle, [d for d in departments if d.id not in current])
    for position, department in enumerate(departments):
        queries.get_cycle_department(cycle, department.id).position = position
    before = sorted(db.session.get(Department, d).code for d in current)
    after = sorted(d.code for d in departments)
    log_change("review.cycle.participants", cycle, actor=actor, changes={"departments": [before, after]})
    return {"departments": [before, after]}


def transition_cycle(cycle: ReviewCycle, name: str, *, actor, comment: str | None = None,
                     expected_version: int | None = None):
    """Move a cycle one stage on: opening freezes the register, the assessment computes scores, publishing ranks,
    closing freezes the results."""
    cycle.check_version(expected_version)
    if name == "publish":
        recalculate(cycle)
    event = fire(cycle, name, actor=actor, comment=comment)
    if name == "open":
        count = snapshot.freeze_register(cycle)
        log_change("review.cycle.snapshot", cycle, actor=actor, changes={"departments": [None, count]})
    elif name == "start_assessment":
        compute_scores(cycle, actor=actor)
    elif name == "publish":
        cycle.published_at = utcnow()
    elif name == "close":
        snapshot.freeze_results(cycle, {cd.department_id: department_results(cd) for cd in cycle.departments})
        cycle.closed_at = utcnow()
    db.session.flush()
    return event


# ---------------------------------------------------------------- setup: checklist, indicators, thresholds


def save_checklist_item(cycle: ReviewCycle, item: ChecklistItem | None, data: dict, *, actor) -> ChecklistItem:
    """Add or edit a checklist line; the checklist is fixed once the self-check has started."""
    if cycle.state is not CycleState.PLANNING:
        raise UserError(_("单位自查已经启动，自查清单不能再修改。"))
    text = (data.get("text") or "").strip()
    if not text:
        raise UserError(_("请填写自查内容。"), field="text")
    fields = {"section": (data.get("section") or "").strip()[:120], "text": text}
    if item is None:
        position = len(cycle.checklist_items)
        item = ChecklistItem(cycle_id=cycle.id, position=position, **fields)
        record_create("review.checklist.create", item, actor=actor)
        db.session.expire(cycle, ["checklist_items"])
    else:
        record_update("review.checklist.update", item, fields, actor=actor, expected_version=data.get("version"))
    return item


def retire_checklist_item(item: ChecklistItem, *, actor) -> None:
    """Take a line out of the checklist (kept, shown as retired)."""
    if item.cycle.state is not CycleState.PLANNING:
        raise UserError(_("单位自查已经启动，自查清单不能再修改。"))
    record_update("review.checklist.retire", item, {"is_retired": True}, actor=actor)


def save_indicator(cycle: ReviewCycle, indicator: Indicator | None, data: dict, *, actor) -> Indicator:
    """Add or edit an indicator (weight 0–100, a known method); totals follow at once during the assessment."""
    if not cycle.is_setup_editable:
        raise UserError(_("考核结果已公布，指标和权重不能再修改。"))
    method = data.get("method") or (indicator.method if indicator else "")
    if method not in ind.METHODS:
        raise UserError(_("计算方法“%(method)s”无效。", method=method), field="method")
    name = (data.get("name") or "").strip()
    if not name:
        raise UserError(_("请填写指标名称。"), field="name")
    weight = _number(data.get("weight"), "weight", label=_("权重"))
    try:
        params = json.loads(data.get("params_json") or "{}")
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise UserError(_("参数必须是 JSON 对象，例如 {\"target_sessions\": 4}。"), field="params_json")
    fields = {"name": name[:200], "description": (data.get("description") or "").strip(), "weight": weight,
              "method": method, "params_json": json.dumps(params, ensure_ascii=False, sort_keys=True),
              "is_active": bool(data.get("is_active", True))}
    if indicator is None:
        key = (data.get("key") or "").strip() or f"{method}_{len(cycle.indicators) + 1}"
        if any(i.key == key for i in cycle.indicators):
            raise UserError(_("指标代码“%(key)s”已存在。", key=key), field="key")
        indicator = Indicator(cycle_id=cycle.id, key=key[:60], position=len(cycle.indicators), **fields)
        record_create("review.indicator.create", indicator, actor=actor)
        db.session.expire(cycle, ["indicators"])
    else:
        record_update("review.indicator.update", indicator, fields, actor=actor,
                      expected_version=data.get("version"))
    if cycle.is_scoring and cycle.scored_at is not None:
        compute_scores(cycle, actor=actor)
    return indicator


def set_thresholds(cycle: ReviewCycle, data: dict, *, actor) -> dict:
    """Edit the lowest totals of 好, 较好 and 一般 (each above the next); grades follow at once."""
    if not cycle.is_setup_editable:
        raise UserError(_("考核结果已公布，等级标准不能再修改。"))
    values = {key: _number(data.get(key), key, label=label) for key, label in (
        ("good", _("“好”的最低分")), ("fairly_good", _("“较好”的最低分")), ("average", _("“一般”的最低分")))}
    if not values["good"] > values["fairly_good"] > values["average"]:
        raise UserError(_("等级分数线必须依次降低：好 > 较好 > 一般。"), field="fairly_good")
    changes = record_update("review.cycle.thresholds", cycle, {"thresholds_json": json.dumps(values, sort_keys=True)},
                            actor=actor, expected_version=data.get("version"))
    recalculate(cycle)
    return changes


# ---------------------------------------------------------------- self-check and inspection


def save_self_check(check: SelfCheck, data: dict, *, actor) -> int:
    """Record the department's answers ({item_id: (result, note)}) and summary; returns how many changed."""
    if not check.can_fill(actor):
        raise UserError(_("当前不能填写自查（须为本单位人员、周期处于自查阶段且自查未提交）。"))
    items = {i.id: i for i in check.cycle_department.cycle.checklist_items if not i.is_retired}
    existing = {a.item_id: a for a in check.answers}
    changed = 0
    for item_id, (result, note) in sorted(data.get("answers", {}).items()):
        if item_id not in items:
            raise UserError(_("自查项目不存在。"))
        if result and result not in {r.value for r in CheckResult}:
            raise UserError(_("自查结果“%(value)s”无效。", value=result))
        answer = existing.get(item_id) or SelfCheckAnswer(self_check_id=check.id, item_id=item_id)
        new = (CheckResult(result) if result else None, (note or "").strip()[:2000])
        if (answer.result, answer.note or "") != new:
            before = [getattr(answer.result, "value", None), answer.note]
            answer.result, answer.note = new
            db.session.add(answer)
            log_change("review.self_check.answer", check, actor=actor,
                       changes={f"item_{item_id}": [before, [getattr(new[0], "value", None), new[1]]]})
            changed += 1
    if "summary" in data:
        changed += bool(record_update("review.self_check.update", check, {"summary": (data["summary"] or "").strip()},
                                      actor=actor, expected_version=data.get("version")))
    db.session.flush()
    db.session.expire(check, ["answers"])
    return changed


def transition_self_check(check: SelfCheck, name: str, *, actor, comment: str | None = None,
                          expected_version: int | None = None):
    """Submit, sign (the department head) or return a self-check."""
    check.check_version(expected_version)
    event = fire(check, name, actor=actor, comment=comment)
    if name == "sign":
        check.signed_by_id, check.signed_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    return event


def add_inspection_note(cd: CycleDepartment, data: dict, *, actor) -> InspectionNote:
    """An inspector's note from the annual inspection (during the inspection or the assessment)."""
    if cd.cycle.state not in (CycleState.SELF_CHECK, CycleState.INSPECTION, CycleState.ASSESSMENT):
        raise UserError(_("考核周期当前为“%(state)s”阶段，不能填写检查记录。", state=cd.cycle.state.title))
    text = (data.get("text") or "").strip()
    if not text:
        raise UserError(_("请填写检查情况。"), field="text")
    inspected_on = data.get("inspected_on") or date.today()
    note = InspectionNote(cycle_department_id=cd.id, inspected_on=inspected_on, text=text,
                          author_id=getattr(actor, "id", None), author_name=getattr(actor, "display_name", ""))
    record_create("review.inspection_note.create", note, actor=actor)
    return note


def set_appraisal(cd: CycleDepartment, data: dict, *, actor) -> dict:
    """Enter a department's public appraisal (社会评议) score; its indicator follows during the assessment."""
    if cd.cycle.state in (CycleState.PUBLISHED, CycleState.CLOSED):
        raise UserError(_("考核结果已公布，社会评议得分不能再修改。"))
    score = _number(data.get("appraisal_score"), "appraisal_score", label=_("社会评议得分"))
    respondents = data.get("appraisal_respondents")
    if respondents not in (None, ""):
        try:
            respondents = int(respondents)
        except (TypeError, ValueError):
            respondents = -1
        if not 0 <= respondents <= 10_000_000:
            raise UserError(_("参评人数必须是非负整数。"), field="appraisal_respondents")
    else:
        respondents = None
    changes = record_update("review.appraisal.set", cd, {
        "appraisal_score": score, "appraisal_respondents": respondents,
        "appraisal_note": (data.get("appraisal_note") or "").strip()}, actor=actor,
        expected_version=data.get("version"))
    if changes and cd.cycle.is_scoring and cd.cycle.scored_at is not None:
        compute_scores(cd.cycle, actor=actor, only=[cd])
    return changes


class AppraisalImporter(Importer):
    """Public appraisal scores of one cycle from CSV/XLSX: department_code, score, respondents, note."""

    kind = "review_appraisal"
    title = lazy_pgettext("import", "社会评议得分")
    columns = ("department_code", "score", "respondents", "note")
    required = ("department_code", "score")

    def __init__(self, cycle: ReviewCycle | None = None):
        self.cycle = cycle

    def check(self, rows: list[ImportRow]) -> None:
        if self.cycle.state in (CycleState.PUBLISHED, CycleState.CLOSED):
            raise UserError(_("考核结果已公布，社会评议得分不能再修改。"))
        participants = {cd.department.code: cd for cd in self.cycle.departments}
        seen: dict[str, int] = {}
        for row in rows:
            code = row.values.get("department_code", "")
            if code in seen:
                row.errors.append(_("单位“%(code)s”与第 %(line)s 行重复", code=code, line=seen[code]))
                continue
            seen[code] = row.line
            cd = participants.get(code)
            if cd is None:
                row.errors.append(_("单位代码“%(code)s”未参加本年度考核", code=code))
            try:
                score = float(row.values.get("score", ""))
                if not 0 <= score <= 100:
                    raise ValueError
            except ValueError:
                row.errors.append(_("得分必须是 0 到 100 之间的数字"))
                score = None
            raw = row.values.get("respondents", "")
            respondents = int(raw) if raw.isdigit() and int(raw) <= 10_000_000 else None
            if raw and respondents is None:
                row.errors.append(_("参评人数必须是非负整数"))
            if row.errors:
                continue
            row.data = {"cd_id": cd.id, "appraisal_score": round(score, 2), "appraisal_respondents": respondents,
                        "appraisal_note": row.values.get("note", "")}
            same = (cd.appraisal_score, cd.appraisal_respondents, cd.appraisal_note) == (
                row.data["appraisal_score"], respondents, row.data["appraisal_note"])
            row.action = "unchanged" if same else ("update" if cd.appraisal_score is not None else "create")

    def write(self, rows: list[ImportRow], *, actor) -> None:
        for row in rows:
            set_appraisal(db.session.get(CycleDepartment, row.data["cd_id"]), row.data, actor=actor)


# ---------------------------------------------------------------- scores


def _require_scoring(cycle: ReviewCycle) -> None:
    if not cycle.is_scoring:
        raise UserError(_("只有在“考核评分”阶段才能计算或调整得分（当前为“%(state)s”）。", state=cycle.state.title))


def compute_scores(cycle: ReviewCycle, *, actor, only: list[CycleDepartment] | None = None) -> int:
    """Compute every active indicator for the participants (adjustments are kept); then totals, grades, ranks."""
    _require_scoring(cycle)
    indicators = queries.active_indicators(cycle)
    matrix = queries.score_matrix(cycle)
    changed = 0
    for cd in only or cycle.departments:
        existing = matrix.get(cd.id, {})
        for indicator in indicators:
            value, figures = ind.compute(indicator.method, cd.department, cycle.year, indicator.params, cd)
            score = existing.get(indicator.id)
            if score is None:
                score = IndicatorScore(cycle_department_id=cd.id, indicator_id=indicator.id)
                db.session.add(score)
            figures_json = json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str)
            if (score.computed, score.figures_json) != (value, figures_json):
                changed += 1
            score.computed, score.figures_json, score.position = value, figures_json, indicator.position
    db.session.flush()
    cycle.scored_at = utcnow()
    recalculate(cycle)
    log_change("review.scores.compute", cycle, actor=actor, changes={"changed_scores": [None, changed]})
    return changed


def recalculate(cycle: ReviewCycle) -> None:
    """Totals (weights redistributed over indicators with data), grades and ranks from the stored scores."""
    active = {i.id: i for i in queries.active_indicators(cycle)}
    matrix = queries.score_matrix(cycle)
    totals = []
    for cd in cycle.departments:
        scores = [s for s in matrix.get(cd.id, {}).values() if s.indicator_id in active]
        if not scores:
            cd.total, cd.grade = None, None
            totals.append((cd.id, None))
            continue
        total, effective = ind.weighted_total([(active[s.indicator_id].weight, s.final) for s in scores])
        for s, weight in zip(scores, effective, strict=True):
            s.effective_weight = weight
        cd.total, cd.grade = total, cycle.grade_for(total)
        if cd.is_commended and cd.grade is not Grade.GOOD:
            cd.is_commended = False
        totals.append((cd.id, total))
    ranks = ind.rank(totals)
    for cd in cycle.departments:
        cd.rank = ranks.get(cd.id)
    db.session.flush()


def adjust_score(score: IndicatorScore, value, reason: str | None, *, actor,
                 expected_version: int | None = None) -> ScoreAdjustment:
    """An inspector's adjustment of one score; the reason is required and kept with the before and after."""
    cycle = score.cycle_department.cycle
    _require_scoring(cycle)
    score.check_version(expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise UserError(_("调整得分必须填写理由。"), field="reason")
    after = _number(value, "value", label=_("调整后得分"))
    adjustment = ScoreAdjustment(score_id=score.id, before=score.final, after=after, reason=reason,
                                 actor_id=getattr(actor, "id", None),
                                 actor_name=getattr(actor, "display_name", "") or "")
    score.adjustments.append(adjustment)
    record_update("review.score.adjust", score, {"adjusted": after, "adjust_reason": reason}, actor=actor)
    recalculate(cycle)
    return adjustment


def set_commendation(cd: CycleDepartment, commended: bool, note: str | None, *, actor) -> dict:
    """Propose a department graded 好 for commendation (表彰奖励), or withdraw it."""
    if cd.cycle.state not in (CycleState.ASSESSMENT, CycleState.PUBLISHED):
        raise UserError(_("只有在考核评分或结果公布阶段才能设置表彰。"))
    if commended and cd.grade is not Grade.GOOD:
        raise UserError(_("只有考核等级为“好”的单位可以表彰。"))
    return record_update("review.commendation", cd, {"is_commended": bool(commended),
                                                     "commendation_note": (note or "").strip()}, actor=actor)


def department_results(cd: CycleDepartment) -> dict:
    """A participant's results as plain data (frozen when the cycle closes; the report reads this shape)."""
    from govrisk.accountability.queries import department_year

    scores = []
    for s in queries.scores_of(cd):
        scores.append({"key": s.indicator.key, "name": s.indicator.name, "method": s.indicator.method,
                       "weight": s.indicator.weight, "effective_weight": s.effective_weight,
                       "computed": s.computed, "adjusted": s.adjusted, "final": s.final,
                       "reason": s.adjust_reason, "figures": s.figures, "params": s.indicator.params,
                       "active": s.indicator.is_active})
    check = cd.self_check
    return {"department": {"id": cd.department_id, "code": cd.department.code, "name": cd.department.name},
            "total": cd.total, "grade": cd.grade.value if cd.grade else None, "rank": cd.rank,
            "commended": cd.is_commended, "commendation_note": cd.commendation_note,
            "appraisal_score": cd.appraisal_score,
            "self_check": check.state.value if check else None,
            "signed_at": check.signed_at.date().isoformat() if check and check.signed_at else None,
            "notes": [{"on": n.inspected_on.isoformat(), "text": n.text, "author": n.author_name}
                      for n in reversed(queries.notes_of(cd))],
            "scores": [s for s in scores if s["active"]],
            **department_year(cd.department, cd.cycle.year)}


def results_for(cd: CycleDepartment) -> dict:
    """The frozen results once the cycle is closed, else the live ones."""
    if cd.cycle.results_frozen:
        frozen = snapshot.frozen_results(cd.cycle_id, cd.department_id)
        if frozen is not None:
            return frozen
    return department_results(cd)
