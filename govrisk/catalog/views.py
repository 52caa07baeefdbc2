"""Catalog pages: list with filters and counts, detail with history, edit forms, workflow, versions, import, export."""

from datetime import date

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.catalog import exports, queries
from govrisk.catalog import operations as ops
from govrisk.catalog.forms import PowerForm
from govrisk.catalog.models import Power, ResponsibilityStage
from govrisk.catalog.workflow import HIDDEN_TRANSITIONS
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.nav import NavItem, register_nav
from govrisk.core.views import RH, RHImport, add_route
from govrisk.extensions import db
from govrisk.org.models import Section
from govrisk.org.queries import department_choices
from govrisk.workflow.register import RegisterState

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

register_nav(NavItem("catalog.powers", "职权目录", "Power catalog", "business.read", "journal-text", "", 20))


@bp.app_template_filter("stage_title")
def _stage_title(value):
    try:
        return ResponsibilityStage(value).title
    except ValueError:
        return value


class RHCatalogBase(RH):
    permission = "business.read"

    def _visible(self):
        return current_user.visible_department_ids()


class RHPowerBase(RHCatalogBase):
    def _load(self, power_id, **kwargs):
        self.power = db.session.get(Power, power_id)
        if self.power is None:
            raise NotFound(_("职权不存在。"))

    def _check_access(self):
        if not self.power.can_view(current_user):
            raise Forbidden(_("您只能查看本单位及下属单位的职权。"))


class RHPowers(RHCatalogBase):
    template = "catalog/powers.html"

    def _process_GET(self):
        filters = queries.PowerFilters.from_args(request.args)
        visible = self._visible()
        counts = queries.counts(filters, visible)
        return self._render(page=queries.search_powers(filters, visible, total=counts.total), filters=filters,
                            facets=counts, categories=queries.reference_names("power_category"),
                            departments=department_choices(visible), states=RegisterState)


class RHPowerDetail(RHPowerBase):
    template = "catalog/power.html"

    def _process_GET(self):
        power = self.power
        versions = queries.versions_of(power.id)
        current = next((v for v in versions if v.is_current), None)
        pending = queries.diff_snapshots(current.data, ops.power_snapshot(power)) if (
            current is not None and power.is_revision) else []
        return self._render(power=power, p=ops.power_snapshot(power), versions=versions, current=current,
                            pending=pending, hidden=HIDDEN_TRANSITIONS)


class RHPowerForm(RHCatalogBase):
    """Create (power_id None) or edit; every error is shown under its own input."""

    template = "catalog/power_form.html"

    def _load(self, power_id=None):
        self.power = db.session.get(Power, power_id) if power_id else None
        if power_id and self.power is None:
            raise NotFound(_("职权不存在。"))
        if request.method == "POST":
            self.form = PowerForm()
        elif self.power is not None:
            self.form = PowerForm(data={**ops.power_state(self.power), "version": self.power.version})
        else:
            self.form = PowerForm(data={"department_id": current_user.department_id or 0, "is_public": True})
        self._choices()
        self.general_errors = []

    def _check_access(self):
        if self.power is None:
            if not current_user.can("register.edit"):
                raise Forbidden(_("只有单位填报员可以登记职权。"))
        elif not self.power.can_edit(current_user):
            raise Forbidden(_("该职权当前不能由您修改。"))

    def _choices(self):
        form, visible = self.form, self._visible()
        form.category.choices = [("", "—")] + queries.reference_choices("power_category")
        form.source.choices = [("", "—")] + queries.reference_choices("power_source")
        form.level.choices = [("", "—")] + queries.reference_choices("power_level")
        form.department_id.choices = [(0, "—")] + department_choices(visible)
        ids = [d for d, _ in form.department_id.choices if d]
        sections = db.session.scalars(db.select(Section).where(Section.department_id.in_(ids or [-1]),
                                                               Section.is_retired.is_(False))
                                      .order_by(Section.department_id, Section.code)).all()
        names = dict(form.department_id.choices)
        form.section_id.choices = [(0, "—")] + [(s.id, f"{names.get(s.department_id, '').strip()} / {s.name}")
                                                 for s in sections]
        if request.method == "GET" and self.power is not None:  # one blank row to add to each list
            for name in ("legal_bases", "materials", "responsibilities"):
                getattr(form, name).append_entry()

    def _render_form(self):
        return self._render(power=self.power, general_errors=self.general_errors)

    def _on_user_error(self, exc):
        if isinstance(exc, ops.PowerDataError):
            self.general_errors = self.form.set_errors(exc.details["errors"])
            return self._render_form(), 400
        return super()._on_user_error(exc)

    def _process_GET(self):
        return self._render_form()

    def _process_POST(self):
        if not self.form.validate_on_submit():
            return self._render_form(), 400
        raw = self.form.raw_data()
        if self.power is None:
            power = ops.create_power(raw, actor=current_user)
            flash(_("职权“%(name)s”已登记为草稿（编码 %(code)s）。", name=power.name, code=power.code), "success")
        else:
            power = self.power
            was_published = power.state is RegisterState.PUBLISHED
            changes = ops.update_power(power, raw, actor=current_user)
            if not changes:
                flash(_("没有需要保存的修改。"), "info")
            elif was_published:
                flash(_("已开始修订：修订稿为草稿，已发布的版本在新版本发布前继续在门户公开。"), "success")
            else:
                flash(_("已保存。"), "success")
        return redirect(url_for("catalog.power", power_id=power.id))


