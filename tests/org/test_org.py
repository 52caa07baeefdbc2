"""Departments as a tree, posts, people, assignments; scoping of department users."""

from datetime import date

import pytest
import sqlalchemy as sa

from govrisk.core.errors import StaleEditError, UserError
from govrisk.core.permissions import Role
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.org.operations import assign_person, end_assignment, retire_department, save_post, update_department
from govrisk.org.queries import subtree_ids
from tests.conftest import post_form


def test_tree_paths_and_subtree(create_department):
    city = create_department(code="C")
    bureau = create_department(code="B", parent=city)
    office = create_department(code="O", parent=bureau)
    other = create_department(code="X")
    assert office.path == f"/{city.id:08d}/{bureau.id:08d}/{office.id:08d}/"
    assert subtree_ids(bureau.id) == {bureau.id, office.id}
    update_department(bureau, {"parent_id": other.id}, actor=None)
    assert office.path == f"/{other.id:08d}/{bureau.id:08d}/{office.id:08d}/"
    assert subtree_ids(other.id) == {other.id, bureau.id, office.id}


def test_parent_cycle_is_refused(create_department):
    top = create_department()
    child = create_department(parent=top)
    grandchild = create_department(parent=child)
    for new_parent in (top, child, grandchild):
        with pytest.raises(UserError, match="循环"):
            update_department(top, {"parent_id": new_parent.id}, actor=None)
    assert top.parent_id is None


def test_duplicate_code_is_refused(create_department):
    create_department(code="DUP")
    with pytest.raises(UserError, match="已存在"):
        create_department(code="DUP")


def test_stale_edit_is_refused(create_department):
    department = create_department(name="旧名")
    update_department(department, {"name": "新名", "version": 1}, actor=None)
    with pytest.raises(StaleEditError):
        update_department(department, {"name": "另一个名", "version": 1}, actor=None)
    assert department.name == "新名"


def test_retire_needs_children_retired_first(create_department):
    top = create_department()
    child = create_department(parent=top)
    with pytest.raises(UserError, match="下级单位"):
        retire_department(top, actor=None)
    retire_department(child, actor=None)
    retire_department(top, actor=None)
    assert top.is_retired and db.session.get(Department, top.id) is not None


def test_assignment_overlap_on_same_post(create_department, create_post, create_person):
    department = create_department()
    post = create_post(department)
    alice, bob = create_person(department), create_person(department)
    assign_person(alice, post, date(2020, 1, 1), date(2022, 12, 31), actor=None)
    with pytest.raises(UserError, match="不能重叠"):
        assign_person(bob, post, date(2022, 6, 1), None, actor=None)
    with pytest.raises(UserError, match="不能重叠"):
        assign_person(alice, post, date(2021, 1, 1), None, actor=None)
    assign_person(bob, post, date(2023, 1, 1), None, actor=None)


def test_headcount_allows_parallel_holders(create_department, create_post, create_person):
    department = create_department()
    window = create_post(department, headcount=2)
    a, b, c = (create_person(department) for _ in range(3))
    assign_person(a, window, date(2024, 1, 1), None, actor=None)
    assign_person(b, window, date(2024, 3, 1), None, actor=None)
    with pytest.raises(UserError, match="编制数为 2"):
        assign_person(c, window, date(2024, 6, 1), None, actor=None)


def test_end_before_start_is_refused(create_department, create_post, create_person):
    department = create_department()
    assignment = assign_person(create_person(department), create_post(department), date(2024, 1, 1), None, actor=None)
    with pytest.raises(UserError, match="早于"):
        end_assignment(assignment, date(2023, 1, 1), actor=None)


def test_post_section_must_belong_to_department(create_department):
    from govrisk.org.operations import save_section

    one, two = create_department(), create_department()
    section = save_section(None, {"department_id": two.id, "code": "S1", "name": "科"}, actor=None)
    with pytest.raises(UserError, match="不属于"):
        save_post(None, {"department_id": one.id, "code": "P1", "name": "岗", "section_id": section.id}, actor=None)


def test_department_user_sees_only_own_subtree(client, login_as, create_user, create_department):
    own = create_department(name="本局")
    sub = create_department(name="本局下属所", parent=own)
    other = create_department(name="别的局")
    login_as(create_user(Role.DEPT_EDITOR, department=own))
    listing = client.get("/org/departments").get_data(as_text=True)
    assert "本局" in listing and "本局下属所" in listing and "别的局" not in listing
    assert client.get(f"/org/departments/{sub.id}").status_code == 200
    assert client.get(f"/org/departments/{other.id}").status_code == 403
    assert client.get(f"/org/departments/{own.id}/edit").status_code == 403


def test_inspector_sees_every_department(client, login_as, create_user, create_department):
    other = create_department(name="别的局")
    login_as(create_user(Role.INSPECTOR))
    assert client.get(f"/org/departments/{other.id}").status_code == 200


def test_admin_creates_department_and_sees_field_errors(client, login_as, create_user, create_department):
    create_department(code="TAKEN")
    login_as(create_user(Role.SYS_ADMIN))
    url = "/org/departments/new"
    response = post_form(client, url, {"code": "", "name": "", "kind": "government", "parent_id": 0}, token_url=url)
    assert response.status_code == 400 and "请填写单位代码" in response.get_data(as_text=True)
    response = post_form(client, url, {"code": "TAKEN", "name": "甲", "kind": "government", "parent_id": 0},
                         token_url=url)
    assert response.status_code == 400 and "已存在" in response.get_data(as_text=True)
    response = post_form(client, url, {"code": "NEW-1", "name": "新局", "kind": "government", "parent_id": 0},
                         token_url=url)
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Department).where(Department.code == "NEW-1")).name == "新局"


def test_html_in_names_is_escaped(client, login_as, create_user, create_department):
    create_department(name="<script>alert(1)</script>")
    login_as(create_user(Role.SYS_ADMIN))
    html = client.get("/org/departments").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_unknown_department_is_404(client, login_as, create_user):
    login_as(create_user(Role.SYS_ADMIN))
    response = client.get("/org/departments/999999")
    assert response.status_code == 404 and "单位不存在" in response.get_data(as_text=True)


def test_tree_order_is_numeric(create_department):
    from govrisk.org.queries import department_choices

    first = create_department(name="甲")
    for _ in range(9):
        create_department()
    tenth_child = create_department(name="乙", parent=first)
    names = [name.strip("　") for _, name in department_choices()]
    assert names.index("乙") == names.index("甲") + 1, tenth_child.path
