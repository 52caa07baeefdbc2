"""A deterministic synthetic city, bulk-loaded through the models' tables.

On top of the demo city (`load_seed(demo=True)`: reference data, calendar, grading method, demo accounts), the
generator adds `scale.departments` departments with sections, posts, people and assignments; powers (70 % published,
with legal bases and the published version's snapshot), one internal flow of 4–15 steps per power (a §7.1 document,
validated by the flows package, stored as steps and edges with the validator's summary); risk points on the flows'
steps and posts, one control measure each, and their grade history; campaign reporting units, campaigns and unit
reports with indicator values and activities; and a year of supervision events, ingested through the supervision
domain's own `ingest_events` (its bulk path), then scanned once. Finally a review cycle is opened (the register
snapshot) and taken to the assessment, for the annual report.

Rows go in with Core `insert()` executemany in chunks (no ORM objects), ids assigned here so children can refer to
them. Every domain section is optional: a domain whose tables or functions are missing is skipped with a line.
The same seed gives the same city.
"""

import json
import random
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

CHUNK = 5000
WORDS = ["食品", "药品", "建设", "环境", "交通", "教育", "卫生", "税务", "农业", "水利", "林业", "文化", "旅游", "安全",
         "消防", "广告", "特种设备", "计量", "价格", "能源", "住房", "社保", "医保", "民政", "商务", "统计", "审计"]
