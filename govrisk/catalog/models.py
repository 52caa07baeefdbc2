"""Powers (职权), their legal basis, materials, responsibility items, discretion tiers and published versions.

A `Power` row is the working copy that departments edit through the register workflow. Each publication
freezes the working copy into an immutable `PowerVersion` (a JSON snapshot plus a few indexed columns); the
portal, the anonymous API and "the catalog as it stood on date D" read only those snapshots, so a draft
revision of a published power never leaks to the public (see `govrisk/catalog/workflow.py`).
"""

import json
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govrisk.catalog.workflow import POWER_WORKFLOW
from govrisk.core.enums import TitledEnum
from govrisk.core.models import TimestampMixin, VersionedMixin
from govrisk.core.permissions import Role, register_permission
from govrisk.core.types import UTCDateTime, enum_column, utcnow
from govrisk.extensions import db
from govrisk.workflow.register import RegisterState

register_permission("catalog.import", [Role.DEPT_EDITOR], "导入职权目录", "Import powers")
register_permission("catalog.export", [Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR], "导出职权目录",
                    "Export the power catalog")

PENALTY_CATEGORY = "cf"  # 行政处罚: the category whose powers carry discretion standards
EDITABLE_STATES = (RegisterState.DRAFT, RegisterState.RETURNED, RegisterState.PUBLISHED)


class ResponsibilityStage(TitledEnum):
    ACCEPTANCE = ("acceptance", "受理阶段", "Acceptance")
    REVIEW = ("review", "审查阶段", "Review")
    DECISION = ("decision", "决定阶段", "Decision")
    EXECUTION = ("execution", "送达执行阶段", "Delivery and execution")
    SUPERVISION = ("supervision", "事后监管阶段", "Follow-up supervision")
    OTHER = ("other", "其他", "Other")


