"""The measured operations, each on its real code path, each with a floor measured in the same run.

An operation is timed over repeated runs (p50/p95). Its floor fetches the same rows with the raw DB-API driver
underneath SQLAlchemy (sqlite3 or psycopg: `engine.raw_connection().driver_connection`) and, for a page, renders
them with a minimal Jinja template; the ratio p50/floor-p50 says how much the application adds on top of what the
database must do anyway. Pages are requested through the Flask test client on their real URL with a logged-in
user; the other operations call the domain function (inside a transaction that is rolled back, so runs repeat on
the same data). An operation whose domain code does not exist yet prints "not available" and is skipped.
"""

import io
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from jinja2 import Environment

DEMO_PASSWORD = "Demo@2026"
FLOOR_TEMPLATE = Environment(autoescape=True).from_string(
    "<table>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>"
    "<ul>{% for row in facets %}<li>{{ row|join(' ') }}</li>{% endfor %}</ul><p>{{ total }}</p>")


@dataclass(frozen=True)
class Target:
    """A figure from a domain issue: `metric` of the samples (p95, p50, max), a rate, or peak memory."""

    metric: str
    limit: float
    text: str
    issue: int

    def holds(self, result: "Result", *, cpu: bool = False) -> bool | None:
        value = result.value(self.metric, cpu=cpu)
        if value is None:
            return None
        return value >= self.limit if self.metric == "rate" else value <= self.limit


@dataclass
class Result:
    name: str
    samples: list[float] = field(default_factory=list)  # seconds
    floor: list[float] = field(default_factory=list)
    target: Target | None = None
    extra: dict = field(default_factory=dict)
    floor_note: str = ""
    error: str = ""

    @property
    def p50(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def p95(self) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]

    @property
    def cpu_p50(self) -> float | None:
        cpu = CPU.get(id(self.samples))
        return statistics.median(cpu) if cpu else None

    @property
    def floor_p50(self) -> float | None:
        return statistics.median(self.floor) if self.floor else None

    @property
    def ratio(self) -> float | None:
        return self.p50 / self.floor_p50 if self.p50 and self.floor_p50 else None

    def value(self, metric: str, *, cpu: bool = False):
        samples = CPU.get(id(self.samples), []) if cpu else self.samples
        if not samples:
            return None
        ordered = sorted(samples)
        return {"p50": statistics.median(ordered), "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)],
                "max": ordered[-1], "rate": self.extra.get("cpu_rate" if cpu else "rate"),
                "peak_mb": self.extra.get("peak_mb")}[metric]

    @property
    def holds(self) -> bool | None:
        """The target on wall-clock time (what a user waits)."""
        if self.target is None or not self.samples:
            return None
        return bool(self.target.holds(self)) and self.extra.get("memory_ok", True)

    @property
    def holds_on_cpu(self) -> bool | None:
        """The target on this process's CPU time: what the code costs, whatever else runs on the machine."""
        if self.target is None or id(self.samples) not in CPU:
            return None
        return bool(self.target.holds(self, cpu=True)) and self.extra.get("memory_ok", True)

    def to_json(self) -> dict:
        return {"name": self.name, "runs": len(self.samples), "p50_s": self.p50, "p95_s": self.p95,
                "cpu_p50_s": self.cpu_p50,
                "floor_p50_s": self.floor_p50, "ratio": self.ratio, "floor": self.floor_note,
                "target": self.target.text if self.target else None, "holds": self.holds,
                "holds_on_cpu": self.holds_on_cpu, "extra": self.extra,
                "error": self.error, "samples_s": [round(s, 6) for s in self.samples]}


CPU: dict[int, list[float]] = {}  # id(samples list) → the CPU seconds of the same runs