ACTS = ["许可", "备案", "检查", "处罚", "登记", "审批", "核准", "确认", "奖励", "征收", "给付", "裁决"]
LAWS = ["中华人民共和国行政许可法", "中华人民共和国行政处罚法", "中华人民共和国食品安全法", "建设工程质量管理条例",
        "中华人民共和国环境保护法", "中华人民共和国道路交通安全法", "中华人民共和国消防法", "中华人民共和国药品管理法"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌海波宇浩婷雪梅琳晨阳"
POST_NAMES = ["窗口受理岗", "审查岗", "现场核查岗", "法制审核岗", "分管领导", "主要负责人", "执法岗", "监督岗",
              "财务岗", "采购岗", "人事岗", "档案岗", "信息岗", "综合岗", "稽查岗", "审批岗"]
STEP_NAMES = {"acceptance": ["受理", "登记", "收件"], "review": ["材料审查", "现场核查", "法制审核", "专家评审"],
              "decision": ["审批决定", "集体讨论决定", "分管领导审定"], "execution": ["制证送达", "执行", "公示"],
              "supervision": ["监督检查", "跟踪回访"]}
RISK_NAMES = ["违规受理或不予受理", "审查把关不严", "现场核查走过场", "违规作出决定", "超时限办理", "泄露申请人信息",
              "吃拿卡要", "选择性执法", "自由裁量权滥用", "违规收费", "利益输送", "优亲厚友"]
MEASURES = ["完善制度，明确办理标准和时限", "实行集体研究决定", "推行网上办理全程留痕", "定期开展廉政教育",
            "实行分级审核和交叉检查", "纳入电子监察系统实时预警", "定期轮岗交流"]


@dataclass(frozen=True)
class Scale:
    name: str
    departments: int
    powers: int
    risk_points: int
    events: int
    reports: int
    ingest_events: int  # the size of the "ingest" benchmark batch
    import_points: int  # rows of the XLSX import benchmark

    @property
    def measures(self) -> int:
        return self.risk_points


SCALES = {
    "small": Scale("small", 5, 1_700, 5_000, 85_000, 25, 10_000, 5_000),
    "city": Scale("city", 60, 20_000, 60_000, 1_000_000, 300, 100_000, 60_000),
    "province": Scale("province", 600, 200_000, 600_000, 10_000_000, 3_000, 100_000, 60_000),
}


@dataclass
class City:
    """What the generator made, for the benchmarks (ids, codes, accounts)."""

    scale: str
    seed: int
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    department_ids: list = field(default_factory=list)
    big_department_id: int | None = None
    big_flow_id: int | None = None
    cycle_year: int | None = None
    editor: str = "bench_editor"

    def to_json(self) -> dict:
        return dict(vars(self))


def _table(name: str) -> sa.Table | None:
    import govrisk.models  # noqa: F401
    from govrisk.extensions import db

    return db.metadata.tables.get(name)


def _insert(name: str, rows: list[dict]) -> int:
    """Core executemany in chunks; unknown columns (a model that changed) are dropped, not fatal."""
    from govrisk.extensions import db

    table = _table(name)
    if table is None or not rows:
        return 0
    known = set(table.c.keys())
    for start in range(0, len(rows), CHUNK):
        chunk = [{k: v for k, v in row.items() if k in known} for row in rows[start:start + CHUNK]]
        db.session.execute(table.insert(), chunk)
    return len(rows)


class Rows:
    """Buffers for a parent table and its children, written in that order every CHUNK rows (memory stays flat,
    foreign keys always find their parent)."""

    def __init__(self, *names: str):
        self.buffers: dict[str, list[dict]] = {name: [] for name in names}
        self.size = 0

    def add(self, name: str, row: dict) -> None:
        self.buffers[name].append(row)
        self.size += 1
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        for name, rows in self.buffers.items():
            _insert(name, rows)
            rows.clear()
        self.size = 0


def _next_id(name: str) -> int:
    from govrisk.extensions import db

    table = _table(name)
    return (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def _keys(kind: str, fallback: list[str]) -> list[str]:
    from govrisk.extensions import db

    items = _table("reference_items")
    found = db.session.scalars(sa.select(items.c.key).where(items.c.kind == kind).order_by(items.c.key)).all()
    return list(found) or fallback


class Builder:
    def __init__(self, scale: Scale, seed: int, log: Callable[[str], None] = print):
        self.scale, self.seed, self.log = scale, seed, log
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.city = City(scale.name, seed)
        self.departments: list[dict] = []
        self.posts: dict[int, list[dict]] = {}
        self.people: dict[int, list[int]] = {}
        self.powers: list[dict] = []
        self.flows: dict[int, dict] = {}  # power id → {"id", "steps": [...], "published"}

    # ------------------------------------------------------------------ driver

    def run(self) -> City:
        from govrisk.extensions import db

        for name, step in (("org", self.org), ("accounts", self.accounts), ("catalog", self.catalog),
                           ("flows", self.flows_), ("risks", self.risks), ("campaigns", self.campaigns),
                           ("supervision", self.supervision), ("review", self.review)):
            started = time.perf_counter()
            try:
                step()
                db.session.commit()
            except Exception as exc:  # a domain not there (yet): the rest of the city still gets built
                db.session.rollback()
                self.city.skipped[name] = f"{type(exc).__name__}: {exc}"[:300]
                self.log(f"  {name:<12} not available: {self.city.skipped[name]}")
                continue
            self.city.timings[name] = round(time.perf_counter() - started, 2)
            self.log(f"  {name:<12} {self.city.timings[name]:8.1f} s  {self._counts(name)}")
        self._analyze()
        return self.city

    def _counts(self, step: str) -> str:
        tables = {"org": ("departments", "sections", "posts", "people", "assignments"), "accounts": ("users",),
                  "catalog": ("powers", "power_legal_bases", "power_versions"),
                  "flows": ("flows", "flow_steps", "flow_edges"),
                  "risks": ("risk_points", "risk_measures", "risk_grades"),
                  "campaigns": ("campaign_units", "campaigns", "campaign_reports", "campaign_indicator_values",
                                "campaign_activities"),
                  "supervision": ("supervision_cases", "supervision_events", "supervision_alerts"),
                  "review": ("review_cycles", "review_departments", "review_snapshot_parts", "review_scores")}[step]
        from govrisk.extensions import db

        parts = []
        for name in tables:
            table = _table(name)
            if table is not None:
                self.city.counts[name] = db.session.scalar(sa.select(sa.func.count()).select_from(table))
                parts.append(f"{name} {self.city.counts[name]:,}")
        return ", ".join(parts)

    def _analyze(self) -> None:
        from govrisk.extensions import db

        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()

    def _name(self, taken: set | None = None) -> str:
        """A personal name; unique within `taken` (a department's people: the 登记表 names people, so 重名 there
        would make the import ask which one is meant)."""
        while True:
            name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))
            if taken is None or name not in taken:
                if taken is not None:
                    taken.add(name)
                return name

    def load_existing(self) -> "Builder":
        """The generated powers and their flows' main lines, read back from a city built earlier."""
        from govrisk.extensions import db

        powers, flows, steps = _table("powers"), _table("flows"), _table("flow_steps")
        self.powers = [dict(r._mapping) for r in db.session.execute(
            sa.select(powers.c.id, powers.c.code, powers.c.state, powers.c.department_id, powers.c.promised_days)
            .where(powers.c.code.like("BM-%")).order_by(powers.c.id))]
        keys: dict[int, list[str]] = {}
        for flow_id, key in db.session.execute(sa.select(steps.c.flow_id, steps.c.key)
                                               .order_by(steps.c.flow_id, steps.c.position)):
            keys.setdefault(flow_id, []).append(key)
        for flow_id, power_id, state in db.session.execute(sa.select(flows.c.id, flows.c.power_id, flows.c.state)):
            self.flows[power_id] = {"id": flow_id, "published": state == "published", "main": keys.get(flow_id, []),
                                    "steps": []}
        return self

    # ------------------------------------------------------------------ org

    def org(self) -> None:
        rng, now = self.rng, self.now
        dept_id, section_id, post_id = _next_id("departments"), _next_id("sections"), _next_id("posts")
        person_id = _next_id("people")
        departments, sections, posts, people, assignments = [], [], [], [], []
        for d in range(self.scale.departments):
            code = f"BM-D{d + 1:03d}"
            suffix = rng.choice(["局", "委员会", "中心"])
            row = {"id": dept_id, "code": code, "name": f"云溪市{rng.choice(WORDS)}{suffix}（基准{d + 1:03d}）",
                   "kind": "government", "parent_id": None, "path": f"/{dept_id:08d}/",
                   "sort_order": 100 + d, "is_retired": False, "version": 1, "created_at": now, "updated_at": now}
            departments.append(row)
            dept_sections = []
            for s in range(rng.randint(4, 8)):
                sections.append({"id": section_id, "department_id": dept_id, "code": f"{code}-K{s + 1:02d}",
                                 "name": f"{rng.choice(WORDS)}科", "is_retired": False, "version": 1,
                                 "created_at": now, "updated_at": now})
                dept_sections.append(section_id)
                section_id += 1
            self.posts[dept_id] = []
            for p in range(rng.randint(20, 40)):
                name = POST_NAMES[p % len(POST_NAMES)] if p < len(POST_NAMES) else f"{rng.choice(WORDS)}专责岗"
                post = {"id": post_id, "department_id": dept_id, "section_id": rng.choice(dept_sections),
                        "code": f"{code}-G{p + 1:03d}", "name": name, "duties": "", "headcount": rng.randint(1, 4),
                        "is_key": name in ("审查岗", "分管领导", "执法岗", "采购岗", "审批岗"), "is_retired": False,
                        "version": 1, "created_at": now, "updated_at": now}
                posts.append(post)
                self.posts[dept_id].append(post)
                post_id += 1
            self.people[dept_id], names = [], set()
            for _ in range(rng.randint(40, 90)):
                people.append({"id": person_id, "department_id": dept_id, "staff_no": f"BM{person_id:07d}",
                               "name": self._name(names), "title": "", "is_retired": False, "version": 1,
                               "created_at": now, "updated_at": now})
                post = rng.choice(self.posts[dept_id])
                assignments.append({"person_id": person_id, "post_id": post["id"],
                                    "start_on": self.today - timedelta(days=rng.randint(30, 9 * 365)),
                                    "end_on": None, "version": 1, "created_at": now, "updated_at": now})
                self.people[dept_id].append(person_id)
                person_id += 1
            dept_id += 1
        for name, rows in (("departments", departments), ("sections", sections), ("posts", posts),
                           ("people", people), ("assignments", assignments)):
            _insert(name, rows)
        self.departments = departments
        self.city.department_ids = [d["id"] for d in departments]

    def accounts(self) -> None:
        """An editor and a head of the first generated department (through the auth operations), password as demo."""
        from govrisk.auth import operations as auth_ops
        from govrisk.auth.queries import get_user_by_username

        home = self.departments[0]["id"]
        for username, role in (("bench_editor", "dept_editor"), ("bench_head", "dept_head")):
            if get_user_by_username(username) is None:
                user = auth_ops.create_user({"username": username, "display_name": username, "password": "Demo@2026",
                                             "department_id": home, "must_change_password": False}, actor=None)
                auth_ops.grant_role(user, role, actor=None)

    # ------------------------------------------------------------------ catalog

    def catalog(self) -> None:
        rng, now = self.rng, self.now
        categories = _keys("power_category", ["xk", "cf", "jc", "qt"])
        names = {k: v for k, v in _reference_names("power_category").items()}
        weights = [rng.uniform(0.3, 2.5) for _ in self.departments]
        power_id = _next_id("powers")
        powers, out = [], Rows("powers", "power_legal_bases", "power_versions")
        per_department: dict[int, int] = {}
        for k in range(self.scale.powers):
            department = rng.choices(self.departments, weights)[0]
            n = per_department[department["id"]] = per_department.get(department["id"], 0) + 1
            category = rng.choice(categories)
            code = f"{department['code']}-{category.upper()}-{n:05d}"
            name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(ACTS)}（{k + 1}）"
            statutory = rng.choice([10, 15, 20, 30, 45, 60])
            promised = max(3, statutory - rng.randint(0, statutory // 2))
            legal = [{"law": rng.choice(LAWS), "article": f"第{rng.randint(1, 120)}条", "clause": ""}
                     for _ in range(rng.randint(1, 2))]
            published = rng.random() < 0.7
            state = "published" if published else rng.choice(["draft", "submitted", "dept_approved", "returned"])
            search = " ".join([code, name] + [f"{b['law']} {b['article']}" for b in legal]).lower()
            is_public = category not in ("rs", "cw", "wz")
            major = rng.random() < 0.08
            row = {"id": power_id, "code": code, "name": name, "sub_items": "", "category": category, "source": "law",
                   "level": "city", "department_id": department["id"], "section_id": None,
                   "statutory_days": statutory, "promised_days": promised, "is_fee_charged": False, "fee_basis": "",
                   "fee_standard": "", "place": "云溪市政务服务中心", "phone": "0871-65120000",
                   "supervision_channel": "", "accountability": "", "is_major_matter": major, "is_public": is_public,
                   "state": state, "published_number": 1 if published else None, "search_text": search,
                   "version": 1, "created_at": now, "updated_at": now}
            powers.append(row)
            out.add("powers", row)
            for position, basis in enumerate(legal):
                out.add("power_legal_bases", {"power_id": power_id, "position": position, **basis})
            if published:
                snapshot = {"format": 1, "code": code, "name": name, "sub_items": "", "category": category,
                            "category_name": names.get(category, category), "source": "law", "source_name": "法律",
                            "level": "city", "level_name": "市级", "department_id": department["id"],
                            "department_code": department["code"], "department_name": department["name"],
                            "section_id": None, "section_name": "", "statutory_days": statutory,
                            "promised_days": promised, "is_fee_charged": False, "fee_basis": "", "fee_standard": "",
                            "place": row["place"], "phone": row["phone"], "supervision_channel": "",
                            "accountability": "", "is_major_matter": major, "is_public": is_public,
                            "legal_bases": legal, "materials": [], "responsibilities": [], "discretion_tiers": []}
                out.add("power_versions", {"power_id": power_id, "number": 1, "published_at": now, "is_current": True,
                                 "code": code, "name": name, "department_id": department["id"], "category": category,
                                 "is_public": is_public, "is_major_matter": major, "search_text": search,
                                 "snapshot": json.dumps(snapshot, ensure_ascii=False)})
            power_id += 1
        out.flush()
        self.powers = powers
        self.city.big_department_id = max(per_department, key=per_department.get)

    # ------------------------------------------------------------------ flows

    def _flow_doc(self, power: dict):
        """A §7.1 document: a main line of 4–15 steps, a 补正 loop, sometimes a simplified-procedure branch."""
        from govrisk.flows.validation import Edge, FlowDoc, Step

        rng = self.rng
        n = rng.randint(4, 15)
        roles = ["acceptance", "review"] + [rng.choice(["review", "review", "decision", "execution"])
                                            for _ in range(n - 4)] + ["decision", "execution"]
        posts = self.posts[power["department_id"]]
        steps = tuple(Step(f"s{i}", rng.choice(STEP_NAMES[role]) + (f"{i}" if i else ""),
                           rng.choice(posts)["name"], role, rng.randint(0, 3), ()) for i, role in enumerate(roles))
        edges = [Edge(f"s{i}", f"s{i + 1}") for i in range(n - 1)]
        edges.append(Edge("s1", "s0", loop=True, label="补正"))
        if n > 5 and rng.random() < 0.4:
            skip = rng.randint(1, n - 3)
            edges.append(Edge(f"s{skip}", f"s{skip + 2}", label="简易程序"))
        limit = power["promised_days"] if rng.random() < 0.97 else 1  # a few flows break their time limit
        return FlowDoc(power["code"], "internal", limit, steps, tuple(edges))

    def flows_(self) -> None:
        from govrisk.flows.operations import summary_values
        from govrisk.flows.validation import validate_flow

        now = self.now
        flow_id, step_id = _next_id("flows"), _next_id("flow_steps")
        out = Rows("flows", "flow_steps", "flow_edges")
        biggest = 0
        for power in self.powers:
            doc = self._flow_doc(power)
            report = validate_flow(doc)
            published = power["state"] == "published"
            out.add("flows", {"id": flow_id, "power_id": power["id"], "kind": "internal", "number": 1,
                          "state": "published" if published else "draft", "time_limit_days": doc.time_limit_days,
                          "version": 1, "created_at": now, "updated_at": now, **summary_values(doc, report)})
            by_name = {p["name"]: p["id"] for p in self.posts[power["department_id"]]}
            keys = []
            for position, step in enumerate(doc.steps):
                out.add("flow_steps", {"id": step_id, "flow_id": flow_id, "position": position, "key": step.id,
                              "name": step.name, "post_id": by_name.get(step.post), "post_name": step.post or "",
                              "role": step.role, "time_limit_days": step.time_limit_days, "documents_json": "[]"})
                keys.append({"id": step_id, "key": step.id, "role": step.role, "post_id": by_name.get(step.post)})
                step_id += 1
            for position, edge in enumerate(doc.edges):
                out.add("flow_edges", {"flow_id": flow_id, "position": position, "source_key": edge.source,
                              "target_key": edge.target, "label": edge.label, "is_loop": edge.loop})
            self.flows[power["id"]] = {"id": flow_id, "steps": keys, "published": published,
                                       "main": [s.id for s in doc.steps]}
            if published and len(doc.steps) > biggest:
                biggest, self.city.big_flow_id = len(doc.steps), flow_id
            flow_id += 1
        out.flush()

    # ------------------------------------------------------------------ risks

    def risks(self) -> None:
        from govrisk.extensions import db

        rng, now, today = self.rng, self.now, self.today
        types = _keys("risk_type", ["process"])
        measure_types = _keys("measure_type", ["institution"])
        methods = _keys("identification_method", ["self_check"])
        grading = _table("risk_grading_methods")
        method = db.session.execute(sa.select(grading.c.id, grading.c.number).where(grading.c.is_active.is_(True))
                                    ).first() if grading is not None else None
        point_id = _next_id("risk_points")
        out = Rows("risk_points", "risk_measures", "risk_grades")
        sequence: dict[int, int] = {}
        codes = {d["id"]: d["code"] for d in self.departments}
        for k in range(self.scale.risk_points):
            power = self.powers[k % len(self.powers)] if k < len(self.powers) else rng.choice(self.powers)
            flow = self.flows.get(power["id"])
            step = (rng.choice([s for s in flow["steps"] if s["role"] == "decision"] or flow["steps"])
                    if flow and rng.random() < 0.6 else rng.choice(flow["steps"]) if flow else None)
            department = power["department_id"]
            n = sequence[department] = sequence.get(department, 0) + 1
            code = f"FX-{codes[department]}-{n:04d}"
            likelihood, severity = rng.randint(1, 5), rng.randint(1, 5)
            proposed = 1 if likelihood >= 4 or severity >= 5 else 2 if likelihood >= 3 or severity >= 4 else 3
            state = rng.choice(["draft", "submitted", "dept_approved", "confirmed", "confirmed", "confirmed",
                                "confirmed", "returned"])
            confirmed = (proposed if rng.random() < 0.9 else rng.randint(1, 3)) if state == "confirmed" else None
            name = f"{rng.choice(RISK_NAMES)}（{k + 1}）"
            manifestation = "利用审批权吃拿卡要、降低标准；对关系人开绿灯。"
            people = self.people[department]
            out.add("risk_points", {
                "id": point_id, "code": code, "department_id": department, "power_id": power["id"],
                "step_id": step["id"] if step else None, "step_key": step["key"] if step else None,
                "post_id": (step or {}).get("post_id") or rng.choice(self.posts[department])["id"], "name": name,
                "manifestation": manifestation, "risk_type": rng.choice(types),
                "methods": ",".join(sorted(set(rng.sample(methods, k=min(2, len(methods)))))),
                "likelihood": likelihood, "severity": severity, "discretion": rng.choice(["large", "medium", "small"]),
                "responsible_id": rng.choice(people), "supervisor_id": rng.choice(people), "indicator": "",
                "proposed_level": proposed, "proposal_note": "", "confirmed_level": confirmed,
                "confirmed_reason": "" if confirmed in (None, proposed) else "综合研判调整", "residual_level": None,
                "residual_reason": "", "state": state,
                "search_text": f"{code} {name} {manifestation} {power['code']} {power['name']}".lower(),
                "version": 1, "created_at": now, "updated_at": now})
            overdue = rng.random() < 0.08
            out.add("risk_measures", {"risk_point_id": point_id, "department_id": department,
                             "measure_type": rng.choice(measure_types), "description": rng.choice(MEASURES),
                             "owner_id": rng.choice(people),
                             "status": "in_progress" if overdue else rng.choice(["planned", "implemented", "verified"]),
                             "evidence": "", "due_on": today + timedelta(days=rng.randint(-200, 200)),
                             "is_overdue": overdue, "escalation_level": 1 if overdue else 0, "version": 1,
                             "created_at": now, "updated_at": now})
            inputs = json.dumps({"likelihood": likelihood, "severity": severity}, ensure_ascii=False)
            base = {"risk_point_id": point_id, "method_id": method[0] if method else None,
                    "method_number": method[1] if method else None, "inputs_json": inputs, "why_json": "[]",
                    "reason": "", "actor_id": None, "actor_name": "基准数据", "at": now}
            out.add("risk_grades", {**base, "kind": "proposal", "level": proposed, "previous_level": None,
                           "suggested_level": proposed})
            if confirmed is not None:
                out.add("risk_grades", {**base, "kind": "confirmation", "level": confirmed, "previous_level": proposed,
                               "suggested_level": proposed})
            point_id += 1
        out.flush()

    # ------------------------------------------------------------------ campaigns

    def campaigns(self) -> None:
        rng, now = self.rng, self.now
        indicators = _keys("campaign_indicator", ["leaflets", "banners"])
        activity_types = _keys("campaign_activity_type", ["community"])
        root, campaign_id, report_id = _next_id("campaign_units"), _next_id("campaigns"), _next_id("campaign_reports")
        units = [{"id": root, "code": "BM-CFB", "name": "基准城市处非办", "kind": "city", "parent_id": None,
                  "path": f"/{root}/", "department_id": None, "sort_order": 0, "is_retired": False, "version": 1,
                  "created_at": now, "updated_at": now}]
        for i, department in enumerate(self.departments):
            units.append({"id": root + 1 + i, "code": f"BM-U{i + 1:03d}", "name": department["name"], "kind": "agency",
                          "parent_id": root, "path": f"/{root}/{root + 1 + i}/", "department_id": department["id"],
                          "sort_order": i, "is_retired": False, "version": 1, "created_at": now, "updated_at": now})
        per_campaign = max(1, len(units) - 1)
        n_campaigns = max(1, -(-self.scale.reports // per_campaign))
        campaigns, reports, values, activities = [], [], [], []
        for c in range(n_campaigns):
            year = self.today.year - (n_campaigns - 1 - c)
            campaigns.append({"id": campaign_id + c, "code": f"BM-FFJZ-{year}-{c}",
                              "name": f"{year}年防范非法集资宣传月（基准）",
                              "theme": "守住钱袋子 护好幸福家", "kind": "publicity", "year": year,
                              "start_on": date(year, 6, 1), "end_on": date(year, 6, 30),
                              "central_day_on": date(year, 6, 15), "report_due_on": date(year, 7, 10),
                              "issuing_body": "基准城市处非办", "plan_doc_no": f"基准〔{year}〕{c + 1}号",
                              "target_groups": "老年人", "venues": "organs,communities", "description": "",
                              "root_unit_id": root, "previous_id": None, "is_retired": False, "version": 1,
                              "created_at": now, "updated_at": now})
        for r in range(self.scale.reports):
            campaign = campaigns[r // per_campaign]
            unit = units[1 + r % per_campaign]
            state = rng.choice(["accepted", "accepted", "submitted", "draft"])
            reports.append({"id": report_id, "campaign_id": campaign["id"], "unit_id": unit["id"], "state": state,
                            "narrative": "本单位围绕宣传月主题，组织开展了系列宣传活动。",
                            "leadership": "成立领导小组。",
                            "problems": "宣传覆盖面有待扩大。", "version": 1, "created_at": now, "updated_at": now})
            for key in rng.sample(indicators, k=min(6, len(indicators))):
                value = rng.randint(1, 5000)
                values.append({"report_id": report_id, "indicator": key, "label": "", "unit": "", "value": value,
                               "is_approx": False, "is_total": False, "source": "manual", "phrase": "",
                               "text_start": None, "text_end": None, "created_at": now, "updated_at": now})
            for _ in range(3):
                activities.append({"report_id": report_id, "held_on": campaign["start_on"] + timedelta(
                    days=rng.randint(0, 29)), "activity_type": rng.choice(activity_types), "venue": "社区广场",
                    "audience": "群众", "description": "集中宣传", "created_at": now, "updated_at": now})
            report_id += 1
        for name, rows in (("campaign_units", units), ("campaigns", campaigns), ("campaign_reports", reports),
                           ("campaign_indicator_values", values), ("campaign_activities", activities)):
            _insert(name, rows)

    # ------------------------------------------------------------------ supervision

    def event_batches(self, total: int, *, prefix: str, start: datetime, days: int,
                      batch: int = 10_000) -> Iterator[list]:
        """EventRow batches of whole cases along published flows: mostly on time, some late, a few that skip a
        step or let one actor do two duties that must be separated, some still open."""
        from govrisk.supervision.ingest import EventRow

        rng = random.Random(self.seed * 7919 + zlib.crc32(prefix.encode()))
        published = [(p, self.flows[p["id"]]) for p in self.powers if self.flows.get(p["id"], {}).get("published")]
        rows, made, case = [], 0, 0
        while made < total:
            power, flow = rng.choice(published)
            case += 1
            path = list(flow["main"])
            if len(path) > 4 and rng.random() < 0.03:
                del path[rng.randint(1, len(path) - 2)]  # skipped a step
            if rng.random() < 0.12:
                path = path[:rng.randint(1, len(path) - 1)]  # still open
            at = start + timedelta(days=rng.randint(0, days - 1), hours=rng.randint(1, 8), minutes=rng.randint(0, 59))
            actors = [self._name() for _ in range(3)]
            same = rng.random() < 0.02
            slow = 6 if rng.random() < 0.05 else 1
            for position, key in enumerate(path):
                actor = actors[0] if same else actors[position % len(actors)]
                for event in ("enter", "complete"):
                    if made >= total:
                        break
                    rows.append(EventRow(made + 1, f"{prefix}{case:07d}", power["code"], key, event, actor, at))
                    made += 1
                    at += timedelta(minutes=rng.randint(5, 240) * slow) if event == "enter" else timedelta(
                        minutes=rng.randint(1, 30))
                    if len(rows) >= batch:
                        yield rows
                        rows = []
        if rows:
            yield rows

    def supervision(self) -> None:
        from govrisk.extensions import db
        from govrisk.supervision.ingest import ingest_events
        from govrisk.supervision.scan import run_scan

        started = time.perf_counter()
        start = self.now - timedelta(days=365)
        stored = 0
        for rows in self.event_batches(self.scale.events, prefix="BM", start=start, days=360):
            stored += ingest_events(rows, actor=None, source="benchmark").stored
            db.session.commit()
        elapsed = time.perf_counter() - started
        self.city.timings["supervision ingest (generator)"] = round(elapsed, 1)
        self.log(f"  supervision  ingested {stored:,} events in {elapsed:.1f} s ({stored / elapsed:,.0f}/s)")
        started = time.perf_counter()
        run_scan()
        self.city.timings["supervision first scan"] = round(time.perf_counter() - started, 1)

    # ------------------------------------------------------------------ review

    def review(self) -> None:
        from govrisk.auth.queries import get_user_by_username
        from govrisk.review import operations as ops
        from govrisk.review import queries

        inspector = get_user_by_username("inspector")
        year = self.today.year
        while queries.cycle_for_year(year) is not None:
            year += 1
        cycle = ops.create_cycle({"year": year, "title": f"{year}年度基准考核",
                                  "self_check_due_on": date(year, 11, 30), "inspection_due_on": date(year, 12, 20),
                                  "department_ids": self.city.department_ids}, actor=inspector)
        ops.transition_cycle(cycle, "open", actor=inspector)  # freezes the register (the snapshot)
        self.city.cycle_year = year
        for name in ("start_inspection", "start_assessment"):  # scores are computed on entering the assessment
            try:
                ops.transition_cycle(cycle, name, actor=inspector)
            except Exception as exc:
                self.log(f"  review       cycle stays before {name}: {exc}")
                break


def _reference_names(kind: str) -> dict:
    from govrisk.extensions import db

    items = _table("reference_items")
    return dict(db.session.execute(sa.select(items.c.key, items.c.name_zh).where(items.c.kind == kind)).all())


def build(scale: Scale, seed: int, log: Callable[[str], None] = print) -> City:
    """Within an app context on an upgraded database: the demo city, then the synthetic one."""
    from govrisk.demo import load_seed
    from govrisk.extensions import db

    started = time.perf_counter()
    load_seed(demo=True)
    db.session.commit()
    log(f"  demo seed    {time.perf_counter() - started:8.1f} s")
    city = Builder(scale, seed, log).run()
    city.timings["total"] = round(time.perf_counter() - started, 1)
    return city