class Power(TimestampMixin, VersionedMixin, db.Model):
    """A power item (职权事项): the department's working copy."""

    __tablename__ = "powers"
    __workflow__ = POWER_WORKFLOW
    __table_args__ = (
        # Covering index of the list: the grouped counts (department × category), every filter and the default
        # sort are answered from it, so a filtered page never reads the rows it does not show.
        sa.Index("ix_powers_counts", "department_id", "category", "state", "is_major_matter", "search_text", "code"),
        sa.Index("ix_powers_name", "name"),
        sa.Index("ix_powers_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    sub_items: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # reference kind power_category
    source: Mapped[str] = mapped_column(sa.String(60), default="")  # reference kind power_source
    level: Mapped[str] = mapped_column(sa.String(60), default="")  # reference kind power_level
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"), index=True)
    statutory_days: Mapped[int | None] = mapped_column(sa.Integer)  # working days; empty = no statutory limit
    promised_days: Mapped[int | None] = mapped_column(sa.Integer)  # working days, ≤ statutory_days
    is_fee_charged: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    fee_basis: Mapped[str] = mapped_column(sa.Text, default="")
    fee_standard: Mapped[str] = mapped_column(sa.Text, default="")
    place: Mapped[str] = mapped_column(sa.String(300), default="")
    phone: Mapped[str] = mapped_column(sa.String(60), default="")
    supervision_channel: Mapped[str] = mapped_column(sa.Text, default="")
    accountability: Mapped[str] = mapped_column(sa.Text, default="")  # 追责情形
    is_major_matter: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)  # 三重一大
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    state: Mapped[RegisterState] = mapped_column(enum_column(RegisterState), default=RegisterState.DRAFT,
                                                 nullable=False)
    # The number of the version now on the portal (None: never published, or retired).
    published_number: Mapped[int | None] = mapped_column(sa.Integer)
    # Lower-cased code, name and legal basis: one column for the text filter.
    search_text: Mapped[str] = mapped_column(sa.Text, default="")

    department = relationship("Department")
    section = relationship("Section")
    legal_bases = relationship("PowerLegalBasis", order_by="PowerLegalBasis.position",
                               cascade="all, delete-orphan", back_populates="power")
    materials = relationship("PowerMaterial", order_by="PowerMaterial.position", cascade="all, delete-orphan",
                             back_populates="power")
    responsibilities = relationship("PowerResponsibility", order_by="PowerResponsibility.position",
                                    cascade="all, delete-orphan", back_populates="power")
    discretion_tiers = relationship("DiscretionTier", order_by="DiscretionTier.position",
                                    cascade="all, delete-orphan", back_populates="power")

    audit_fields = (
        "code", "name", "sub_items", "category", "source", "level", "department_id", "section_id",
        "statutory_days", "promised_days", "is_fee_charged", "fee_basis", "fee_standard", "place", "phone",
        "supervision_channel", "accountability", "is_major_matter", "is_public",
    )

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_penalty(self) -> bool:
        return self.category == PENALTY_CATEGORY

    @property
    def is_on_portal(self) -> bool:
        """A published version is public now (the working copy may be a newer draft revision)."""
        return self.published_number is not None and self.state is not RegisterState.RETIRED

    @property
    def is_revision(self) -> bool:
        """A draft revision of a power whose earlier version stays published."""
        return self.published_number is not None and self.state in (
            RegisterState.DRAFT, RegisterState.SUBMITTED, RegisterState.DEPT_APPROVED, RegisterState.RETURNED)

    def can_view(self, user) -> bool:
        return bool(user is not None and user.is_authenticated and user.can_see_department(self.department_id))

    def can_act_on(self, user) -> bool:
        """Workflow scope: the department's own users (and sub-units'), inspectors everywhere."""
        return self.can_view(user)

    def can_edit(self, user) -> bool:
        """Editors of the department, while the working copy is editable (a published one starts a revision)."""
        return self.can_view(user) and user.can("register.edit") and self.state in EDITABLE_STATES


class PowerLegalBasis(db.Model):
    """One legal basis entry: the law, the article and the clause text."""

    __tablename__ = "power_legal_bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    law: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    article: Mapped[str] = mapped_column(sa.String(120), default="")
    clause: Mapped[str] = mapped_column(sa.Text, default="")

    power = relationship(Power, back_populates="legal_bases")

    def as_dict(self) -> dict:
        return {"law": self.law, "article": self.article, "clause": self.clause}

    @property
    def citation(self) -> str:
        law = self.law if self.law.startswith("《") else f"《{self.law}》"
        return f"{law}{self.article}"


class PowerMaterial(db.Model):
    """A material the applicant must provide."""

    __tablename__ = "power_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    power = relationship(Power, back_populates="materials")

    def as_dict(self) -> dict:
        return {"name": self.name, "note": self.note}


class PowerResponsibility(db.Model):
    """A responsibility item (责任事项) of one stage of exercising the power."""

    __tablename__ = "power_responsibilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    stage: Mapped[ResponsibilityStage] = mapped_column(enum_column(ResponsibilityStage), nullable=False)
    duty: Mapped[str] = mapped_column(sa.Text, nullable=False)

    power = relationship(Power, back_populates="responsibilities")

    def as_dict(self) -> dict:
        return {"stage": self.stage.value, "duty": self.duty}


class DiscretionTier(db.Model):
    """One tier of a discretion standard (裁量基准): conditions of use and a range min–max in a unit."""

    __tablename__ = "discretion_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), index=True, nullable=False)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # 轻微 / 一般 / 较重 / 严重
    conditions: Mapped[str] = mapped_column(sa.Text, nullable=False)
    measure: Mapped[str] = mapped_column(sa.String(300), default="")  # e.g. 罚款, 责令停产停业
    min_value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), nullable=False)
    max_value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 2), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(20), nullable=False)

    power = relationship(Power, back_populates="discretion_tiers")

    def as_dict(self) -> dict:
        return {"name": self.name, "conditions": self.conditions, "measure": self.measure,
                "min": _number(self.min_value), "max": _number(self.max_value), "unit": self.unit}


def _number(value) -> str:
    """A decimal as text without a trailing .00 ('5000', '0.5')."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class PowerVersion(db.Model):
    """An immutable published version of a power: the full snapshot plus the columns the portal filters on.

    Valid from `published_at` until `superseded_at` (a newer publication or retirement); `is_current`
    marks the one version per power the portal shows now.
    """

    __tablename__ = "power_versions"
    __table_args__ = (
        sa.UniqueConstraint("power_id", "number"),
        sa.Index("ix_power_versions_portal", "is_current", "is_public", "code"),
        # Covering index of the portal: counts, filters and the default sort (the snapshot is never scanned).
        sa.Index("ix_power_versions_counts", "is_current", "is_public", "department_id", "category",
                 "is_major_matter", "search_text", "code"),
        sa.Index("ix_power_versions_period", "published_at", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    power_id: Mapped[int] = mapped_column(sa.ForeignKey("powers.id"), index=True, nullable=False)
    number: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_current: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    code: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    is_major_matter: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    snapshot: Mapped[str] = mapped_column(sa.Text, nullable=False)  # JSON, see operations.power_snapshot

    power = relationship(Power)
    department = relationship("Department")
    published_by = relationship("User")

    @property
    def data(self) -> dict:
        return json.loads(self.snapshot)

    def audit_label(self) -> str:
        return f"{self.code} v{self.number}"
