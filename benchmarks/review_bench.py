"""City-scale timing and memory of the annual review (issue 6): freezing the snapshot, scoring, the city-wide annual
report (target ≤ 20 s, ≤ 500 MB peak) and a one-department report (target ≤ 2 s).

    python benchmarks/review_bench.py [--departments 60] [--points 60000] [--db /tmp/govrisk-review-bench.db]

Builds (once) a SQLite database: N departments, a third as many powers as risk points (80 % with a legal basis,
70 % published), an internal flow chart per power (4 steps, one decision step), the risk points (levels 1–3,
random likelihood × severity, half of the decision steps covered) and one control measure each. Then it runs a
2025 cycle (its snapshot: the year-over-year comparison has a full year to compare) and a 2026 cycle to the published
stage, timing each step; memory is the process's peak resident size (ru_maxrss; run it a second time against the
built database to see the report's own peak). Not part of the test suite.
"""

import argparse
import random
import resource
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa


def _insert(table, rows: list[dict], batch: int = 5000) -> None:
    from govrisk.extensions import db

    for i in range(0, len(rows), batch):
        db.session.execute(sa.insert(table), rows[i:i + batch])


def build(n_departments: int, n_points: int) -> None:
    """The generated city (Core inserts, one commit)."""
    from govrisk.catalog.models import Power, PowerLegalBasis
    from govrisk.demo import load_seed
    from govrisk.extensions import db
    from govrisk.flows.models import Flow, FlowStep
    from govrisk.org.models import Department
    from govrisk.risks.models import ControlMeasure, RiskPoint

    load_seed(demo=False)
    now = datetime.now(UTC)
    rng = random.Random(6)
    departments = [{"id": i, "code": f"BQ-{i:03d}", "name": f"基准测试局{i:03d}", "kind": "government",
                    "path": f"/{i}/", "sort_order": i, "is_retired": False, "version": 1, "created_at": now,
                    "updated_at": now} for i in range(1, n_departments + 1)]
    _insert(Department.__table__, departments)
    n_powers = max(n_points // 3, n_departments)
    powers, bases, flows, steps = [], [], [], []
    for pid in range(1, n_powers + 1):
        dept = (pid - 1) % n_departments + 1
        published = rng.random() < 0.7
        powers.append({"id": pid, "code": f"BQ-XK-{pid:06d}", "name": f"基准事项{pid}", "category": "xk", "source": "",
                       "level": "", "sub_items": "", "department_id": dept, "statutory_days": 20, "promised_days": 10,
                       "is_fee_charged": False, "fee_basis": "", "fee_standard": "", "place": "", "phone": "",
                       "supervision_channel": "", "accountability": "", "is_major_matter": rng.random() < 0.1,
                       "is_public": True, "state": "published" if published else "draft",
                       "published_number": 1 if published else None, "search_text": "", "version": 1,
                       "created_at": now, "updated_at": now})
        if rng.random() < 0.8:
            bases.append({"power_id": pid, "position": 0, "law": "中华人民共和国行政许可法", "article": "第十二条",
                          "clause": ""})
        flows.append({"id": pid, "power_id": pid, "kind": "internal", "number": 1, "state": "published",
                      "step_count": 4, "decision_step_count": 1, "error_count": 1 if rng.random() < 0.1 else 0,
                      "warning_count": 0, "findings_json": "[]", "version": 1, "created_at": now, "updated_at": now})
        for position, (key, role) in enumerate((("accept", "acceptance"), ("review", "review"),
                                                ("decide", "decision"), ("deliver", "execution"))):
            steps.append({"flow_id": pid, "position": position, "key": key, "name": key, "post_name": "",
                          "role": role, "documents_json": "[]"})
    _insert(Power.__table__, powers)
    _insert(PowerLegalBasis.__table__, bases)
    _insert(Flow.__table__, flows)
    _insert(FlowStep.__table__, steps)
    points, measures = [], []
    for rid in range(1, n_points + 1):
        pid = (rid - 1) % n_powers + 1
        level = rng.choice((1, 2, 2, 3, 3, 3))
        points.append({"id": rid, "code": f"BQ-FX-{rid:06d}", "department_id": (pid - 1) % n_departments + 1,
                       "power_id": pid, "step_key": "decide" if rid <= n_powers // 2 else "review",
                       "name": f"基准风险点{rid}", "manifestation": "", "risk_type": rng.choice(
                           ("ideology", "post_duty", "process", "institution", "environment")), "methods": "",
                       "likelihood": rng.randint(1, 5), "severity": rng.randint(1, 5), "indicator": "",
                       "proposed_level": level, "proposal_note": "", "confirmed_level": level, "confirmed_reason": "",
                       "residual_reason": "", "state": "confirmed", "search_text": "", "version": 1,
                       "created_at": now, "updated_at": now})
        due = date(2026, rng.randint(1, 12), rng.randint(1, 28))
        done = rng.random() < 0.7
        measures.append({"id": rid, "risk_point_id": rid, "department_id": (pid - 1) % n_departments + 1,
                         "measure_type": "institution", "description": "基准措施",
                         "status": "implemented" if done else "in_progress", "evidence": "",
                         "implemented_on": due if done else None, "due_on": due, "is_overdue": not done,
                         "escalation_level": 0, "version": 1, "created_at": now, "updated_at": now})
    _insert(RiskPoint.__table__, points)
    _insert(ControlMeasure.__table__, measures)
    db.session.commit()


def _inspector():
    from govrisk.auth import operations as auth_ops
    from govrisk.auth.queries import get_user_by_username

    user = get_user_by_username("bench-inspector")
    if user is None:
        user = auth_ops.create_user({"username": "bench-inspector", "display_name": "基准纪检",
                                     "password": "Bench@2026x", "department_id": None}, actor=None)
        auth_ops.grant_role(user, "inspector", actor=None)
    return user


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<34} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departments", type=int, default=60)
    parser.add_argument("--points", type=int, default=60000)
    parser.add_argument("--db", default="/tmp/govrisk-review-bench.db")
    args = parser.parse_args()
    fresh = not Path(args.db).exists()

    from govrisk import create_app
    from govrisk.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{args.db}", "SECRET_KEY": "bench"})
    with app.app_context(), app.test_request_context():
        if fresh:
            from flask_migrate import upgrade

            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            timed(f"build {args.departments} depts, {args.points} points", lambda: build(args.departments, args.points))
        from govrisk.reports.annual import annual_report_pdf
        from govrisk.review import operations as ops
        from govrisk.review import queries, snapshot

        inspector = _inspector()
        if queries.cycle_for_year(2025) is None:
            previous = ops.create_cycle({"year": 2025, "department_ids": queries.top_level_department_ids()},
                                        actor=inspector)
            ops.transition_cycle(previous, "open", actor=inspector)
            db.session.commit()
        cycle = queries.cycle_for_year(2026)
        if cycle is None:
            cycle = ops.create_cycle({"year": 2026, "department_ids": queries.top_level_department_ids()},
                                     actor=inspector)
            timed("open (freeze the snapshot)", lambda: ops.transition_cycle(cycle, "open", actor=inspector))
            size = snapshot.snapshot_size(cycle.id)
            print(f"  snapshot: {size['rows']} rows, {size['items']} items, {size['chars'] / 1e6:.1f} M chars")
            ops.transition_cycle(cycle, "start_inspection", actor=inspector)
            timed("assessment (compute all scores)", lambda: ops.transition_cycle(cycle, "start_assessment",
                                                                                   actor=inspector))
            ops.transition_cycle(cycle, "publish", actor=inspector)
            db.session.commit()
        print(f"  participants: {len(cycle.departments)}")
        pdf = timed("city report (PDF)", lambda: annual_report_pdf(cycle))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {len(pdf) / 1e6:.1f} MB PDF; process peak RSS so far {rss:.0f} MB")
        one = cycle.departments[0]
        timed("one-department report (PDF)", lambda: annual_report_pdf(cycle, one))
        previous = queries.previous_cycle(cycle)
        changes = timed("year-over-year, whole city", lambda: snapshot.compare_cycles(previous, cycle))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  {len(changes)} departments compared; peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
