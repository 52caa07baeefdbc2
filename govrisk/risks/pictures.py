"""The register's pictures, drawn with the shared chart code (SVG in pages): heat map, breakdowns, flow charts with
risk badges.

Rendering a drawing to SVG costs more than counting 60,000 risk points, so the SVG text is memoised per process,
keyed by everything that goes into the picture (the counts, the links, the translated titles): the same data gives
the same picture, different data a new one, so nothing can be stale.
"""

from __future__ import annotations

from functools import lru_cache

from flask_babel import gettext as _
from markupsafe import Markup

from govrisk.core.charts import bar_chart, drawing_to_svg, heat_map, stacked_bars
from govrisk.core.pdf import cjk_font_name
from govrisk.risks.models import level_title

LEVEL_KEYS = (1, 2, 3, None)
LEVEL_COLOURS = {1: "#c0392b", 2: "#e67e22", 3: "#f1c40f", None: "#9aa5b1"}
CHART_DEPARTMENTS = 15


def svg(drawing) -> Markup:
    return Markup(drawing_to_svg(drawing))  # our own drawing: the renderer escapes every text in it


@lru_cache(maxsize=256)
def _heat_svg(cells: tuple, title: str) -> str:
    counts = {(x, y): n for x, y, n, _link in cells}
    links = {(x, y): link for x, y, _n, link in cells}
    return drawing_to_svg(heat_map(counts, title=title, link=lambda x, y: links[(x, y)], font_name=cjk_font_name(),
                                   width=440, height=390))


def heat_map_svg(counts: dict, link) -> Markup:
    """Likelihood × severity counts; each cell links to the list filtered on it (`link(likelihood, severity)`)."""
    cells = tuple((x, y, counts.get((x, y), 0), link(x, y)) for x in range(1, 6) for y in range(1, 6))
    return Markup(_heat_svg(cells, _("风险矩阵")))


@lru_cache(maxsize=256)
def _stacked_svg(categories: tuple, series: tuple, colours: tuple, title: str) -> str:
    return drawing_to_svg(stacked_bars(list(categories), dict(series), title=title, horizontal=True,
                                       font_name=cjk_font_name(), width=560, series_colors=dict(colours)))


def level_bars_svg(rows: list[dict]) -> Markup:
    """Per department, risk points by level in force (stacked); the departments with the most, when there are many."""
    if len(rows) > CHART_DEPARTMENTS:
        keep = {r["id"] for r in sorted(rows, key=lambda r: -r["total"])[:CHART_DEPARTMENTS]}
        rows = [r for r in rows if r["id"] in keep]
    names = {1: level_title(1), 2: level_title(2), 3: level_title(3), None: _("未定级")}
    series = tuple((names[k], tuple(r["levels"].get(k, 0) for r in rows)) for k in LEVEL_KEYS
                   if any(r["levels"].get(k) for r in rows))
    colours = tuple((names[k], LEVEL_COLOURS[k]) for k in LEVEL_KEYS)
    title = _("各单位风险等级分布") if len(rows) < CHART_DEPARTMENTS else \
        _("风险点最多的 %(n)s 个单位的等级分布", n=CHART_DEPARTMENTS)
    return Markup(_stacked_svg(tuple(r["name"] for r in rows), series, colours, title))


@lru_cache(maxsize=256)
def _bars_svg(items: tuple, title: str) -> str:
    return drawing_to_svg(bar_chart(list(items), title=title, horizontal=True, font_name=cjk_font_name(), width=440))


def type_bars_svg(types: dict, titles: dict[str, str]) -> Markup:
    """Risk points by type."""
    items = tuple(sorted(((titles.get(k, k), n) for k, n in types.items()), key=lambda item: -item[1]))
    return Markup(_bars_svg(items, _("风险类型分布")))


def flow_svg(flow) -> Markup:
    """A flow chart of the power with the risk level badges on its steps."""
    from govrisk.flows.drawing import flow_drawing
    from govrisk.flows.queries import flow_doc, step_risk_levels

    return svg(flow_drawing(flow_doc(flow), badges=step_risk_levels(flow), font_name=cjk_font_name()))
