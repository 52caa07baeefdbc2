"""Departments (a tree), sections, posts, people and their assignments to posts."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.core.enums import TitledEnum
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.types import enum_column
from govrisk.extensions import db


class DepartmentKind(TitledEnum):
    PARTY = ("party", "党委部门", "Party department")
    GOVERNMENT = ("government", "政府部门", "Government department")
    INSTITUTION = ("institution", "事业单位", "Public institution")
    TOWNSHIP = ("township", "乡镇（街道）", "Township / sub-district")
    ENTERPRISE = ("enterprise", "国有企业", "State-owned enterprise")
    SECTION_UNIT = ("subunit", "下属单位", "Subordinate unit")
    OTHER = ("other", "其他", "Other")


class Department(TimestampMixin, VersionedMixin, db.Model):
    """A unit in the department tree; `path` ('/1/4/') makes subtree queries one LIKE."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[DepartmentKind] = mapped_column(enum_column(DepartmentKind), default=DepartmentKind.GOVERNMENT)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(500), default="/", index=True)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=0)
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    parent = relationship("Department", remote_side=[id], backref="children")

    audit_fields = ("code", "name", "kind", "parent_id", "sort_order", "is_retired")

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def can_manage(self, user) -> bool:
        return user.is_authenticated and user.can("org.manage")

    def can_view(self, user) -> bool:
        return self.can_manage(user) or (user.is_authenticated and user.can_see_department(self.id))


class Section(TimestampMixin, VersionedMixin, db.Model):
    """A section (科室) inside a department."""

    __tablename__ = "sections"
    __table_args__ = (sa.UniqueConstraint("department_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True, nullable=False)
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    department = relationship(Department)

    audit_fields = ("department_id", "code", "name", "is_retired")


class Post(TimestampMixin, VersionedMixin, db.Model):
    """A post (岗位); key posts (`is_key`) fall under rotation rules."""

    __tablename__ = "posts"
    __table_args__ = (sa.UniqueConstraint("department_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True, nullable=False)
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    duties: Mapped[str] = mapped_column(sa.Text, default="")
    headcount: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)
    is_key: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    department = relationship(Department)
    section = relationship(Section)

    audit_fields = ("department_id", "section_id", "code", "name", "duties", "headcount", "is_key", "is_retired")


class Person(TimestampMixin, VersionedMixin, db.Model):
    """A member of staff; assignments link people to posts over time."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True, nullable=False)
    staff_no: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    is_retired: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    department = relationship(Department)

    audit_fields = ("department_id", "staff_no", "name", "title", "is_retired")

    def audit_label(self) -> str:
        return f"{self.name}（{self.staff_no}）"


class Assignment(TimestampMixin, VersionedMixin, db.Model):
    """A person holding a post from start_on to end_on (open-ended when end_on is empty)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"), index=True, nullable=False)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True, nullable=False)
    start_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    end_on: Mapped[date | None] = mapped_column(sa.Date)

    person = relationship(Person)
    post = relationship(Post)

    audit_fields = ("person_id", "post_id", "start_on", "end_on")

    def audit_label(self) -> str:
        return f"{self.person.name} → {self.post.name}"

    def is_current(self, on: date) -> bool:
        return self.start_on <= on and (self.end_on is None or self.end_on >= on)
