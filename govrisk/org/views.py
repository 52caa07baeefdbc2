"""Departments, sections, posts, people and assignments; the department import."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, RHImport, add_route
from govrisk.extensions import db
from govrisk.org import operations as ops
from govrisk.org import queries
from govrisk.org.forms import AssignmentForm, DepartmentForm, EndAssignmentForm, PersonForm, PostForm, SectionForm
from govrisk.org.models import Assignment, Department, DepartmentKind, Person, Post

bp = Blueprint("org", __name__, url_prefix="/org")

register_nav(NavItem("org.departments", "组织机构", "Organisation", ("org.manage", "org.view"), "diagram-3", "", 90))


class RHOrgBase(RH):
    """Org pages: administrators manage; business users view their own units."""

    def _check_access(self):
        if not (current_user.can("org.manage") or current_user.can("org.view")):
            raise Forbidden(_("您没有查看组织机构的权限。"))

    def _visible_ids(self):
        return None if current_user.can("org.manage") else current_user.visible_department_ids()


class RHDepartmentBase(RHOrgBase):
    def _load(self, department_id, **kwargs):
        self.department = db.session.get(Department, department_id)
        if self.department is None:
            raise NotFound(_("单位不存在。"))

    def _check_access(self):
        if not self.department.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位。"))


class RHManageMixin:
    def _check_access(self):
        if not current_user.can("org.manage"):
            raise Forbidden(_("只有系统管理员可以维护组织机构。"))


class RHDepartments(RHOrgBase):
    template = "org/departments.html"

    def _process_GET(self):
        args = request.args
        visible = self._visible_ids()
        page = queries.search_departments(q=args.get("q", "").strip(), kind=args.get("kind", ""),
                                          include_retired=args.get("retired") == "1", visible_ids=visible)
        counts = queries.department_counts([d.id for d in page.items])
        return self._render(page=page, counts=counts, kinds=DepartmentKind)


class RHDepartment(RHDepartmentBase):
    template = "org/department.html"

    def _process_GET(self):
        dept = self.department
        return self._render(department=dept, sections=queries.sections_of(dept.id), posts=queries.posts_of(dept.id),
                            people=queries.people_of(dept.id), children=queries.children_of(dept.id),
                            section_form=SectionForm(prefix="section"), can_manage=dept.can_manage(current_user))


class RHDepartmentCreate(RHManageMixin, RH):
    template = "org/department_form.html"

    def _load(self):
        self.form = DepartmentForm()
        self.form.parent_id.choices = [(0, _("（无，顶级单位）"))] + queries.department_choices()
        if request.method == "GET" and request.args.get("parent_id", type=int):
            self.form.parent_id.data = request.args.get("parent_id", type=int)

    def _render_form(self):
        return self._render(department=None)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        department = ops.create_department(self.form.data, actor=current_user)
        flash(_("单位“%(name)s”已创建。", name=department.name), "success")
        return redirect(url_for("org.department", department_id=department.id))


class RHDepartmentEdit(RHManageMixin, RHDepartmentBase):
    template = "org/department_form.html"

    def _load(self, department_id):
        super()._load(department_id)
        self.form = DepartmentForm(obj=self.department if request.method == "GET" else None)
        self.form.parent_id.choices = [(0, _("（无，顶级单位）"))] + queries.department_choices()
        if request.method == "GET":
            self.form.parent_id.data = self.department.parent_id or 0
            self.form.kind.data = self.department.kind.value

    def _render_form(self):
        return self._render(department=self.department)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        changes = ops.update_department(self.department, self.form.data, actor=current_user)
        flash(_("已保存。") if changes else _("没有需要保存的修改。"), "success" if changes else "info")
        return redirect(url_for("org.department", department_id=self.department.id))


class RHDepartmentRetire(RHManageMixin, RHDepartmentBase):
    def _process_POST(self):
        ops.retire_department(self.department, actor=current_user,
                              expected_version=request.form.get("version", type=int))
        flash(_("单位“%(name)s”已停用（记录保留）。", name=self.department.name), "success")
        return redirect(url_for("org.departments"))


class RHSectionCreate(RHManageMixin, RHDepartmentBase):
    def _process_POST(self):
        form = SectionForm(prefix="section")
        if not form.validate_on_submit():
            raise UserError(_("；").join(str(e) for errors in form.errors.values() for e in errors))
        ops.save_section(None, {**form.data, "department_id": self.department.id}, actor=current_user)
        flash(_("科室已添加。"), "success")
        return redirect(url_for("org.department", department_id=self.department.id))


class RHPostForm(RHManageMixin, RHDepartmentBase):
    template = "org/post_form.html"

    def _load(self, department_id, post_id=None):
        super()._load(department_id)
        self.post = db.session.get(Post, post_id) if post_id else None
        if post_id and (self.post is None or self.post.department_id != self.department.id):
            raise NotFound(_("岗位不存在。"))
        self.form = PostForm(obj=self.post if request.method == "GET" else None)
        self.form.section_id.choices = [(0, "—")] + [(s.id, s.name) for s in queries.sections_of(department_id)]

    def _render_form(self):
        assignments = queries.assignments_of_post(self.post.id) if self.post else []
        return self._render(department=self.department, post=self.post, assignments=assignments)

    def _process_GET(self):
        if self.post:
            self.form.section_id.data = self.post.section_id or 0
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        post = ops.save_post(self.post, {**self.form.data, "department_id": self.department.id}, actor=current_user)
        flash(_("岗位“%(name)s”已保存。", name=post.name), "success")
        return redirect(url_for("org.department", department_id=self.department.id))


class RHPersonForm(RHManageMixin, RHDepartmentBase):
    template = "org/person_form.html"

    def _load(self, department_id, person_id=None):
        super()._load(department_id)
        self.person = db.session.get(Person, person_id) if person_id else None
        if person_id and (self.person is None or self.person.department_id != self.department.id):
            raise NotFound(_("人员不存在。"))
        self.form = PersonForm(obj=self.person if request.method == "GET" else None)
        self.assign_form = AssignmentForm(prefix="assign")
        self.assign_form.post_id.choices = [(p.id, p.name) for p in queries.posts_of(department_id)]

    def _render_form(self):
        assignments = queries.assignments_of_person(self.person.id) if self.person else []
        return self._render(department=self.department, person=self.person, assignments=assignments,
                            assign_form=self.assign_form, end_form=EndAssignmentForm(prefix="end"))

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        person = ops.save_person(self.person, {**self.form.data, "department_id": self.department.id},
                                 actor=current_user)
        flash(_("人员“%(name)s”已保存。", name=person.name), "success")
        return redirect(url_for("org.person_edit", department_id=self.department.id, person_id=person.id))


class RHAssign(RHPersonForm):
    def _process_POST(self):
        self.form = self.assign_form
        if self.person is None or not self.assign_form.validate_on_submit():
            return self._render_form(), 400
        post = db.session.get(Post, self.assign_form.post_id.data)
        if post is None or post.department_id != self.department.id:
            raise UserError(_("岗位不属于本单位。"), field="post_id")
        ops.assign_person(self.person, post, self.assign_form.start_on.data, self.assign_form.end_on.data,
                          actor=current_user)
        flash(_("已安排%(person)s到“%(post)s”任职。", person=self.person.name, post=post.name), "success")
        return redirect(url_for("org.person_edit", department_id=self.department.id, person_id=self.person.id))


class RHAssignmentEnd(RHManageMixin, RHDepartmentBase):
    def _load(self, department_id, assignment_id):
        super()._load(department_id)
        self.assignment = db.session.get(Assignment, assignment_id)
        if self.assignment is None or self.assignment.post.department_id != self.department.id:
            raise NotFound(_("任职记录不存在。"))

    def _process_POST(self):
        form = EndAssignmentForm(prefix="end")
        if not form.validate_on_submit():
            raise UserError(_("请填写有效的结束日期。"))
        ops.end_assignment(self.assignment, form.end_on.data, actor=current_user)
        flash(_("任职已结束。"), "success")
        return redirect(url_for("org.person_edit", department_id=self.department.id,
                                person_id=self.assignment.person_id))


class RHDepartmentImport(RHManageMixin, RHImport):
    importer_class = ops.DepartmentImporter
    done_endpoint = "org.departments"


add_route(bp, "/departments", RHDepartments, "departments")
add_route(bp, "/departments/new", RHDepartmentCreate, "department_create", ("GET", "POST"))
add_route(bp, "/departments/import", RHDepartmentImport, "department_import", ("GET", "POST"))
add_route(bp, "/departments/<int:department_id>", RHDepartment, "department")
add_route(bp, "/departments/<int:department_id>/edit", RHDepartmentEdit, "department_edit", ("GET", "POST"))
add_route(bp, "/departments/<int:department_id>/retire", RHDepartmentRetire, "department_retire", ("POST",))
add_route(bp, "/departments/<int:department_id>/sections", RHSectionCreate, "section_create", ("POST",))
add_route(bp, "/departments/<int:department_id>/posts/new", RHPostForm, "post_create", ("GET", "POST"))
add_route(bp, "/departments/<int:department_id>/posts/<int:post_id>", RHPostForm, "post_edit", ("GET", "POST"))
add_route(bp, "/departments/<int:department_id>/people/new", RHPersonForm, "person_create", ("GET", "POST"))
add_route(bp, "/departments/<int:department_id>/people/<int:person_id>", RHPersonForm, "person_edit",
          ("GET", "POST"))
add_route(bp, "/departments/<int:department_id>/people/<int:person_id>/assign", RHAssign, "person_assign",
          ("POST",))
add_route(bp, "/departments/<int:department_id>/assignments/<int:assignment_id>/end", RHAssignmentEnd,
          "assignment_end", ("POST",))
