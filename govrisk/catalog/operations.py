"""Every change to the catalog: create and edit powers, move them through the workflow, publish versions, import.

Operations flush and audit, never commit. Data checks live in `validation.normalize_power`, so the form, the
import, the seed and any later API write path refuse exactly the same input with the same messages.
"""

import json
import re
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from govrisk.catalog import queries
from govrisk.catalog.models import (
    EDITABLE_STATES,
    PENALTY_CATEGORY,
    DiscretionTier,
    Power,
    PowerLegalBasis,
    PowerMaterial,
    PowerResponsibility,
    PowerVersion,
    ResponsibilityStage,
)
from govrisk.catalog.validation import LIST_FIELDS, SCALAR_FIELDS, Lookups, first_error, normalize_power
from govrisk.core.audit import diff_fields, log_change
from govrisk.core.errors import Forbidden, UserError
from govrisk.core.importer import Importer, ImportRow
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.org.models import Department, Section
from govrisk.workflow.engine import fire
from govrisk.workflow.register import RegisterState

SNAPSHOT_FORMAT = 1


class PowerDataError(UserError):
    """Power data with one or more field errors; `details["errors"]` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        key, message = first_error(errors)
        total = sum(len(v) for v in errors.values())
        text = message if total == 1 else _("%(message)s（另有 %(n)s 处错误）", message=message, n=total - 1)
        super().__init__(text, field=key.split("-")[0] if "-" in key else key, details={"errors": errors})


# ------------------------------------------------------------------------------------------------
# canonical form, snapshots
# ------------------------------------------------------------------------------------------------


def power_state(power: Power) -> dict:
    """The canonical dict of a power's content (the same shape `normalize_power` produces)."""
    data = {name: getattr(power, name) for name in SCALAR_FIELDS}
    data["legal_bases"] = [b.as_dict() for b in power.legal_bases]
    data["materials"] = [m.as_dict() for m in power.materials]
    data["responsibilities"] = [r.as_dict() for r in power.responsibilities]
    data["discretion_tiers"] = [t.as_dict() for t in power.discretion_tiers]
    return data


def power_snapshot(power: Power) -> dict:
    """Everything the public page shows: the canonical content plus the names it refers to."""
    names = queries.reference_names
    department = power.department or db.session.get(Department, power.department_id)
    section = power.section or (db.session.get(Section, power.section_id) if power.section_id else None)
    return {
        "format": SNAPSHOT_FORMAT,
        **power_state(power),
        "department_code": department.code,
        "department_name": department.name,
        "section_name": section.name if section else "",
        "category_name": names("power_category").get(power.category, power.category),
        "source_name": names("power_source").get(power.source, power.source) if power.source else "",
        "level_name": names("power_level").get(power.level, power.level) if power.level else "",
    }


def _search_text(code: str, name: str, legal_bases: list[dict]) -> str:
    parts = [code, name] + [f"{b['law']} {b['article']}" for b in legal_bases]
    return " ".join(parts).lower()


def _set_rows(power: Power, name: str, rows: list[dict]) -> None:
    """Update the child rows of one list in place (by position), adding and removing at the end."""
    model = {"legal_bases": PowerLegalBasis, "materials": PowerMaterial, "responsibilities": PowerResponsibility,
             "discretion_tiers": DiscretionTier}[name]
    current = getattr(power, name)
    for position, row in enumerate(rows):
        values = dict(row)
        if name == "discretion_tiers":
            low, high = values.pop("min"), values.pop("max")
            values.update(min_value=Decimal(str(low)), max_value=Decimal(str(high)))
        if name == "responsibilities":
            values["stage"] = ResponsibilityStage(values["stage"])
        if position < len(current):
            for key, value in values.items():
                setattr(current[position], key, value)
            current[position].position = position
        else:
            current.append(model(position=position, **values))
    del current[len(rows):]


def _apply(power: Power, clean: dict) -> None:
    for name in SCALAR_FIELDS:
        if name in clean:
            setattr(power, name, clean[name])
    for name in LIST_FIELDS:
        if name in clean:
            _set_rows(power, name, clean[name])
    power.search_text = _search_text(power.code, power.name, clean.get("legal_bases", []))


# ------------------------------------------------------------------------------------------------
# checks
# ------------------------------------------------------------------------------------------------


def lookups_for(actor) -> Lookups:
    """Reference keys and department/section checks, scoped to what the actor may edit."""

    def department_ok(department_id: int) -> str | None:
        department = db.session.get(Department, department_id)
        if department is None:
            return _("责任单位不存在")
        if department.is_retired:
            return _("“%(name)s”已停用", name=department.name)
        if actor is not None and not actor.can_see_department(department_id):
            return _("您不能为“%(name)s”登记职权", name=department.name)
        return None

    def section_ok(department_id: int, section_id: int) -> str | None:
        section = db.session.get(Section, section_id)
        if section is None or section.department_id != department_id:
            return _("所选科室不属于责任单位")
        return None

    return Lookups(
        categories=set(queries.reference_names("power_category")),
        sources=set(queries.reference_names("power_source")),
        levels=set(queries.reference_names("power_level")),
        stages={s.value for s in ResponsibilityStage},
        penalty_category=PENALTY_CATEGORY,
        department_ok=department_ok,
        section_ok=section_ok,
    )


