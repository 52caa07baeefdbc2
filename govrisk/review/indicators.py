"""Assessment indicators (考核指标) as data: each indicator row names a `method` here that computes a 0–100 score
from the register, with the figures behind it. A method returns None as the score when the department has no data
for it (e.g. no supervised cases yet): that indicator's weight is then shared by the others in proportion.

`explain(method, figures)` turns the stored figures back into a sentence, so the numbers behind every score are
shown on the page, in the spreadsheet and in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Method:
    key: str
    title: object  # lazy string
    compute: Callable  # (department, year, params, cycle_department) -> (score | None, figures)
    explain: Callable  # (figures, params) -> str


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _catalog(department, year, params, cd):
    from govrisk.review.queries import catalog_figures

    f = catalog_figures(department)
    return _pct(f["complete"], f["powers"]), f


def _catalog_text(f, params) -> str:
    if not f.get("powers"):
        return _("职权目录中没有在用职权，本项无数据。")
    return _("在用职权 %(powers)s 项，有法律依据 %(with_basis)s 项，已发布 %(published)s 项；"
             "两者兼备（完整）%(complete)s 项，得分 = 完整数 ÷ 在用职权数 × 100。", **f)


def _flows(department, year, params, cd):
    from govrisk.review.queries import flow_figures

    f = flow_figures(department)
    coverage, validity = _pct(f["with_internal_flow"], f["powers"]), _pct(f["valid_flows"], f["flows"])
    if coverage is None:
        return None, f
    share = float(params.get("coverage_share", 0.5))
    score = coverage * share + (validity if validity is not None else 0.0) * (1 - share)
    return round(score, 2), {**f, "coverage_share": share}


def _flows_text(f, params) -> str:
    if not f.get("powers"):
        return _("没有在用职权，本项无数据。")
    share = round(100 * f.get("coverage_share", 0.5))
    return _("在用职权 %(powers)s 项，其中 %(with_internal_flow)s 项有内部流程图（覆盖率占 %(share)s%%）；"
             "流程图 %(flows)s 张，校验无错误 %(valid_flows)s 张（有效率占 %(rest)s%%）。", share=share,
             rest=100 - share, **f)


def _decisions(department, year, params, cd):
    from govrisk.risks.queries import decision_step_coverage

    r = decision_step_coverage(department.id)
    f = {"decision_steps": r["decision_steps"], "covered": r["covered"]}
    return _pct(f["covered"], f["decision_steps"]), f


def _decisions_text(f, params) -> str:
    if not f.get("decision_steps"):
        return _("流程图中没有决策环节，本项无数据。")
    return _("流程图决策环节 %(decision_steps)s 个，已查找风险点的 %(covered)s 个，"
             "得分 = 覆盖数 ÷ 决策环节数 × 100。", **f)


def _measures(department, year, params, cd):
    from govrisk.risks.queries import measures_on_time

    r = measures_on_time(department.id, year)
    f = {k: r[k] for k in ("due", "on_time", "late", "open")}
    return _pct(f["on_time"], f["due"]), f


def _on_time_text(f, params) -> str:
    if not f.get("due"):
        return _("本年度没有到期事项，本项无数据。")
    return _("本年度到期 %(due)s 项：按期完成 %(on_time)s 项，逾期完成 %(late)s 项，尚未完成 %(open)s 项；"
             "得分 = 按期完成数 ÷ 到期数 × 100。", **f)


def _rectifications(department, year, params, cd):
    from govrisk.accountability.queries import rectification_figures

    f = rectification_figures(department, year)
    return _pct(f["on_time"], f["due"]), f


def _supervision(department, year, params, cd):
    from govrisk.review.queries import supervision_figures

    f = supervision_figures(department, year)
    return _pct(f["on_time"], f["timed"]), f


def _supervision_text(f, params) -> str:
    if not f.get("timed"):
        return _("电子监察尚无本单位本年度办结的限时办件，本项无数据，权重按比例分给其他指标。")
    return _("本年度办结的限时办件 %(timed)s 件，按时办结 %(on_time)s 件，得分 = 按时办结率 × 100。", **f)


def _appraisal(department, year, params, cd):
    f = {"score": cd.appraisal_score, "respondents": cd.appraisal_respondents}
    return (round(float(cd.appraisal_score), 2) if cd.appraisal_score is not None else None), f


def _appraisal_text(f, params) -> str:
    if f.get("score") is None:
        return _("尚未录入社会评议得分，本项无数据。")
    if f.get("respondents"):
        return _("社会评议得分 %(score)s（%(respondents)s 人参评）。", **f)
    return _("社会评议得分 %(score)s。", score=f["score"])


def _education(department, year, params, cd):
    from govrisk.review.queries import education_figures

    f = {**education_figures(department, year), "target": int(params.get("target_sessions", 4))}
    target = max(f["target"], 1)
    return round(100.0 * min(f["sessions"], target) / target, 2), f


def _education_text(f, params) -> str:
    return _("本年度开展廉政教育 %(sessions)s 次（目标 %(target)s 次），覆盖 %(months)s 个月，"
             "参加 %(attendance)s 人次；得分 = min(次数, 目标) ÷ 目标 × 100。", **f)


def _manual(department, year, params, cd):
    return None, {}


def _manual_text(f, params) -> str:
    return _("人工评分指标：由纪检监察员评定（调整）得分并写明理由。")


METHODS: dict[str, Method] = {m.key: m for m in (
    Method("catalog_completeness", _l("职权目录完整性"), _catalog, _catalog_text),
    Method("flow_coverage", _l("流程图覆盖与有效性"), _flows, _flows_text),
    Method("decision_coverage", _l("决策环节风险点覆盖"), _decisions, _decisions_text),
    Method("measures_on_time", _l("防控措施按期落实"), _measures, _on_time_text),
    Method("rectifications_on_time", _l("整改按期完成"), _rectifications, _on_time_text),
    Method("supervision_on_time", _l("电子监察按时办结"), _supervision, _supervision_text),
    Method("public_appraisal", _l("社会评议"), _appraisal, _appraisal_text),
    Method("education", _l("廉政教育"), _education, _education_text),
    Method("manual", _l("人工评分"), _manual, _manual_text),
)}


def method_choices() -> list[tuple[str, str]]:
    return [(key, str(m.title)) for key, m in METHODS.items()]


def compute(method: str, department, year: int, params: dict, cycle_department) -> tuple[float | None, dict]:
    """Score (0–100, or None for no data) and figures of one indicator for one department."""
    score, figures = METHODS[method].compute(department, year, params, cycle_department)
    if score is not None:
        score = max(0.0, min(100.0, float(score)))
    return score, figures


def explain(method: str, figures: dict, params: dict | None = None) -> str:
    """The sentence that shows the numbers behind a score."""
    entry = METHODS.get(method)
    return entry.explain(figures or {}, params or {}) if entry else ""


def weighted_total(parts: list[tuple[float, float | None]]) -> tuple[float | None, list[float]]:
    """Total of (weight, score) pairs, weights of scores without data shared by the others in proportion.

    Returns the total (None when no indicator has data) and the effective weight of each part in percent."""
    weight_with_data = sum(w for w, s in parts if s is not None and w > 0)
    if weight_with_data <= 0:
        return None, [0.0 for _ in parts]
    effective = [round(100.0 * w / weight_with_data, 4) if s is not None and w > 0 else 0.0 for w, s in parts]
    total = sum(w * s for w, s in parts if s is not None and w > 0) / weight_with_data
    return round(total, 2), effective


def rank(totals: list[tuple[int, float | None]]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of ids by total, highest first; ids without a total get no rank."""
    scored = sorted(((t, i) for i, t in totals if t is not None), key=lambda x: -x[0])
    out, previous, position = {}, None, 0
    for index, (total, key) in enumerate(scored, start=1):
        if total != previous:
            position, previous = index, total
        out[key] = position
    return out