class RHPowerTransition(RHPowerBase):
    def _process_POST(self):
        name = request.form.get("transition", "")
        ops.transition_power(self.power, name, actor=current_user, comment=request.form.get("comment"),
                             expected_version=request.form.get("version", type=int))
        flash(_("已%(action)s：当前状态为“%(state)s”。", action=ops_title(self.power, name),
                state=self.power.state.title), "success")
        return redirect(url_for("catalog.power", power_id=self.power.id))


def ops_title(power, name: str) -> str:
    try:
        return power.__workflow__.get(name).title
    except UserError:
        return name


class RHPowerVersion(RHPowerBase):
    template = "catalog/version.html"

    def _load(self, power_id, number):
        super()._load(power_id)
        self.version = queries.get_version(power_id, number)
        if self.version is None:
            raise NotFound(_("该版本不存在。"))

    def _process_GET(self):
        return self._render(power=self.power, version=self.version, p=self.version.data,
                            versions=queries.versions_of(self.power.id))


class RHPowerDiff(RHPowerBase):
    """Field-by-field differences between two versions (or a version and the working copy: 'draft')."""

    template = "catalog/diff.html"

    def _side(self, value: str):
        if value == "draft":
            return _("当前工作稿"), ops.power_snapshot(self.power)
        try:
            version = queries.get_version(self.power.id, int(value))
        except (TypeError, ValueError):
            version = None
        if version is None:
            raise UserError(_("版本“%(value)s”不存在。", value=value))
        return _("第 %(n)s 版", n=version.number), version.data

    def _process_GET(self):
        versions = queries.versions_of(self.power.id)
        if not versions:
            raise UserError(_("该职权还没有发布过，没有可比较的版本。"))
        a = request.args.get("a") or str(versions[min(1, len(versions) - 1)].number)
        b = request.args.get("b") or str(versions[0].number)
        (a_label, a_data), (b_label, b_data) = self._side(a), self._side(b)
        return self._render(power=self.power, versions=versions, a=a, b=b, a_label=a_label, b_label=b_label,
                            rows=queries.diff_snapshots(a_data, b_data))


class RHCatalogOn(RHCatalogBase):
    """The catalog as it stood on a date, computed from the published versions."""

    template = "catalog/as_of.html"

    def _process_GET(self):
        text = request.args.get("date", "").strip()
        try:
            day = date.fromisoformat(text) if text else date.today()
        except ValueError:
            flash(_("日期“%(text)s”格式不正确，应为 YYYY-MM-DD；已显示今天的目录。", text=text), "warning")
            day = date.today()
        filters = queries.PowerFilters.from_args(request.args)
        page = queries.catalog_on(day, filters, self._visible())
        return self._render(page=page, day=day, filters=filters, categories=queries.reference_names("power_category"),
                            departments=department_choices(self._visible()))


class RHPowerImport(RHImport):
    importer_class = ops.PowerImporter
    done_endpoint = "catalog.powers"
    permission = "catalog.import"


class RHExportXlsx(RHCatalogBase):
    permission = "catalog.export"

    def _process_GET(self):
        filters = queries.PowerFilters.from_args(request.args)
        data = exports.powers_xlsx(filters, self._visible())
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": _attachment(f"powers-{date.today().isoformat()}.xlsx")})


class RHBooklet(RHCatalogBase):
    permission = "catalog.export"

    def _process_GET(self):
        filters = queries.PowerFilters.from_args(request.args)
        data = exports.booklet_pdf(filters, self._visible(), public_only=False)
        return Response(data, mimetype="application/pdf",
                        headers={"Content-Disposition": _attachment(f"catalog-{date.today().isoformat()}.pdf")})


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


add_route(bp, "/powers", RHPowers, "powers")
add_route(bp, "/powers/new", RHPowerForm, "power_create", ("GET", "POST"))
add_route(bp, "/powers/import", RHPowerImport, "power_import", ("GET", "POST"))
add_route(bp, "/powers/export.xlsx", RHExportXlsx, "export_xlsx")
add_route(bp, "/powers/booklet.pdf", RHBooklet, "booklet")
add_route(bp, "/as-of", RHCatalogOn, "as_of")
add_route(bp, "/powers/<int:power_id>", RHPowerDetail, "power")
add_route(bp, "/powers/<int:power_id>/edit", RHPowerForm, "power_edit", ("GET", "POST"))
add_route(bp, "/powers/<int:power_id>/transition", RHPowerTransition, "power_transition", ("POST",))
add_route(bp, "/powers/<int:power_id>/versions/<int:number>", RHPowerVersion, "power_version")
add_route(bp, "/powers/<int:power_id>/diff", RHPowerDiff, "power_diff")