def check_power_data(raw: dict, *, actor, lookups: Lookups | None = None) -> dict:
    """The canonical data, or PowerDataError with every field error."""
    clean, errors = normalize_power(raw, lookups or lookups_for(actor))
    if errors:
        raise PowerDataError(errors)
    return clean


def next_power_code(department: Department, category: str) -> str:
    """Department code + category + sequence, e.g. YX-SCJG-XK-0003 (the next free number)."""
    prefix = f"{department.code}-{category.upper()}-"
    codes = db.session.scalars(sa.select(Power.code).where(Power.code.startswith(prefix, autoescape=True)))
    numbers = [int(m.group(1)) for c in codes if (m := re.fullmatch(r"(\d+)", c[len(prefix):]))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _require_unique_code(code: str, exclude_id: int | None = None) -> None:
    stmt = sa.select(Power.id).where(Power.code == code)
    if exclude_id:
        stmt = stmt.where(Power.id != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise PowerDataError({"code": [_("编码“%(code)s”已被其他职权使用", code=code)]})


# ------------------------------------------------------------------------------------------------
# create and edit
# ------------------------------------------------------------------------------------------------


def create_power(raw: dict, *, actor, lookups: Lookups | None = None) -> Power:
    """Register a new power as a draft; an empty code is generated."""
    if actor is not None and not actor.can("register.edit"):
        raise Forbidden(_("您没有登记职权的权限。"))
    clean = check_power_data(raw, actor=actor, lookups=lookups)
    department = db.session.get(Department, clean["department_id"])
    if not clean["code"]:
        clean["code"] = next_power_code(department, clean["category"])
    _require_unique_code(clean["code"])
    power = Power(state=RegisterState.DRAFT, code=clean["code"], name=clean["name"], category=clean["category"],
                  department_id=department.id)
    power.department = department
    db.session.add(power)
    _apply(power, clean)
    db.session.flush()
    log_change("catalog.power.create", power, actor=actor, changes=diff_fields({}, power_state(power)))
    return power


def update_power(power: Power, raw: dict, *, actor, lookups: Lookups | None = None) -> dict:
    """Save changes to the working copy; on a published power this starts a revision (published → draft).

    Returns the field-level changes ({} when nothing changed: then nothing is written at all).
    """
    if power.state not in EDITABLE_STATES:
        raise UserError(_("该职权%(state)s，审核期间不能修改；如需修改请由审核人退回。", state=power.state.title))
    if actor is not None and not power.can_edit(actor):
        raise Forbidden(_("只有本单位的填报员可以修改该职权。"))
    power.check_version(raw.get("version") or None)
    raw = {**raw, "code": raw.get("code") or power.code}
    clean = check_power_data(raw, actor=actor, lookups=lookups)
    if clean["code"] != power.code:
        if power.published_number is not None or _has_versions(power):
            raise PowerDataError({"code": [_("已发布过的职权不能修改编码（流程、接口和公众依据编码查找它）")]})
        _require_unique_code(clean["code"], exclude_id=power.id)
    before = power_state(power)
    changes = diff_fields(before, {k: clean.get(k) for k in before})
    if not changes:
        return {}
    if power.state is RegisterState.PUBLISHED:
        fire(power, "revise", actor=actor, comment="修改已发布的职权，开始修订；已发布版本在新版本发布前继续公开。")
    _apply(power, clean)
    power.bump_version()
    db.session.flush()
    log_change("catalog.power.update", power, actor=actor, changes=changes)
    return changes


def _has_versions(power: Power) -> bool:
    return db.session.scalar(sa.select(PowerVersion.id).where(PowerVersion.power_id == power.id).limit(1)) is not None


# ------------------------------------------------------------------------------------------------
# workflow and publication
# ------------------------------------------------------------------------------------------------


def transition_power(power: Power, name: str, *, actor, comment: str | None = None,
                     expected_version: int | None = None):
    """Fire a workflow transition; publish, discard and retire also maintain the published versions."""
    power.check_version(expected_version)
    if name == "revise":
        raise UserError(_("修订通过编辑已发布的职权开始。"))
    if name == "discard":
        current = queries.current_version(power.id)
        event = fire(power, name, actor=actor, comment=comment)
        if current is not None:
            _restore(power, current)
        return event
    event = fire(power, name, actor=actor, comment=comment)
    if name == "publish":
        publish_version(power, actor=actor)
    elif name == "retire":
        _supersede_current(power)
        if power.published_number is not None:
            log_change("catalog.power.unpublish", power, actor=actor,
                       changes={"published_number": [power.published_number, None]})
        power.published_number = None
    db.session.flush()
    return event


def _supersede_current(power: Power) -> PowerVersion | None:
    current = queries.current_version(power.id)
    if current is not None:
        current.is_current = False
        current.superseded_at = utcnow()
    return current


def publish_version(power: Power, *, actor) -> PowerVersion:
    """Freeze the working copy into a new immutable version and make it the one the portal shows."""
    previous = _supersede_current(power)
    number = (db.session.scalar(sa.select(sa.func.max(PowerVersion.number))
                                .where(PowerVersion.power_id == power.id)) or 0) + 1
    snapshot = power_snapshot(power)
    version = PowerVersion(
        power_id=power.id, number=number, published_at=previous.superseded_at if previous else utcnow(),
        published_by_id=getattr(actor, "id", None), is_current=True, code=power.code, name=power.name,
        department_id=power.department_id, category=power.category, is_public=power.is_public,
        is_major_matter=power.is_major_matter, search_text=power.search_text,
        snapshot=json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
    )
    db.session.add(version)
    old_number = power.published_number
    power.published_number = number
    db.session.flush()
    log_change("catalog.power.publish_version", power, actor=actor,
               changes={"published_number": [old_number, number]})
    return version


def _restore(power: Power, version: PowerVersion) -> None:
    """Put the published content back into the working copy (discarding a revision)."""
    data = version.data
    clean = {k: data[k] for k in (*SCALAR_FIELDS, *LIST_FIELDS) if k in data}
    before = power_state(power)
    _apply(power, clean)
    db.session.flush()
    changes = diff_fields(before, power_state(power))
    if changes:
        log_change("catalog.power.restore", power, actor=None, changes=changes)


# ------------------------------------------------------------------------------------------------
# legal basis as one text cell (import/export)
# ------------------------------------------------------------------------------------------------

_ENTRY_SPLIT = re.compile(r"\s*(?:\n+|[；;](?=\s*《))\s*")
_ENTRY = re.compile(r"^《(?P<law>[^》]+)》\s*(?P<article>[^：:]*?)\s*(?:[：:]\s*(?P<clause>.*))?$", re.S)


def parse_legal_basis_text(text: str) -> list[dict]:
    """'《A法》第十条：……\\n《B条例》第五条' → [{law, article, clause}, …]; a line without 《》 is a law name."""
    entries = []
    for part in _ENTRY_SPLIT.split((text or "").strip()):
        part = part.strip().rstrip("；;")
        if not part:
            continue
        match = _ENTRY.match(part)
        if match:
            entries.append({"law": match["law"].strip(), "article": match["article"].strip(),
                            "clause": (match["clause"] or "").strip()})
        else:
            entries.append({"law": part, "article": "", "clause": ""})
    return entries


def format_legal_basis_text(entries: list[dict]) -> str:
    lines = []
    for entry in entries:
        line = f"《{entry['law']}》{entry.get('article', '')}"
        if entry.get("clause"):
            line += f"：{entry['clause']}"
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# import (DESIGN §7.4)
# ------------------------------------------------------------------------------------------------


class PowerImporter(Importer):
    """Powers from CSV/XLSX: code, name, category, department_code, legal_basis, statutory_days,
    promised_days, is_major_matter, public. Rows match existing powers by code (or, without a code, by
    department and name); new rows become drafts with a generated code when the code is empty."""

    kind = "powers"
    title = lazy_pgettext("import", "职权")
    columns = ("code", "name", "category", "department_code", "legal_basis", "statutory_days", "promised_days",
               "is_major_matter", "public")
    required = ("name", "category", "department_code", "legal_basis")
    IMPORTED = ("name", "category", "department_id", "legal_bases", "statutory_days", "promised_days",
                "is_major_matter", "is_public")

    def __init__(self, actor=None):
        self.actor = actor

    def run(self, data: bytes, filename: str, *, actor, max_bytes: int):
        self.actor = actor if actor is not None else self.actor
        return super().run(data, filename, actor=actor, max_bytes=max_bytes)

    def check(self, rows: list[ImportRow]) -> None:
        from flask_login import current_user

        actor = self.actor if self.actor is not None else (current_user if _has_user() else None)
        lookups = lookups_for(actor)
        categories = {}
        for key, name in queries.reference_names("power_category").items():
            categories[key.lower()] = key
            categories[name] = key
        departments = {d.code: d for d in db.session.scalars(sa.select(Department))}
        existing = self._existing(rows, departments)
        seen_codes: dict[str, int] = {}
        seen_names: dict[tuple, int] = {}
        for row in rows:
            v = row.values
            category_text = v.get("category", "")
            category = categories.get(category_text) or categories.get(category_text.lower())
            if category_text and category is None:
                row.errors.append(_("未知的职权类别“%(value)s”", value=category_text))
            department = departments.get(v.get("department_code", ""))
            if v.get("department_code") and department is None:
                row.errors.append(_("单位代码“%(code)s”不存在", code=v["department_code"]))
            code = v.get("code", "")
            if code:
                if code in seen_codes:
                    row.errors.append(_("编码“%(code)s”与第 %(line)s 行重复", code=code, line=seen_codes[code]))
                seen_codes.setdefault(code, row.line)
            elif department is not None:
                key = (department.id, v.get("name", ""))
                if key in seen_names:
                    row.errors.append(_("同一单位的职权名称与第 %(line)s 行重复", line=seen_names[key]))
                seen_names.setdefault(key, row.line)
            if department is None or category is None:
                continue
            power = existing.get(code) if code else existing.get((department.id, v.get("name", "")))
            raw = {"code": code, "name": v.get("name", ""), "category": category, "department_id": department.id,
                   "legal_bases": self._legal_bases(v.get("legal_basis", ""), power),
                   "statutory_days": v.get("statutory_days", ""), "promised_days": v.get("promised_days", ""),
                   "is_major_matter": v.get("is_major_matter", ""), "is_public": v.get("public", "") or "是"}
            if power is not None:
                base = power_state(power)
                raw = {**base, **raw, "code": power.code}
            clean, errors = normalize_power(raw, lookups)
            for key, messages in errors.items():
                label = _IMPORT_LABELS.get(key.split("-")[0], key)
                row.errors.extend(_("%(field)s：%(message)s", field=label, message=m) for m in messages)
            if power is not None and not row.errors:
                if power.department_id != department.id and actor is not None \
                        and not actor.can_see_department(power.department_id):
                    row.errors.append(_("该编码属于您无权修改的单位"))
                changed = {k for k in self.IMPORTED if clean.get(k) != base.get(k)}
                if not changed:
                    row.action = "unchanged"
                elif power.state not in (RegisterState.DRAFT, RegisterState.RETURNED, RegisterState.PUBLISHED):
                    row.errors.append(_("该职权%(state)s，审核期间不能通过导入修改", state=power.state.title))
                else:
                    row.action = "update"
            elif not row.errors:
                row.action = "create"
            row.data = {"clean": clean, "power_id": power.id if power is not None else None}

    @staticmethod
    def _legal_bases(text: str, power: Power | None) -> list[dict]:
        """Parsed entries; an entry without clause text keeps the clause already recorded for that article."""
        entries = parse_legal_basis_text(text)
        if power is not None:
            known = {(b.law, b.article): b.clause for b in power.legal_bases}
            for entry in entries:
                if not entry["clause"]:
                    entry["clause"] = known.get((entry["law"], entry["article"]), "")
        return entries

    @staticmethod
    def _existing(rows: list[ImportRow], departments: dict) -> dict:
        """Existing powers named by the file: by code, and by (department id, name) for rows without a code."""
        found: dict = {}
        codes = sorted({r.values["code"] for r in rows if r.values.get("code")})
        for start in range(0, len(codes), 500):
            for power in db.session.scalars(sa.select(Power).where(Power.code.in_(codes[start:start + 500]))):
                found[power.code] = power
        pairs = {(departments[r.values["department_code"]].id, r.values.get("name", "")) for r in rows
                 if not r.values.get("code") and r.values.get("department_code") in departments}
        names = sorted({name for _, name in pairs})
        for start in range(0, len(names), 500):
            stmt = sa.select(Power).where(Power.name.in_(names[start:start + 500]),
                                          Power.state != RegisterState.RETIRED)
            for power in db.session.scalars(stmt):
                if (power.department_id, power.name) in pairs:
                    found[(power.department_id, power.name)] = power
        return found

    def write(self, rows: list[ImportRow], *, actor) -> None:
        actor = actor if actor is not None else self.actor
        lookups = lookups_for(actor)
        for row in rows:
            clean = row.data["clean"]
            if row.data["power_id"] is None:
                create_power(clean, actor=actor, lookups=lookups)
            else:
                power = db.session.get(Power, row.data["power_id"])
                update_power(power, {**clean, "version": power.version}, actor=actor, lookups=lookups)


def _has_user() -> bool:
    from flask import has_request_context

    return has_request_context()


_IMPORT_LABELS = {"code": _l("编码"), "name": _l("名称"), "category": _l("类别"), "department_id": _l("单位"),
                  "legal_bases": _l("法律依据"), "statutory_days": _l("法定时限"), "promised_days": _l("承诺时限"),
                  "is_major_matter": _l("三重一大"), "is_public": _l("公开")}
