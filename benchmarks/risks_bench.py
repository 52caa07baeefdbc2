"""City-scale timing of the risk register list and the heat map (issue 5: p95 ≤ 50 ms and ≤ 100 ms at 60,000 risk
points and 60,000 measures, SQLite).

    python benchmarks/risks_bench.py [--points 60000] [--powers 20000] [--runs 40] [--db /tmp/govrisk-risks-bench.db]

Builds (once) a SQLite database with the demo city, ~60 departments, N powers and N risk points with one measure
each (a tenth of them overdue), then requests each page through the full Flask stack (routing, queries, template,
SVG) and prints p50/p95 per scenario, wall clock and CPU. Not part of the test suite.
"""

import argparse
import random
import re
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from catalog_bench import p95, timed  # the same timing (wall and CPU) as the catalog's benchmark

TYPES = ["ideology", "post_duty", "process", "institution", "environment"]
MEASURE_TYPES = ["institution", "procedure_control", "sod", "technology", "education", "supervision", "rotation"]
STATES = ["draft", "submitted", "dept_approved", "confirmed", "confirmed", "confirmed", "returned", "retired"]
WORDS = ["审批", "审查", "执法", "采购", "招标", "资金", "人事", "检查", "处罚", "许可", "补贴", "验收"]


def _departments(db):
    from govrisk.org.models import Department
    from govrisk.org.operations import create_department

    existing = db.session.scalar(sa.select(sa.func.count(Department.id)))
    for i in range(max(0, 60 - existing)):
        create_department({"code": f"BR-D{i:02d}", "name": f"基准测试局{i:02d}", "kind": "government"}, actor=None)
    db.session.commit()
    return [(d.id, d.code) for d in db.session.scalars(sa.select(Department))]


def _insert(db, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), 2000):
        db.session.execute(table.insert(), rows[i:i + 2000])


def build(n_points: int, n_powers: int) -> None:
    from govrisk.catalog.models import Power
    from govrisk.demo import load_seed
    from govrisk.extensions import db
    from govrisk.risks.models import ControlMeasure, RiskPoint

    load_seed(demo=True)
    departments = _departments(db)
    rng, now, today = random.Random(5), datetime.now(UTC), date.today()
    start = (db.session.scalar(sa.select(sa.func.max(Power.id))) or 0) + 1
    powers = []
    for k in range(n_powers):
        dept_id, dept_code = rng.choice(departments)
        powers.append({"id": start + k, "code": f"{dept_code}-BR-{k:05d}", "name": f"{rng.choice(WORDS)}事项{k}",
                       "sub_items": "", "category": "xk", "source": "", "level": "", "department_id": dept_id,
                       "is_fee_charged": False, "fee_basis": "", "fee_standard": "", "place": "", "phone": "",
                       "supervision_channel": "", "accountability": "", "is_major_matter": rng.random() < 0.1,
                       "is_public": True, "state": "published", "published_number": 1, "search_text": "",
                       "version": 1, "created_at": now, "updated_at": now})
    _insert(db, Power.__table__, powers)
    first_point = (db.session.scalar(sa.select(sa.func.max(RiskPoint.id))) or 0) + 1
    points, measures = [], []
    for k in range(n_points):
        power = rng.choice(powers)
        likelihood, severity = rng.randint(1, 5), rng.randint(1, 5)
        proposed = 1 if likelihood >= 4 or severity >= 5 else 2 if likelihood >= 3 or severity >= 4 else 3
        state = rng.choice(STATES)
        confirmed = (proposed if rng.random() < 0.9 else rng.randint(1, 3)) if state == "confirmed" else None
        name = f"{rng.choice(WORDS)}环节风险{k}"
        code = f"FX-BR-{k:06d}"
        points.append({"id": first_point + k, "code": code, "department_id": power["department_id"],
                       "power_id": power["id"], "name": name, "manifestation": "违规操作、收受好处",
                       "risk_type": rng.choice(TYPES), "methods": "self_check", "likelihood": likelihood,
                       "severity": severity, "discretion": rng.choice(["large", "medium", "small"]),
                       "indicator": "", "proposed_level": proposed, "proposal_note": "", "confirmed_level": confirmed,
                       "confirmed_reason": "", "residual_reason": "", "state": state,
                       "search_text": f"{code} {name} {power['code']} {power['name']}".lower(), "version": 1,
                       "created_at": now, "updated_at": now})
        overdue = rng.random() < 0.1
        measures.append({"risk_point_id": first_point + k, "department_id": power["department_id"],
                         "measure_type": rng.choice(MEASURE_TYPES), "description": "完善制度、加强监督",
                         "status": "in_progress" if overdue else rng.choice(["planned", "implemented", "verified"]),
                         "evidence": "", "due_on": today + timedelta(days=rng.randint(-200, 200)),
                         "is_overdue": overdue, "escalation_level": 1 if overdue else 0, "version": 1,
                         "created_at": now, "updated_at": now})
    _insert(db, RiskPoint.__table__, points)
    _insert(db, ControlMeasure.__table__, measures)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


