"""Every change to the organisation: flush and audit, never commit."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_pgettext, ngettext

from govrisk.core.audit import record_create, record_update
from govrisk.core.errors import UserError
from govrisk.core.importer import Importer, ImportRow
from govrisk.extensions import db
from govrisk.org.models import Assignment, Department, DepartmentKind, Person, Post, Section
from govrisk.org.queries import get_department_by_code, overlapping_assignments


def _require_unique(model, message: str, *conditions, exclude_id: int | None = None) -> None:
    stmt = sa.select(model.id).where(*conditions)
    if exclude_id:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise UserError(message, field="code")


def _check_parent(department: Department | None, parent: Department | None) -> None:
    if parent is None or department is None or department.id is None:
        return
    if parent.id == department.id or parent.path.startswith(department.path):
        raise UserError(_("不能把“%(department)s”设为“%(parent)s”的下级：会形成循环。", department=department.name,
                          parent=parent.name), field="parent_id")


def _set_paths(department: Department) -> None:
    """Recompute path for department and its whole subtree (after creation or a move)."""
    old_path = department.path
    parent_path = department.parent.path if department.parent is not None else "/"
    # zero-padded so that ordering by path keeps numeric id order (/2/ before /10/)
    department.path = f"{parent_path}{department.id:08d}/"
    if old_path and old_path != "/" and old_path != department.path:
        subtree = sa.select(Department).where(Department.path.startswith(old_path, autoescape=True),
                                              Department.id != department.id)
        for child in db.session.scalars(subtree):
            child.path = department.path + child.path[len(old_path):]


def create_department(data: dict, *, actor) -> Department:
    """Add a department under its parent (or at the top)."""
    _require_unique(Department, _("单位代码“%(code)s”已存在。", code=data["code"]), Department.code == data["code"])
    parent = db.session.get(Department, data["parent_id"]) if data.get("parent_id") else None
    department = Department(code=data["code"], name=data["name"], kind=DepartmentKind(data.get("kind") or "government"),
                            parent=parent, sort_order=data.get("sort_order") or 0, path="/")
    db.session.add(department)
    db.session.flush()
    _set_paths(department)
    record_create("org.department.create", department, actor=actor)
    return department


def update_department(department: Department, data: dict, *, actor) -> dict:
    """Change a department's fields; a new parent may not lie inside its own subtree."""
    if "code" in data:
        _require_unique(Department, _("单位代码“%(code)s”已存在。", code=data["code"]), Department.code == data["code"],
                        exclude_id=department.id)
    new_parent = db.session.get(Department, data["parent_id"]) if data.get("parent_id") else None
    _check_parent(department, new_parent)
    data = {**data, "parent_id": new_parent.id if new_parent else None}
    if "kind" in data:
        data["kind"] = DepartmentKind(data["kind"])
    changes = record_update("org.department.update", department, data, actor=actor,
                            expected_version=data.get("version"))
    if "parent_id" in changes:
        department.parent = new_parent
        _set_paths(department)
        db.session.flush()
    return changes


def retire_department(department: Department, *, actor, expected_version: int | None = None) -> None:
    """Retire (never delete) a department that has no active sub-units."""
    active_children = db.session.scalar(sa.select(sa.func.count()).where(
        Department.parent_id == department.id, Department.is_retired.is_(False)))
    if active_children:
        raise UserError(ngettext("“%(name)s”还有 %(num)s 个未停用的下级单位，请先处理下级单位。",
                                 "“%(name)s”还有 %(num)s 个未停用的下级单位，请先处理下级单位。", active_children,
                                 name=department.name))
    record_update("org.department.retire", department, {"is_retired": True}, actor=actor,
                  expected_version=expected_version)


def save_section(section: Section | None, data: dict, *, actor) -> Section:
    """Create a section, or update one."""
    department_id = section.department_id if section else data["department_id"]
    _require_unique(Section, _("科室代码“%(code)s”在本单位已存在。", code=data["code"]),
                    Section.department_id == department_id,
                    Section.code == data["code"], exclude_id=section.id if section else None)
    if section is None:
        section = Section(department_id=department_id, code=data["code"], name=data["name"])
        record_create("org.section.create", section, actor=actor)
    else:
        record_update("org.section.update", section, data, actor=actor, expected_version=data.get("version"))
    return section


def save_post(post: Post | None, data: dict, *, actor) -> Post:
    """Create a post, or update one; its section must belong to the same department."""
    department_id = post.department_id if post else data["department_id"]
    _require_unique(Post, _("岗位代码“%(code)s”在本单位已存在。", code=data["code"]),
                    Post.department_id == department_id, Post.code == data["code"],
                    exclude_id=post.id if post else None)
    section_id = data.get("section_id") or None
    if section_id and db.session.scalar(sa.select(Section.department_id).where(Section.id == section_id)) != \
            department_id:
        raise UserError(_("所选科室不属于该单位。"), field="section_id")
    if (data.get("headcount") or 1) < 1:
        raise UserError(_("岗位编制数至少为 1。"), field="headcount")
    fields = {k: data[k] for k in ("code", "name", "duties", "headcount", "is_key", "version") if k in data}
    fields["section_id"] = section_id
    if post is None:
        post = Post(department_id=department_id, **{k: v for k, v in fields.items() if k != "version"})
        record_create("org.post.create", post, actor=actor)
    else:
        record_update("org.post.update", post, fields, actor=actor, expected_version=data.get("version"))
    return post


