"""Read side of the organisation: the department tree, lists with filters, assignments."""

from datetime import date

import sqlalchemy as sa

from govrisk.core.pagination import paginate
from govrisk.extensions import db
from govrisk.org.models import Assignment, Department, Person, Post, Section


def get_department_by_code(code: str) -> Department | None:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def subtree_ids(department_id: int) -> set[int]:
    """The ids of a department and all its sub-units."""
    path = db.session.scalar(sa.select(Department.path).where(Department.id == department_id))
    if path is None:
        return set()
    return set(db.session.scalars(sa.select(Department.id).where(Department.path.startswith(path, autoescape=True))))


def department_choices(visible_ids=None, *, include_retired: bool = False) -> list[tuple[int, str]]:
    """(id, indented name) in tree order, for select fields."""
    stmt = sa.select(Department.id, Department.name, Department.path)
    if not include_retired:
        stmt = stmt.where(Department.is_retired.is_(False))
    if visible_ids is not None:
        stmt = stmt.where(Department.id.in_(visible_ids or {-1}))
    rows = db.session.execute(stmt.order_by(Department.path)).all()
    return [(row.id, "　" * max(row.path.count("/") - 2, 0) + row.name) for row in rows]


def search_departments(*, q: str = "", kind: str = "", parent_id: int | None = None, include_retired: bool = False,
                       visible_ids=None):
    """A page of departments filtered by text, kind and parent, in tree order."""
    stmt = sa.select(Department)
    if visible_ids is not None:
        stmt = stmt.where(Department.id.in_(visible_ids or {-1}))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Department.code.ilike(like), Department.name.ilike(like)))
    if kind:
        stmt = stmt.where(Department.kind == kind)
    if parent_id:
        stmt = stmt.where(Department.parent_id == parent_id)
    if not include_retired:
        stmt = stmt.where(Department.is_retired.is_(False))
    return paginate(stmt.order_by(Department.path))


def department_counts(department_ids: list[int]) -> dict[int, dict[str, int]]:
    """Sections, posts, key posts and people per department, in three grouped queries."""
    counts = {d: {"sections": 0, "posts": 0, "key_posts": 0, "people": 0} for d in department_ids}
    if not department_ids:
        return counts
    for dept_id, n in db.session.execute(sa.select(Section.department_id, sa.func.count()).where(
            Section.department_id.in_(department_ids)).group_by(Section.department_id)):
        counts[dept_id]["sections"] = n
    post_stmt = sa.select(Post.department_id, sa.func.count(), sa.func.sum(sa.case((Post.is_key, 1), else_=0)))
    for dept_id, n, key in db.session.execute(post_stmt.where(Post.department_id.in_(department_ids))
                                              .group_by(Post.department_id)):
        counts[dept_id]["posts"], counts[dept_id]["key_posts"] = n, int(key or 0)
    for dept_id, n in db.session.execute(sa.select(Person.department_id, sa.func.count()).where(
            Person.department_id.in_(department_ids)).group_by(Person.department_id)):
        counts[dept_id]["people"] = n
    return counts


def search_posts(*, department_ids=None, q: str = "", is_key: bool | None = None, department_id: int | None = None):
    """A page of posts visible to the caller, filtered."""
    stmt = sa.select(Post).join(Department, Post.department_id == Department.id)
    if department_ids is not None:
        stmt = stmt.where(Post.department_id.in_(department_ids or {-1}))
    if department_id:
        stmt = stmt.where(Post.department_id == department_id)
    if q:
        stmt = stmt.where(sa.or_(Post.name.ilike(f"%{q}%"), Post.code.ilike(f"%{q}%")))
    if is_key is not None:
        stmt = stmt.where(Post.is_key.is_(is_key))
    return paginate(stmt.where(Post.is_retired.is_(False)).order_by(Department.path, Post.code))


def search_people(*, department_ids=None, q: str = "", department_id: int | None = None):
    """A page of people visible to the caller, filtered by name or staff number."""
    stmt = sa.select(Person).join(Department, Person.department_id == Department.id)
    if department_ids is not None:
        stmt = stmt.where(Person.department_id.in_(department_ids or {-1}))
    if department_id:
        stmt = stmt.where(Person.department_id == department_id)
    if q:
        stmt = stmt.where(sa.or_(Person.name.ilike(f"%{q}%"), Person.staff_no.ilike(f"%{q}%")))
    return paginate(stmt.where(Person.is_retired.is_(False)).order_by(Department.path, Person.staff_no))


def sections_of(department_id: int) -> list[Section]:
    return list(db.session.scalars(sa.select(Section).where(Section.department_id == department_id,
                                                            Section.is_retired.is_(False)).order_by(Section.code)))


def posts_of(department_id: int) -> list[Post]:
    return list(db.session.scalars(sa.select(Post).where(Post.department_id == department_id,
                                                         Post.is_retired.is_(False)).order_by(Post.code)))


def assignments_of_post(post_id: int) -> list[Assignment]:
    stmt = sa.select(Assignment).where(Assignment.post_id == post_id).order_by(Assignment.start_on.desc())
    return list(db.session.scalars(stmt))


def assignments_of_person(person_id: int) -> list[Assignment]:
    stmt = sa.select(Assignment).where(Assignment.person_id == person_id).order_by(Assignment.start_on.desc())
    return list(db.session.scalars(stmt))


def overlapping_assignments(post_id: int, start_on: date, end_on: date | None, *, exclude_id: int | None = None):
    """Assignments on the post whose period intersects [start_on, end_on]."""
    stmt = sa.select(Assignment).where(
        Assignment.post_id == post_id,
        sa.or_(Assignment.end_on.is_(None), Assignment.end_on >= start_on),
    )
    if end_on is not None:
        stmt = stmt.where(Assignment.start_on <= end_on)
    if exclude_id:
        stmt = stmt.where(Assignment.id != exclude_id)
    return list(db.session.scalars(stmt))


def people_of(department_id: int) -> list[Person]:
    return list(db.session.scalars(sa.select(Person).where(Person.department_id == department_id,
                                                           Person.is_retired.is_(False)).order_by(Person.staff_no)))


def children_of(department_id: int) -> list[Department]:
    return list(db.session.scalars(sa.select(Department).where(Department.parent_id == department_id)
                                   .order_by(Department.sort_order, Department.code)))