SCENARIOS = {
    "inspector": [
        ("list", "register list", "/risks/"),
        ("list", "register list, page 1000", "/risks/?page=1000"),
        ("list", "register list, text", "/risks/?q=采购"),
        ("list", "register list, department", "/risks/?department=3"),
        ("list", "register list, level+type", "/risks/?level=1&type=process"),
        ("list", "register list, confirmed+state", "/risks/?confirmed=1&state=confirmed"),
        ("list", "register list, overdue measures", "/risks/?overdue=1"),
        ("list", "register list, matrix cell", "/risks/?likelihood=4&severity=5"),
        ("map", "heat map (city)", "/risks/analysis"),
        ("map", "heat map (department)", "/risks/analysis?department=3"),
        ("map", "heat map (type)", "/risks/analysis?type=process"),
    ],
    "editor": [("list", "register list (one department)", "/risks/"),
               ("map", "heat map (one department)", "/risks/analysis")],
}
TARGETS = {"list": 50.0, "map": 100.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=60000)
    parser.add_argument("--powers", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--db", default="/tmp/govrisk-risks-bench.db")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from govrisk import create_app
    from govrisk.extensions import db

    path = Path(args.db)
    fresh = not path.exists()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        if fresh:
            t0 = time.perf_counter()
            build(args.points, args.powers)
            print(f"built {args.points} risk points in {time.perf_counter() - t0:.1f}s")
        points = db.session.scalar(sa.text("SELECT count(*) FROM risk_points"))
        measures = db.session.scalar(sa.text("SELECT count(*) FROM risk_measures"))
        print(f"database: {path} ({points} risk points, {measures} measures)")
        db.session.remove()

    print(f"{'scenario':<40}{'p50 ms':>9}{'p95 ms':>9}{'cpu p50':>9}{'cpu p95':>9}{'target':>8}")
    worst: dict[str, float] = {"list": 0.0, "map": 0.0}
    for user, pages in SCENARIOS.items():
        with app.test_client() as client:
            html = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
            client.post("/login", data={"csrf_token": token, "username": user, "password": "Demo@2026"})
            for kind, label, url in pages:
                wall, cpu = timed(client, url, args.runs)
                worst[kind] = max(worst[kind], p95(wall))
                print(f"{label:<40}{statistics.median(wall):>9.1f}{p95(wall):>9.1f}"
                      f"{statistics.median(cpu):>9.1f}{p95(cpu):>9.1f}{TARGETS[kind]:>8.0f}")
    for kind, value in worst.items():
        print(f"worst p95 {kind}: {value:.1f} ms (target ≤ {TARGETS[kind]:.0f} ms)")


if __name__ == "__main__":
    main()