def save_person(person: Person | None, data: dict, *, actor) -> Person:
    """Create or update a person (staff number unique)."""
    _require_unique(Person, _("工号“%(staff_no)s”已存在。", staff_no=data["staff_no"]),
                    Person.staff_no == data["staff_no"], exclude_id=person.id if person else None)
    fields = {k: data[k] for k in ("department_id", "staff_no", "name", "title") if k in data}
    if person is None:
        person = Person(**fields)
        record_create("org.person.create", person, actor=actor)
    else:
        record_update("org.person.update", person, fields, actor=actor, expected_version=data.get("version"))
    return person


def assign_person(person: Person, post: Post, start_on: date, end_on: date | None, *, actor) -> Assignment:
    """Put a person on a post; refuses a period that overlaps their own or exceeds the post's headcount."""
    if end_on is not None and end_on < start_on:
        raise UserError(_("结束日期不能早于开始日期。"), field="end_on")
    overlaps = overlapping_assignments(post.id, start_on, end_on)
    if any(a.person_id == person.id for a in overlaps):
        raise UserError(_("%(person)s在该期间已在“%(post)s”任职，任职期间不能重叠。", person=person.name,
                          post=post.name), field="start_on")
    if len(overlaps) >= post.headcount:
        names = _("、").join(a.person.name for a in overlaps)
        raise UserError(_("“%(post)s”编制数为 %(n)s，该期间已由%(names)s任职，任职期间不能重叠。", post=post.name,
                          n=post.headcount, names=names), field="start_on")
    assignment = Assignment(person_id=person.id, post_id=post.id, start_on=start_on, end_on=end_on)
    assignment.person, assignment.post = person, post
    record_create("org.assignment.create", assignment, actor=actor)
    return assignment


def end_assignment(assignment: Assignment, end_on: date, *, actor) -> None:
    """Close an open assignment on end_on."""
    if end_on < assignment.start_on:
        raise UserError(_("结束日期不能早于开始日期。"), field="end_on")
    record_update("org.assignment.end", assignment, {"end_on": end_on}, actor=actor)


def department_by_code_or_error(code: str) -> Department:
    department = get_department_by_code(code)
    if department is None:
        raise UserError(_("单位代码“%(code)s”不存在。", code=code))
    return department


class DepartmentImporter(Importer):
    """Departments from CSV/XLSX: code, name, parent_code (DESIGN §7.4); an optional kind column."""

    kind = "departments"
    title = lazy_pgettext("import", "单位")
    columns = ("code", "name", "parent_code", "kind")
    required = ("code", "name")

    def check(self, rows: list[ImportRow]) -> None:
        existing = {d.code: d for d in db.session.scalars(sa.select(Department))}
        parents = {code: (d.parent.code if d.parent else "") for code, d in existing.items()}
        seen: dict[str, int] = {}
        for row in rows:
            code, parent_code = row.values.get("code", ""), row.values.get("parent_code", "")
            if code in seen:
                row.errors.append(_("代码“%(code)s”与第 %(line)s 行重复", code=code, line=seen[code]))
                continue
            seen[code] = row.line
            if len(code) > 40 or len(row.values.get("name", "")) > 200:
                row.errors.append(_("代码或名称过长"))
            kind = row.values.get("kind", "") or (existing[code].kind.value if code in existing else "government")
            if kind not in {k.value for k in DepartmentKind}:
                row.errors.append(_("单位类型“%(kind)s”无效", kind=kind))
            if parent_code == code and code:
                row.errors.append(_("上级单位不能是自己"))
            row.data = {"code": code, "name": row.values.get("name", ""), "parent_code": parent_code, "kind": kind}
        parents.update({r.data["code"]: r.data["parent_code"] for r in rows if r.data})
        for row in rows:
            if row.errors or not row.data:
                continue
            parent_code = row.data["parent_code"]
            if parent_code and parent_code not in parents:
                row.errors.append(_("上级单位代码“%(code)s”不存在", code=parent_code))
            elif self._cycles(row.data["code"], parents):
                row.errors.append(_("上下级关系形成循环"))
            row.action = self._action(row.data, existing.get(row.data["code"]))

    @staticmethod
    def _cycles(code: str, parents: dict[str, str]) -> bool:
        seen, current = set(), code
        while current:
            if current in seen:
                return True
            seen.add(current)
            current = parents.get(current, "")
        return False

    @staticmethod
    def _action(data: dict, department: Department | None) -> str:
        if department is None:
            return "create"
        parent_code = department.parent.code if department.parent else ""
        same = (department.name, parent_code, department.kind.value) == (data["name"], data["parent_code"],
                                                                         data["kind"])
        return "unchanged" if same else "update"

    def write(self, rows: list[ImportRow], *, actor) -> None:
        pending = {r.data["code"]: r for r in rows}
        while pending:
            ready = [r for r in pending.values() if r.data["parent_code"] not in pending]
            for row in sorted(ready, key=lambda r: r.line):
                self._write_row(row, actor=actor)
                del pending[row.data["code"]]

    @staticmethod
    def _write_row(row: ImportRow, *, actor) -> None:
        data = row.data
        parent = get_department_by_code(data["parent_code"]) if data["parent_code"] else None
        values = {"code": data["code"], "name": data["name"], "kind": data["kind"],
                  "parent_id": parent.id if parent else None}
        department = get_department_by_code(data["code"])
        if department is None:
            create_department(values, actor=actor)
        else:
            update_department(department, values, actor=actor)
