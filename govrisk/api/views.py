"""The JSON API, version 1.

Authentication: anonymous, the browser session, or `Authorization: Bearer <token>` (API tokens are created per
user on the token page, revocable, stored hashed). A token call acts as the token's user, whatever cookie comes
with it. CSRF: token calls are exempt (a cross-site page cannot set the header); session calls that change
something still need the CSRF token. Errors are `{"error": {"message", "status", …}}` with a 4xx status.

`GET /api/v1/powers` and `GET /api/v1/powers/<code>`: anonymous callers (and anyone asking `view=public`) see the
published catalog — current published versions of public powers; a signed-in user or token sees the working
copies of the departments that user may see (the same list as the catalog page, same filters and pagination).
"""

from datetime import timedelta

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.auth.queries import user_for_token
from govrisk.catalog import queries as catalog_queries
from govrisk.catalog.models import ResponsibilityStage
from govrisk.catalog.operations import power_snapshot
from govrisk.core.errors import NotFound, UserError
from govrisk.core.types import utcnow
from govrisk.core.views import RH, add_route, json_error
from govrisk.extensions import csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _authenticate():
    """Bearer tokens first; an unusable token is refused rather than silently treated as anonymous."""
    g.api_token = None
    header = request.headers.get("Authorization", "").strip()
    if header:
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return json_error(_("Authorization 请求头应为“Bearer 令牌”。"), 401)
        user, token = user_for_token(raw.strip())
        if user is None:
            return json_error(_("API 令牌无效、已撤销或其账号已停用。"), 401)
        g._login_user = user  # Flask-Login's per-request user: the token's owner, never the cookie's
        g.api_token = token
        if token.last_used_at is None or utcnow() - token.last_used_at > timedelta(minutes=10):
            token.last_used_at = utcnow()  # committed with the request (at most every ten minutes)
    if request.method not in SAFE_METHODS and g.api_token is None:
        csrf.protect()  # a session (cookie) call that writes must carry the CSRF token
    return None


def api_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint for JSON endpoints: token authentication, and CSRF exempt for token calls only."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
    csrf.exempt(blueprint)
    blueprint.before_request(_authenticate)
    return blueprint


bp = api_blueprint("api", __name__, "/api/v1")


class RHApi(RH):
    login_required = False

    def _internal_view(self) -> bool:
        """Working copies for users with business access, unless they ask for the public view."""
        return request.args.get("view", "") != "public" and current_user.is_authenticated and \
            current_user.can("business.read")


def _int_param(name: str, default: int, maximum: int | None = None) -> int:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise UserError(_("参数 %(name)s 应为正整数。", name=name), field=name)
    return min(int(text), maximum) if maximum else int(text)


def _ref(kind: str, key: str) -> dict | None:
    if not key:
        return None
    return {"key": key, "name": catalog_queries.reference_names(kind).get(key, key)}


def power_json(data: dict) -> dict:
    """The public representation of a power snapshot (no internal ids)."""
    return {
        "code": data["code"], "name": data["name"], "sub_items": data["sub_items"],
        "category": {"key": data["category"], "name": data["category_name"]},
        "source": {"key": data["source"], "name": data["source_name"]} if data["source"] else None,
        "level": {"key": data["level"], "name": data["level_name"]} if data["level"] else None,
        "department": {"code": data["department_code"], "name": data["department_name"]},
        "section": data["section_name"] or None,
        "legal_bases": data["legal_bases"],
        "statutory_days": data["statutory_days"], "promised_days": data["promised_days"],
        "materials": data["materials"],
        "fees": {"charged": data["is_fee_charged"], "basis": data["fee_basis"], "standard": data["fee_standard"]},
        "place": data["place"], "phone": data["phone"], "supervision_channel": data["supervision_channel"],
        "responsibilities": [{**r, "stage_name": ResponsibilityStage(r["stage"]).zh} for r in data["responsibilities"]],
        "accountability": data["accountability"],
        "discretion_tiers": data["discretion_tiers"],
        "is_major_matter": data["is_major_matter"], "is_public": data["is_public"],
    }


class RHPowers(RHApi):
    def _process_GET(self):
        filters = catalog_queries.PowerFilters.from_args(request.args)
        if filters.errors:
            raise UserError(_("%(problems)s。", problems=_("；").join(filters.errors)))
        if filters.category and filters.category not in catalog_queries.reference_names("power_category"):
            raise UserError(_("未知的职权类别“%(value)s”。", value=filters.category), field="category")
        page_no, per_page = _int_param("page", 1), _int_param("per_page", 20, 200)
        internal = self._internal_view()
        if internal:
            visible = current_user.visible_department_ids()
            total = catalog_queries.counts(filters, visible).total
            page = catalog_queries.search_powers(filters, visible, page=page_no, per_page=per_page, total=total)
            items = [_working_item(p) for p in page.items]
        else:
            total = catalog_queries.counts(filters, None, published=True).total
            page = catalog_queries.search_published(filters, page=page_no, per_page=per_page, total=total)
            items = [_published_item(v) for v in page.items]
        return jsonify({"view": "catalog" if internal else "public", "items": items, "total": page.total,
                        "page": page.page, "per_page": page.per_page, "pages": page.pages})


def _published_item(version) -> dict:
    data = version.data
    return {"code": version.code, "name": version.name,
            "department": {"code": data["department_code"], "name": data["department_name"]},
            "category": {"key": version.category, "name": data["category_name"]},
            "statutory_days": data["statutory_days"], "promised_days": data["promised_days"],
            "is_major_matter": version.is_major_matter, "version": version.number,
            "published_at": version.published_at.isoformat(),
            "url": url_for("api.power", code=version.code, _external=False)}


def _working_item(power) -> dict:
    return {"code": power.code, "name": power.name,
            "department": {"code": power.department.code, "name": power.department.name},
            "category": _ref("power_category", power.category),
            "state": {"key": power.state.value, "name": power.state.zh},
            "statutory_days": power.statutory_days, "promised_days": power.promised_days,
            "is_major_matter": power.is_major_matter, "is_public": power.is_public,
            "published_version": power.published_number, "updated_at": power.updated_at.isoformat(),
            "url": url_for("api.power", code=power.code, _external=False)}


class RHPower(RHApi):
    def _process_GET(self):
        code = request.view_args["code"]
        if self._internal_view():
            power = catalog_queries.get_power_by_code(code)
            if power is not None and power.can_view(current_user):
                current = catalog_queries.current_version(power.id)
                return jsonify({"view": "catalog", "power": {
                    **power_json(power_snapshot(power)), "state": {"key": power.state.value, "name": power.state.zh},
                    "published_version": power.published_number, "updated_at": power.updated_at.isoformat()},
                    "published": power_json(current.data) if current is not None else None})
        version = catalog_queries.public_version(code)
        if version is None:
            raise NotFound(_("职权“%(code)s”不存在或未公开。", code=code))
        return jsonify({"view": "public", "power": {**power_json(version.data), "version": version.number,
                                                    "published_at": version.published_at.isoformat()}})


add_route(bp, "/powers", RHPowers, "powers")
add_route(bp, "/powers/<code>", RHPower, "power")
