"""Downloads of the annual assessment report (PDF) and of the score workbook (XLSX)."""

from io import BytesIO

from flask import Blueprint, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from govrisk.core.errors import Forbidden, NotFound
from govrisk.core.views import RH, add_route
from govrisk.org.queries import get_department_by_code
from govrisk.reports.annual import annual_report_pdf, scores_xlsx
from govrisk.review import queries
from govrisk.review.workflow import CycleState

bp = Blueprint("reports", __name__, url_prefix="/reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESULTS_PUBLIC = (CycleState.PUBLISHED, CycleState.CLOSED)


class RHAnnualBase(RH):
    """A year's cycle with a frozen snapshot; ?department=CODE narrows to one participant."""

    permission = "business.read"

    def _load(self, year):
        self.cycle = queries.cycle_for_year(year)
        if self.cycle is None:
            raise NotFound(_("%(year)s 年度没有考核周期。", year=year))
        if not self.cycle.has_snapshot:
            raise NotFound(_("%(year)s 年度考核尚未启动单位自查，登记快照未冻结，还没有报告。", year=year))
        code = (request.args.get("department") or "").strip()
        self.participant = None
        if code:
            department = get_department_by_code(code)
            self.participant = queries.get_cycle_department(self.cycle, department.id) if department else None
            if self.participant is None:
                raise NotFound(_("单位“%(code)s”未参加 %(year)s 年度考核。", code=code, year=year))

    def _check_access(self):
        super()._check_access()
        if self.participant is not None:
            if not current_user.can_see_department(self.participant.department_id):
                raise Forbidden(_("您只能下载本单位的考核报告。"))
        elif not (current_user.can("inspect.all") or self.cycle.state in RESULTS_PUBLIC):
            raise Forbidden(_("考核结果公布前，全市报告只有纪检监察员可以下载。"))


class RHAnnualPdf(RHAnnualBase):
    def _process_GET(self):
        data = annual_report_pdf(self.cycle, self.participant)
        who = self.participant.department.code if self.participant else "city"
        return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"annual-report-{self.cycle.year}-{who}.pdf")


class RHAnnualXlsx(RHAnnualBase):
    def _check_access(self):
        super()._check_access()
        if not (current_user.can("inspect.all") or self.cycle.state in RESULTS_PUBLIC):
            raise Forbidden(_("考核结果公布前，得分表只有纪检监察员可以下载。"))

    def _process_GET(self):
        return send_file(BytesIO(scores_xlsx(self.cycle)), mimetype=XLSX, as_attachment=True,
                         download_name=f"annual-scores-{self.cycle.year}.xlsx")


add_route(bp, "/annual/<int:year>.pdf", RHAnnualPdf, "annual_pdf")
add_route(bp, "/annual/<int:year>/scores.xlsx", RHAnnualXlsx, "annual_xlsx")
