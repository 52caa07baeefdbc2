"""Flow charts in the JSON API (DESIGN §7.1: import and export in the UI and the API).

`GET /api/v1/flows/<power code>`: anonymous callers (and `view=public`) get the published external flow of a public
power only; a signed-in user or API token gets every chart of a power their department scope covers (the version
being worked on, else the published one), each as a §7.1 document with its findings. Add `format=bpmn` and
`kind=…` for one chart as BPMN 2.0 XML.
`POST /api/v1/flows`: a §7.1 document (JSON) or BPMN 2.0 (XML body) attached to its power, as `govrisk flows import`:
`{"action": "create" | "update" | "unchanged", "flow": …}`; a refused document is a 400 listing the findings. Token
calls need the token's `ingest` scope; session calls need the CSRF token.
"""

from flask import Response, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.api.views import RHApi, api_blueprint
from govrisk.catalog.queries import get_power_by_code
from govrisk.core.errors import Forbidden, NotFound, UserError
from govrisk.core.views import add_route
from govrisk.flows import operations as ops
from govrisk.flows import queries
from govrisk.flows.bpmn import flow_to_bpmn
from govrisk.flows.models import FlowKind

bp = api_blueprint("flows_api", __name__, "/api/v1/flows")


def flow_json(flow, *, public: bool) -> dict:
    """One chart: its version, state and §7.1 document; inside, also the findings as of now."""
    out = {"kind": flow.kind.value, "number": flow.number, "state": {"key": flow.state.value, "name": flow.state.zh},
           "document": queries.flow_doc(flow).to_dict()}
    if not public:
        out["report"] = queries.flow_report(flow).to_dict()
        out["updated_at"] = flow.updated_at.isoformat()
    return out


class RHPowerFlows(RHApi):
    def _load(self, code):
        power = get_power_by_code(code)
        self.public = request.args.get("view", "") == "public" or not self._internal_view() or \
            power is None or not power.can_view(current_user)
        if self.public:
            flow = queries.public_flow(power) if power is not None and power.is_on_portal else None
            self.flows = [flow] if flow is not None else []
        else:
            kinds = [FlowKind.INTERNAL, FlowKind.EXTERNAL]
            self.flows = [f for f in (queries.open_flow(power.id, k) or queries.published_flow(power.id, k)
                                      for k in kinds) if f is not None]
        kind = request.args.get("kind", "")
        self.flows = [f for f in self.flows if not kind or f.kind.value == kind]
        if power is None or (self.public and not self.flows):
            raise NotFound(_("职权“%(code)s”不存在，或没有公开的流程图。", code=code))
        self.power = power

    def _process_GET(self):
        if request.args.get("format") == "bpmn":
            if len(self.flows) != 1:
                raise UserError(_("导出 BPMN 时请用 kind=internal 或 kind=external 指定一张流程图。"), field="kind")
            return Response(flow_to_bpmn(queries.flow_doc(self.flows[0])), mimetype="application/xml")
        return jsonify({"view": "public" if self.public else "internal", "power_code": self.power.code,
                        "flows": [flow_json(f, public=self.public) for f in self.flows]})


class RHFlowImport(RHApi):
    login_required = True

    def _check_access(self):
        token = g.get("api_token")
        if token is not None and "ingest" not in (token.scopes or "").split():
            raise Forbidden(_("该 API 令牌没有数据接入（ingest）权限。"))
        if not current_user.can("register.edit"):
            raise Forbidden(_("只有单位填报员可以导入流程图。"))

    def _process_POST(self):
        data = request.get_data(cache=False)
        if len(data) > 5 * 1024 * 1024:
            raise UserError(_("文档过大（上限 5 MB）。"))
        is_xml = "xml" in (request.mimetype or "")
        flow, action = ops.import_flow(data, "upload.bpmn" if is_xml else "upload.json", actor=current_user)
        return jsonify({"action": action, "power_code": flow.power.code, "flow": flow_json(flow, public=False)}), \
            201 if action == "create" else 200


add_route(bp, "", RHFlowImport, "import_flow", ("POST",))
add_route(bp, "/<code>", RHPowerFlows, "power_flows")