def repeat(func: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of `runs` runs after `warmup` ones; the CPU seconds of this process are kept beside them
    (SQLite runs in-process, so CPU time is what other load on a shared machine cannot inflate)."""
    for _ in range(warmup):
        func()
    samples, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        func()
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    CPU[id(samples)] = cpu
    return samples


def peak_memory_mb(func: Callable[[], object]) -> float:
    """Peak Python memory allocated while func runs (tracemalloc, one extra run)."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------- floors: raw driver + minimal template


class Raw:
    """The DB-API connection of the same database (sqlite3 or psycopg), outside SQLAlchemy."""

    def __init__(self, engine):
        self.wrapper = engine.raw_connection()
        self.connection = self.wrapper.driver_connection

    def rows(self, sql: str) -> list:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
        cursor.close()
        return rows

    def stream(self, sql: str, size: int = 10_000) -> int:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        count = 0
        while batch := cursor.fetchmany(size):
            count += len(batch)
        cursor.close()
        return count

    def page(self, sql: str, count_sql: str | None = None) -> str:
        """The rows and the counts (a plain count, or a GROUP BY whose last column is the count: the facets)."""
        rows = self.rows(sql)
        facets = self.rows(count_sql) if count_sql else []
        total = sum(row[-1] for row in facets) if count_sql else len(rows)
        return FLOOR_TEMPLATE.render(rows=rows, facets=facets if len(facets) > 1 else [], total=total)

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.connection.rollback()
        self.wrapper.close()


# ---------------------------------------------------------------- the operations


def login(client, username: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"cannot log in as {username}: {response.status_code}")


def page_runner(client, url: str) -> Callable[[], None]:
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        response.get_data()

    return get


class FreshClient(FlaskClient):
    """Each request starts with an empty `g`, as in production (the benchmark keeps an app context pushed for the
    direct operations, and Flask reuses it for test requests: the logged-in user and CSRF token would leak)."""

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        return super().open(*args, **kwargs)


@dataclass
class Context:
    app: object
    city: object  # generator.City (as loaded from its JSON)
    runs: int
    heavy_runs: int
    log: Callable[[str], None] = print
    clients: dict = field(default_factory=dict)

    def client(self, username: str | None):
        if username not in self.clients:
            self.app.test_client_class = FreshClient
            client = self.app.test_client()
            if username:
                login(client, username)
            self.clients[username] = client
        return self.clients[username]


def _scalar(sql: str):
    from govrisk.extensions import db

    return db.session.execute(sa.text(sql)).scalar()


def _pages(ctx: Context) -> list[tuple]:
    """(name, user, url, floor sql, floor count sql, target)."""
    flow_id = ctx.city.big_flow_id or _scalar("SELECT max(id) FROM flows WHERE state = 'published'")
    return [
        ("catalog list", "inspector", "/catalog/powers",
         "SELECT p.id, p.code, p.name, p.category, p.state, d.name FROM powers p JOIN departments d "
         "ON d.id = p.department_id ORDER BY p.code LIMIT 20",
         "SELECT department_id, category, count(*) FROM powers GROUP BY department_id, category",
         Target("p95", 0.050, "p95 ≤ 50 ms", 3)),
        ("catalog list, one department (editor)", "bench_editor", "/catalog/powers",
         f"SELECT p.id, p.code, p.name, p.category, p.state FROM powers p WHERE p.department_id = "
         f"{ctx.city.department_ids[0]} ORDER BY p.code LIMIT 20",
         f"SELECT department_id, category, count(*) FROM powers WHERE department_id = "
         f"{ctx.city.department_ids[0]} GROUP BY department_id, category",
         Target("p95", 0.050, "p95 ≤ 50 ms", 3)),
        ("portal search", None, "/portal/?q=%E9%A3%9F%E5%93%81",  # 食品
         "SELECT code, name, department_id FROM power_versions WHERE is_current = TRUE AND is_public = TRUE "
         "AND search_text LIKE '%食品%' ORDER BY code LIMIT 20",
         "SELECT count(*) FROM power_versions WHERE is_current = TRUE AND is_public = TRUE "
         "AND search_text LIKE '%食品%'", Target("p95", 0.050, "p95 ≤ 50 ms", 3)),
        ("risk register list", "inspector", "/risks/",
         "SELECT r.id, r.code, r.name, r.risk_type, r.proposed_level, r.confirmed_level, r.state, d.name, p.code "
         "FROM risk_points r JOIN departments d ON d.id = r.department_id JOIN powers p ON p.id = r.power_id "
         "WHERE r.state <> 'retired' ORDER BY r.code LIMIT 20",
         "SELECT count(*) FROM risk_points WHERE state <> 'retired'", Target("p95", 0.050, "p95 ≤ 50 ms", 5)),
        ("heat map", "inspector", "/risks/analysis",
         "SELECT likelihood, severity, count(*) FROM risk_points WHERE state <> 'retired' "
         "GROUP BY likelihood, severity", None, Target("p95", 0.100, "p95 ≤ 100 ms", 5)),
        ("flow page (largest flow)", "inspector", f"/flows/{flow_id}",
         f"SELECT s.key, s.name, s.post_name, s.role, s.time_limit_days, e.source_key, e.target_key FROM flow_steps s "
         f"LEFT JOIN flow_edges e ON e.flow_id = s.flow_id AND e.source_key = s.key WHERE s.flow_id = {flow_id} "
         "ORDER BY s.position", None, None),
        ("supervision dashboard", "inspector", "/supervision/",
         "SELECT * FROM supervision_department_stats",
         "SELECT count(*) FROM supervision_alerts WHERE state = 'open'", Target("p95", 0.200, "≤ 200 ms", 7)),
    ]


def measure_pages(ctx: Context, raw: Raw) -> list[Result]:
    results = []
    for name, user, url, floor_sql, count_sql, target in _pages(ctx):
        result = Result(name, target=target, floor_note="raw SELECT of the page's rows + minimal Jinja table")
        try:
            get = page_runner(ctx.client(user), url)
            result.samples = repeat(get, ctx.runs, warmup=2)
            result.floor = repeat(lambda s=floor_sql, c=count_sql: raw.page(s, c), ctx.runs, warmup=1)
            result.extra["url"] = url
        except Exception as exc:
            result.error = f"not available: {type(exc).__name__}: {exc}"[:300]
        results.append(result)
        ctx.log(line(result))
    return results


def _rolled_back(func: Callable[[], object]) -> Callable[[], object]:
    """Run func inside the session's transaction and roll it back, so that every run sees the same data."""
    from govrisk.extensions import db

    def run():
        try:
            return func()
        finally:
            db.session.rollback()

    return run


def measure_validate_flows(ctx: Context, raw: Raw) -> Result:
    result = Result("validate all flows", target=Target("max", 5.0, "≤ 5 s (20,000 flows)", 4),
                    floor_note="raw SELECT of every flow step and edge")
    try:
        from govrisk.flows.operations import recheck_flows

        result.samples = repeat(_rolled_back(recheck_flows), ctx.heavy_runs, warmup=0)
        result.floor = repeat(lambda: raw.stream("SELECT flow_id, key, role, time_limit_days, post_name FROM "
                                                 "flow_steps") + raw.stream("SELECT flow_id, source_key, target_key, "
                                                                            "is_loop FROM flow_edges"),
                              ctx.heavy_runs, warmup=0)
        result.extra["flows"] = _scalar("SELECT count(*) FROM flows")
    except Exception as exc:
        result.error = f"not available: {type(exc).__name__}: {exc}"[:300]
    ctx.log(line(result))
    return result


FLOOR_SVG = Environment(autoescape=True).from_string(
    '<svg xmlns="http://www.w3.org/2000/svg">{% for s in steps %}<rect x="10" y="{{ loop.index * 60 }}" '
    'width="160" height="50"/><text x="20" y="{{ loop.index * 60 + 20 }}">{{ s.name }} {{ s.post }} '
    '{{ s.time_limit_days }}</text>{% endfor %}{% for e in edges %}<line data-from="{{ e.source }}" '
    'data-to="{{ e.target }}"/>{% endfor %}</svg>')


def measure_draw_flow(ctx: Context, raw: Raw) -> Result:
    """One 40-step flow drawn as SVG (layered layout, loop arcs, labels), as its page and PDF use it."""
    result = Result("draw one 40-step flow as SVG", target=Target("p95", 0.050, "p95 ≤ 50 ms", 4),
                    floor_note="the same steps and edges as bare SVG boxes and lines from a minimal Jinja template")
    try:
        import random

        from benchmarks.flows_bench import generated
        from govrisk.core.charts import drawing_to_svg
        from govrisk.core.pdf import cjk_font_name
        from govrisk.flows.drawing import flow_drawing

        doc, font = generated(0, random.Random(ctx.runs)), cjk_font_name()
        result.samples = repeat(lambda: drawing_to_svg(flow_drawing(doc, highlight={"s3"}, font_name=font)),
                                ctx.runs, warmup=2)
        result.floor = repeat(lambda: FLOOR_SVG.render(steps=doc.steps, edges=doc.edges), ctx.runs, warmup=1)
        result.extra["steps"] = len(doc.steps)
    except Exception as exc:
        result.error = f"not available: {type(exc).__name__}: {exc}"[:300]
    ctx.log(line(result))
    return result


def measure_ingest(ctx: Context, raw: Raw, builder) -> Result:
    n = builder.scale.ingest_events
    result = Result(f"ingest {n:,} events", target=Target("rate", 20_000, "≥ 20,000 events/s", 7),
                    floor_note="raw executemany of the same rows into a temporary table")
    try:
        from govrisk.extensions import db
        from govrisk.supervision.ingest import MAX_BATCH, ingest_events

        start = builder.now - timedelta(days=30)
        batches = list(builder.event_batches(n, prefix="BI", start=start, days=28, batch=MAX_BATCH))
        total = sum(len(b) for b in batches)

        def ingest():
            for rows in batches:
                ingest_events(rows, actor=None, source="benchmark")
            db.session.flush()

        result.samples = repeat(_rolled_back(ingest), ctx.heavy_runs, warmup=0)
        values = [(r.case_ref, r.power_code, r.step_key, r.event, r.actor, r.at.isoformat()) for b in batches
                  for r in b]

        def floor():
            cursor = raw.connection.cursor()
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_floor_events (case_ref VARCHAR(60), "
                           "power_code VARCHAR(60), step_key VARCHAR(60), event VARCHAR(10), actor VARCHAR(120), "
                           "at VARCHAR(40))")
            marks = ", ".join(["?"] * 6) if "sqlite" in type(raw.connection).__module__ else ", ".join(["%s"] * 6)
            cursor.executemany(f"INSERT INTO bench_floor_events VALUES ({marks})", values)
            cursor.close()
            raw.rollback()

        result.floor = repeat(floor, ctx.heavy_runs, warmup=0)
        result.extra.update(events=total, rate=round(total / statistics.median(result.samples)),
                            cpu_rate=round(total / result.cpu_p50))
    except Exception as exc:
        result.error = f"not available: {type(exc).__name__}: {exc}"[:300]
    ctx.log(line(result, rate=True))
    return result


def measure_scan(ctx: Context, raw: Raw) -> Result:
    result = Result("scan all events", target=Target("max", 5.0, "≤ 5 s (1,000,000 events)", 7),
                    floor_note="raw SELECT of every event row")
    try:
        from govrisk.extensions import db
        from govrisk.supervision.scan import run_scan

        cases = db.metadata.tables["supervision_cases"]

        def queue_all():  # every case waits for the scan, as after a calendar change: the full scan
            try:
                from govrisk.supervision.ingest import queue_for_scan
            except ImportError:
                db.session.execute(sa.update(cases).values(needs_scan=True))
            else:
                queue_for_scan(None)

        def scan():
            queue_all()
            run_scan()

        result.samples = repeat(_rolled_back(scan), ctx.heavy_runs, warmup=0)
        result.floor = repeat(lambda: raw.stream("SELECT case_id, step_key, event, at, actor, work_us FROM "
                                                 "supervision_events"), ctx.heavy_runs, warmup=0)
        result.extra["events"] = _scalar("SELECT count(*) FROM supervision_events")
        result.extra["cases"] = _scalar("SELECT count(*) FROM supervision_cases")
        result.name = f"scan {result.extra['events']:,} events"
    except Exception as exc:
        result.error = f"not available: {type(exc).__name__}: {exc}"[:300]
    ctx.log(line(result))
    return result


def measure_reports(ctx: Context, raw: Raw) -> list[Result]:
    results = []
    try:
        from govrisk.reports.annual import annual_report_pdf
        from govrisk.review.queries import cycle_for_year, get_cycle_department

        cycle = cycle_for_year(ctx.city.cycle_year) if ctx.city.cycle_year else None
        if cycle is None:
            raise LookupError("the generator made no review cycle")
        participant = get_cycle_department(cycle, ctx.city.big_department_id)
        cases = [("annual report (city)", None, Target("max", 20.0, "≤ 20 s, ≤ 500 MB", 6), 500,
                  f"SELECT department_id, kind, data FROM review_snapshot_parts WHERE cycle_id = {cycle.id}"),
                 ("annual report (one department)", participant, Target("max", 2.0, "≤ 2 s", 6), None,
                  f"SELECT department_id, kind, data FROM review_snapshot_parts WHERE cycle_id = {cycle.id} "
                  f"AND department_id = {ctx.city.big_department_id}")]
    except Exception as exc:
        result = Result("annual report", error=f"not available: {type(exc).__name__}: {exc}"[:300])
        ctx.log(line(result))
        return [result]
    for name, scope, target, memory_limit, floor_sql in cases:
        result = Result(name, target=target, floor_note="raw SELECT of the cycle's snapshot rows + minimal template")
        try:
            runs = ctx.heavy_runs if scope is None else max(ctx.heavy_runs, 5)
            result.samples = repeat(lambda s=scope: annual_report_pdf(cycle, s), runs, warmup=0 if scope is None
                                    else 1)
            result.floor = repeat(lambda s=floor_sql: raw.page(s), runs, warmup=0)
            result.extra["peak_mb"] = round(peak_memory_mb(lambda s=scope: annual_report_pdf(cycle, s)), 1)
            result.extra["pdf_kb"] = len(annual_report_pdf(cycle, scope)) // 1024
            if memory_limit:
                result.extra["memory_ok"] = result.extra["peak_mb"] <= memory_limit
        except Exception as exc:
            result.error = f"not available: {type(exc).__name__}: {exc}"[:300]
        results.append(result)
        ctx.log(line(result, memory=True))
    return results


def _import_file(n: int) -> bytes:
    """n new risk points in the 登记表 layout of the risks domain (its COLUMNS and EXTRA_COLUMNS), made from the
    city's points by one query (exporting 60,000 points through the page code would time the export instead):
    the same power, step, post and people, a new name and no code, so that every row creates a point."""
    from openpyxl import Workbook

    from govrisk.extensions import db
    from govrisk.risks.registers import COLUMNS, EXTRA_COLUMNS

    names = dict(db.session.execute(sa.text("SELECT kind || ':' || key, name_zh FROM reference_items")).all())
    rows = db.session.execute(sa.text(
        "SELECT d.name, s.name, po.name, p.name, st.name, r.name, r.manifestation, r.risk_type, r.proposed_level, "
        "m.measure_type, m.description, pr.name, ps.name, r.likelihood, r.severity, r.discretion, r.methods, "
        "r.indicator, p.code, r.step_key FROM risk_points r JOIN departments d ON d.id = r.department_id "
        "JOIN powers p ON p.id = r.power_id LEFT JOIN posts po ON po.id = r.post_id "
        "LEFT JOIN sections s ON s.id = po.section_id LEFT JOIN flow_steps st ON st.id = r.step_id "
        "LEFT JOIN people pr ON pr.id = r.responsible_id LEFT JOIN people ps ON ps.id = r.supervisor_id "
        "LEFT JOIN risk_measures m ON m.risk_point_id = r.id WHERE p.code LIKE 'BM-%' ORDER BY r.id "
        f"LIMIT {n}")).all()
    discretion = {"large": "大", "medium": "中", "small": "小"}
    book = Workbook(write_only=True)
    sheet = book.create_sheet("廉政风险点登记表")
    sheet.append(["基准城市廉政风险点登记表"])
    sheet.append([*COLUMNS, *EXTRA_COLUMNS])
    for i, r in enumerate(rows, start=1):
        unit = f"{r[0]}/{r[1]}" if r[1] else r[0]
        methods = "、".join(names.get(f"identification_method:{k}", k) for k in (r[16] or "").split(",") if k)
        sheet.append([i, unit, r[2] or "", r[3], r[4] or "", f"{r[5]}（导入）", r[6], names.get(f"risk_type:{r[7]}",
                      r[7]), {1: "一级", 2: "二级", 3: "三级"}.get(r[8], ""),
                      f"1.【{names.get('measure_type:' + (r[9] or ''), r[9] or '')}】{r[10]}" if r[10] else "",
                      r[11] or "", r[12] or "", r[13], r[14], discretion.get(r[15], ""), methods, r[17] or "", r[18],
                      r[19] or "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def measure_export(ctx: Context, raw: Raw) -> list[Result]:
    """The 登记表 XLSX export (risks domain) of the largest department and of the whole city; no target."""
    results = []
    try:
        from govrisk.risks.registers import register_xlsx
    except ImportError as exc:
        result = Result("登记表 XLSX export", error=f"not available: {exc}")
        ctx.log(line(result))
        return [result]
    big = ctx.city.big_department_id
    for name, department, runs in (("登记表 XLSX export (one department)", big, ctx.heavy_runs),
                                   ("登记表 XLSX export (city)", None, 1)):
        result = Result(name, floor_note="raw SELECT of the points, measures and names it lists")
        where = f"WHERE r.department_id = {department}" if department else ""
        try:
            result.samples = repeat(lambda d=department: register_xlsx(None, department_id=d), runs, warmup=0)
            result.floor = repeat(lambda w=where: raw.stream(
                "SELECT r.*, m.description, p.name, d.name FROM risk_points r JOIN powers p ON p.id = r.power_id "
                f"JOIN departments d ON d.id = r.department_id LEFT JOIN risk_measures m ON m.risk_point_id = r.id "
                f"{w}"), runs, warmup=0)
            result.extra["points"] = _scalar(f"SELECT count(*) FROM risk_points r {where}")
        except Exception as exc:
            result.error = f"failed: {type(exc).__name__}: {exc}"[:300]
        results.append(result)
        ctx.log(line(result))
    return results


def measure_import(ctx: Context, raw: Raw, n: int) -> list[Result]:
    try:
        from govrisk.risks.registers import RiskRegisterImporter

        started = time.perf_counter()
        data = _import_file(n)
        ctx.log(f"  (import file: {n:,} rows in the 登记表 layout, {len(data) // 1024} KB, built in "
                f"{time.perf_counter() - started:.1f} s)")
    except Exception as exc:
        result = Result("XLSX import", error=f"not available: {type(exc).__name__}: {exc}"[:300])
        ctx.log(line(result))
        return [result]
    results = []

    def floor():
        from openpyxl import load_workbook

        rows = [tuple(str(v) for v in r[:6]) for r in load_workbook(io.BytesIO(data), read_only=True)
                .worksheets[0].iter_rows(min_row=3, values_only=True)]
        cursor = raw.connection.cursor()
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_floor_import (a TEXT, b TEXT, c TEXT, d TEXT, "
                       "e TEXT, f TEXT)")
        marks = ", ".join(["?"] * 6) if "sqlite" in type(raw.connection).__module__ else ", ".join(["%s"] * 6)
        cursor.executemany(f"INSERT INTO bench_floor_import VALUES ({marks})", rows)
        cursor.close()
        raw.rollback()

    floor_samples = repeat(floor, 1, warmup=0)
    for name, step in (("preview", "preview"), ("check + write", "run")):
        result = Result(f"XLSX import {n:,} risk points: {name}",
                        floor_note="openpyxl read + raw executemany of the rows", floor=floor_samples)
        try:
            importer = RiskRegisterImporter()

            def go(step=step, importer=importer):
                if step == "preview":
                    preview = importer.preview(data, "register.xlsx", max_bytes=len(data) + 1)
                else:
                    preview = importer.run(data, "register.xlsx", actor=None, max_bytes=len(data) + 1)
                if not preview.ok:
                    raise RuntimeError(f"{len(preview.bad_rows)} rows refused, e.g. "
                                       f"{preview.bad_rows[0].line}: {preview.bad_rows[0].errors}")

            result.samples = repeat(_rolled_back(go), 1, warmup=0)
            result.extra["rows_per_s"] = round(n / result.samples[0])
        except Exception as exc:
            result.error = f"failed: {type(exc).__name__}: {exc}"[:300]
        results.append(result)
        ctx.log(line(result))
    return results


# ---------------------------------------------------------------- printing


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def header() -> str:
    return f"{'operation':<48}{'p50':>11}{'p95':>11}{'cpu p50':>11}{'floor p50':>11}{'ratio':>8}  target"


def line(result: Result, *, rate: bool = False, memory: bool = False) -> str:
    if result.error:
        return f"{result.name:<48}  {result.error}"
    verdict = "" if result.target is None else ("✓" if result.holds else "✗")
    ratio = f"{result.ratio:.1f}×" if result.ratio else "—"
    text = (f"{result.name:<48}{_ms(result.p50):>11}{_ms(result.p95):>11}{_ms(result.cpu_p50):>11}"
            f"{_ms(result.floor_p50):>11}{ratio:>8}")
    target = f"  {verdict} {result.target.text} (issue {result.target.issue})" if result.target else "  (no target)"
    if rate and "rate" in result.extra:
        target += f"  [{result.extra['rate']:,} events/s wall, {result.extra['cpu_rate']:,}/s of CPU]"
    if memory and "peak_mb" in result.extra:
        ok = result.extra.get("memory_ok")
        target += f"  [peak {result.extra['peak_mb']:,.0f} MB{'' if ok is None else ' ✓' if ok else ' ✗'}]"
    if "rows_per_s" in result.extra:
        target += f"  [{result.extra['rows_per_s']:,} rows/s]"
    return text + target
