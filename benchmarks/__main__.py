"""`python -m benchmarks run --scale small|city|province [--json FILE]` — see benchmarks/__init__.py."""

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
import zlib
from pathlib import Path
from types import SimpleNamespace

from benchmarks.generator import SCALES, Builder, build


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    memory = 0
    try:
        memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal"))) // 1024
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": memory, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(), "load_average": os.getloadavg()}


def _database(args) -> tuple[str, Path]:
    """(SQLAlchemy URL, sidecar JSON describing the city built there)."""
    if args.db and "://" in args.db:
        tag = zlib.crc32(args.db.encode())
        return args.db, Path(f"/tmp/govrisk-bench-{args.scale}-{tag}.json")
    path = Path(args.db or f"/tmp/govrisk-bench-{args.scale}.db").resolve()
    return f"sqlite:///{path}", path.with_suffix(".city.json")


def _fresh(url: str) -> None:
    import sqlalchemy as sa

    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(url: str):
    from govrisk import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-load-secret"})


def generate(args, url: str, sidecar: Path, log) -> dict:
    scale = SCALES[args.scale]
    if not args.fresh and sidecar.exists():
        city = json.loads(sidecar.read_text())
        if city.get("scale") == scale.name and city.get("seed") == args.seed:
            log(f"reusing the '{scale.name}' city in {url} (built {city.get('built_at')}; --fresh to rebuild)")
            return city
    _fresh(url)
    log(f"building the city at scale '{scale.name}' (seed {args.seed}) in {url} …")
    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from govrisk.extensions import db

        started = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        log(f"  schema       {time.perf_counter() - started:8.1f} s")
        city = build(scale, args.seed, log).to_json()
        city["built_at"] = time.strftime("%Y-%m-%d %H:%M")
        db.session.remove()
        db.engine.dispose()
    sidecar.write_text(json.dumps(city, ensure_ascii=False, indent=1))
    log(f"built in {city['timings']['total']:.0f} s")
    return city


def run(args) -> int:
    from benchmarks import measure
    from benchmarks.load import run as load_run

    log = print
    url, sidecar = _database(args)
    info = machine()
    log(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_mb']:,} MB, Python {info['python']}, "
        f"SQLite {info['sqlite']}; load average {', '.join(f'{v:.1f}' for v in info['load_average'])}")
    city_json = generate(args, url, sidecar, log)
    report = {"scale": args.scale, "database": url.split("@")[-1], "machine": info, "city": city_json, "results": []}
    if args.only != "load":
        app = make_app(url)
        with app.app_context():
            from govrisk.extensions import db

            city = SimpleNamespace(**city_json)
            ctx = measure.Context(app, city, runs=args.runs, heavy_runs=args.heavy_runs, log=log)
            builder = Builder(SCALES[args.scale], args.seed).load_existing()
            raw = measure.Raw(db.engine)
            log("")
            log(measure.header())
            results = measure.measure_pages(ctx, raw)
            results.append(measure.measure_validate_flows(ctx, raw))
            results.append(measure.measure_draw_flow(ctx, raw))
            results.append(measure.measure_ingest(ctx, raw, builder))
            results.append(measure.measure_scan(ctx, raw))
            results += measure.measure_reports(ctx, raw)
            if not args.no_import:
                results += measure.measure_import(ctx, raw, args.import_rows or SCALES[args.scale].import_points)
                results += measure.measure_export(ctx, raw)
            raw.close()
            db.session.remove()
            db.engine.dispose()
        report["results"] = [r.to_json() for r in results]
        log("")
        log(f"targets of the domain issues (wall clock | CPU time of this process; load average now "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
        words = {None: "not measured", True: "holds", False: "MISSED"}
        for r in results:
            if r.target is not None:
                log(f"  {words[r.holds]:<12} | {words[r.holds_on_cpu]:<12} {r.name}: {r.target.text} "
                    f"(issue {r.target.issue})")
    if not args.no_load:
        log("")
        report["load"] = load_run(url, seconds=args.load_seconds, threads=args.load_threads,
                                  flow_id=city_json.get("big_flow_id"), power_code=_a_public_code(url), log=log)
    report["machine"]["load_average_after"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        log(f"\nwrote {args.json}")
    return 0


def _a_public_code(url: str) -> str | None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        code = connection.execute(sa.text("SELECT code FROM power_versions WHERE is_current = TRUE AND "
                                          "is_public = TRUE ORDER BY id LIMIT 1")).scalar()
    engine.dispose()
    return code


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "generate"):
        p = sub.add_parser(name)
        p.add_argument("--scale", choices=sorted(SCALES), default="small")
        p.add_argument("--db", default=None, help="SQLite file (default /tmp/govrisk-bench-SCALE.db) or a URL "
                                                  "(postgresql://…; its public schema is dropped and rebuilt)")
        p.add_argument("--seed", type=int, default=9)
        p.add_argument("--fresh", action="store_true", help="rebuild the city even if one is there")
        if name == "run":
            p.add_argument("--json", default=None, help="also write every figure to this file")
            p.add_argument("--runs", type=int, default=30, help="runs per page (p50/p95 over these)")
            p.add_argument("--heavy-runs", type=int, default=3, help="runs of the long operations")
            p.add_argument("--no-import", action="store_true", help="skip the XLSX import and export")
            p.add_argument("--import-rows", type=int, default=None,
                           help="rows of the XLSX import (default: the scale's, 60,000 for city)")
            p.add_argument("--no-load", action="store_true", help="skip the gunicorn throughput run")
            p.add_argument("--only", choices=["load"], default=None, help="only the throughput run")
            p.add_argument("--load-seconds", type=float, default=20)
            p.add_argument("--load-threads", type=int, default=8)
    args = parser.parse_args(argv)
    if args.command == "generate":
        url, sidecar = _database(args)
        generate(args, url, sidecar, print)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
