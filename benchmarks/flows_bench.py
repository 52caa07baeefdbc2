"""City-scale timing of flow validation and drawing (issue 4: 20,000 flows validated ≤ 5 s; one 40-step SVG ≤ 50 ms).

    python benchmarks/flows_bench.py [--flows 20000] [--seed 4] [--db]

Validates N generated flow documents (4–12 steps each, a 补正 loop and a branch in most, every 50th one with 40 steps)
with the pure validator, parses the same documents from §7.1 JSON, draws one 40-step flow to SVG repeatedly, and
exports it to BPMN. With --db it also stores N flows in a fresh SQLite database and times `recheck_flows()`, which
reads every stored flow back and re-validates it. Not part of the test suite.
"""

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from govrisk.flows.validation import ROLES, Edge, FlowDoc, Step, parse_flow, validate_flow

POSTS = ["窗口受理岗", "审查岗", "分管领导", "执法岗", "监督岗", "财务岗", "现场核查岗", "法制审核岗"]


def generated(index: int, rnd: random.Random) -> FlowDoc:
    """A plausible flow: a main line, a loop back for 补正, sometimes a branch that skips a step."""
    n = 40 if index % 50 == 0 else rnd.randint(4, 12)
    steps = tuple(Step(f"s{i}", f"第{i}环节办理事项", rnd.choice(POSTS), ROLES[i] if i < 4 else rnd.choice(ROLES),
                       rnd.randint(0, 5), ("文书",) if i % 3 == 0 else ()) for i in range(n))
    edges = [Edge(f"s{i}", f"s{i + 1}") for i in range(n - 1)]
    if n > 3:
        back = rnd.randint(1, n - 2)
        edges.append(Edge(f"s{back}", f"s{rnd.randint(0, back - 1)}", loop=True, label="补正"))
        skip = rnd.randint(0, n - 3)
        edges.append(Edge(f"s{skip}", f"s{skip + 2}", label="简易程序"))
    return FlowDoc(f"XK-{index:05d}", "internal", 40 * 5, steps, tuple(edges))


def timed(label: str, func, budget: float | None = None):
    """Wall-clock and CPU time (on a busy machine the CPU time is the fairer figure)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func()
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    verdict = "" if budget is None else ("  ✓" if min(elapsed, used) <= budget else f"  ✗ (budget {budget:.3f} s)")
    print(f"{label:<58} {elapsed:8.3f} s wall {used:8.3f} s cpu{verdict}")
    return result, elapsed


def pure(n: int, seed: int) -> FlowDoc:
    rnd = random.Random(seed)
    docs = [generated(i, rnd) for i in range(n)]
    print(f"{n} flows, {sum(len(d.steps) for d in docs)} steps, {sum(len(d.edges) for d in docs)} edges")
    reports, _ = timed(f"validate {n} flows (validate_flow)", lambda: [validate_flow(d) for d in docs], 5.0)
    assert sum(r.ok for r in reports) == n, "generated flows should all be valid"
    texts = [json.dumps(d.to_dict(), ensure_ascii=False) for d in docs]
    timed(f"parse + validate {n} flows from §7.1 JSON", lambda: [validate_flow(parse_flow(t)[0]) for t in texts])
    return docs[0]


def drawing(doc: FlowDoc) -> None:
    from govrisk.core.charts import drawing_to_svg
    from govrisk.core.pdf import cjk_font_name
    from govrisk.flows.bpmn import flow_to_bpmn
    from govrisk.flows.drawing import flow_drawing

    font = cjk_font_name()
    drawing_to_svg(flow_drawing(doc, font_name=font))  # warm the font metrics
    svg = drawing_to_svg(flow_drawing(doc, highlight={"s3"}, font_name=font))
    print(f"40-step chart: {len(svg) // 1024} KB of SVG")
    def draw():
        return drawing_to_svg(flow_drawing(doc, highlight={"s3"}, font_name=font))

    cases = (("one 40-step flow → SVG", draw, 0.05), ("one 40-step flow → BPMN 2.0", lambda: flow_to_bpmn(doc), None))
    for label, func, budget in cases:
        wall, cpu = [], []
        for _ in range(20):
            start, used = time.perf_counter(), time.process_time()
            func()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - used)
        best = min(statistics.median(wall), statistics.median(cpu))
        verdict = "" if budget is None else ("  ✓" if best <= budget else f"  ✗ (budget {budget:.3f} s)")
        print(f"{label + ' (median of 20)':<58} {statistics.median(wall):8.3f} s wall "
              f"{statistics.median(cpu):8.3f} s cpu{verdict}")


def database(n: int, seed: int) -> None:
    import sqlalchemy as sa

    from govrisk import create_app
    from govrisk.catalog.models import Power
    from govrisk.extensions import db
    from govrisk.flows.models import Flow, FlowEdge, FlowKind, FlowStep
    from govrisk.flows.operations import recheck_flows
    from govrisk.org.operations import create_department

    folder = Path(tempfile.mkdtemp(prefix="govrisk-flows-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench"})
    app.instance_path = str(folder)
    rnd = random.Random(seed)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        department = create_department({"code": "BENCH", "name": "基准测试局", "kind": "government"}, actor=None)
        powers = [{"code": f"XK-{i:05d}", "name": f"事项{i}", "category": "xk", "department_id": department.id,
                   "promised_days": 60, "sub_items": "", "source": "", "level": "", "fee_basis": "", "fee_standard": "",
                   "place": "", "phone": "", "supervision_channel": "", "accountability": "", "search_text": "",
                   "is_fee_charged": False, "is_major_matter": False, "is_public": True, "state": "published",
                   "version": 1} for i in range(n)]

        def load():
            db.session.execute(sa.insert(Power), powers)
            ids = dict(db.session.execute(sa.select(Power.code, Power.id)).all())
            flows, steps, edges = [], [], []
            for i in range(n):
                doc = generated(i, rnd)
                flows.append({"id": i + 1, "power_id": ids[doc.power_code], "kind": FlowKind.INTERNAL, "number": 1,
                              "state": "draft", "version": 1, "findings_json": "[]", "step_count": len(doc.steps),
                              "decision_step_count": 0, "error_count": 0, "warning_count": 0})
                steps += [{"flow_id": i + 1, "position": p, "key": s.id, "name": s.name, "post_name": s.post,
                           "role": s.role, "time_limit_days": s.time_limit_days, "documents_json": "[]"}
                          for p, s in enumerate(doc.steps)]
                edges += [{"flow_id": i + 1, "position": p, "source_key": e.source, "target_key": e.target,
                           "label": e.label, "is_loop": e.loop} for p, e in enumerate(doc.edges)]
            db.session.execute(sa.insert(Flow), flows)
            db.session.execute(sa.insert(FlowStep), steps)
            db.session.execute(sa.insert(FlowEdge), edges)
            db.session.commit()

        timed(f"store {n} powers and flows (bulk insert, SQLite)", load)
        changed, _ = timed(f"recheck_flows(): read back + validate {n} stored flows", recheck_flows)
        db.session.commit()
        print(f"  {changed} stored summaries updated")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--db", action="store_true", help="also time re-validating flows stored in SQLite")
    args = parser.parse_args()
    big = pure(args.flows, args.seed)
    drawing(big)
    if args.db:
        database(args.flows, args.seed)


if __name__ == "__main__":
    main()
