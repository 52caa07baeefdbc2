"""Forms for the flow editor (a table of steps and a table of edges), new flows, and imports."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from flask_wtf.i18n import translations
from wtforms import BooleanField, FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from govrisk.core.forms import VersionField
from govrisk.flows.models import DOCUMENT_MAX, KEY_MAX, LABEL_MAX, NAME_MAX, POST_MAX, FlowKind
from govrisk.flows.operations import MAX_EDGES, MAX_STEPS

ROLE_CHOICES = [("acceptance", _l("受理")), ("review", _l("审查")), ("decision", _l("决定")), ("execution", _l("执行")),
                ("supervision", _l("监督"))]
DOCUMENT_SPLIT = re.compile(r"[；;\n]+")
DAYS = NumberRange(min=0, max=3650, message=_l("时限须为 0–3650 个工作日"))


def split_documents(text: str) -> list[str]:
    """'受理通知书；补正告知书' → the two names."""
    return [part.strip() for part in DOCUMENT_SPLIT.split(text or "") if part.strip()]


class _Translated:
    """Rows are plain WTForms forms (no CSRF of their own); give them Flask-WTF's translated messages."""

    def get_translations(self, form):
        return translations


class StepRow(Form):
    Meta = _Translated
    key = StringField(_l("编号"), validators=[Optional(), Length(max=KEY_MAX)], filters=[lambda v: (v or "").strip()])
    name = StringField(_l("环节名称"), validators=[Optional(), Length(max=NAME_MAX)],
                       filters=[lambda v: (v or "").strip()])
    post_id = SelectField(_l("责任岗位"), coerce=int, validate_choice=False, default=0)
    post = StringField(_l("责任岗位"), validators=[Optional(), Length(max=POST_MAX)],
                       filters=[lambda v: (v or "").strip()])
    role = SelectField(_l("职责"), choices=ROLE_CHOICES, default="review")
    time_limit_days = IntegerField(_l("时限（工作日）"), validators=[Optional(), DAYS])
    documents = StringField(_l("文书"), validators=[Optional(), Length(max=2000)])

    @property
    def is_blank(self) -> bool:
        return not (self.key.data or self.name.data or self.post.data or self.post_id.data or self.documents.data)

    def validate_documents(self, field):
        if any(len(d) > DOCUMENT_MAX for d in split_documents(field.data)):
            raise ValidationError(_l("每个文书名称最多 %(n)s 个字符", n=DOCUMENT_MAX))


class EdgeRow(Form):
    Meta = _Translated
    source = StringField(_l("从"), validators=[Optional(), Length(max=KEY_MAX)], filters=[lambda v: (v or "").strip()])
    target = StringField(_l("到"), validators=[Optional(), Length(max=KEY_MAX)], filters=[lambda v: (v or "").strip()])
    label = StringField(_l("条件"), validators=[Optional(), Length(max=LABEL_MAX)],
                        filters=[lambda v: (v or "").strip()])
    loop = BooleanField(_l("退回"))

    @property
    def is_blank(self) -> bool:
        return not (self.source.data or self.target.data or self.label.data)


class FlowEditForm(FlaskForm):
    version = VersionField()
    time_limit_days = IntegerField(_l("流程时限（工作日）"), validators=[Optional(), DAYS])
    steps = FieldList(FormField(StepRow), min_entries=0, max_entries=MAX_STEPS)
    edges = FieldList(FormField(EdgeRow), min_entries=0, max_entries=MAX_EDGES)

    def set_posts(self, posts) -> None:
        """Internal flows choose the department's posts."""
        choices = [(0, "—")] + [(p.id, p.name) for p in posts]
        for entry in self.steps:
            entry.form.post_id.choices = choices

    def validate_steps(self, field):
        for entry in field:
            row = entry.form
            if row.is_blank:
                continue
            if not row.key.data:
                row.key.errors = [*row.key.errors, _l("请填写编号")]
            if not row.name.data:
                row.name.errors = [*row.name.errors, _l("请填写环节名称")]
        if any(entry.form.key.errors or entry.form.name.errors for entry in field):
            raise ValidationError(_l("请修正步骤表中标红的单元格"))

    def validate_edges(self, field):
        for entry in field:
            row = entry.form
            if row.is_blank:
                continue
            for cell in (row.source, row.target):
                if not cell.data:
                    cell.errors = [*cell.errors, _l("请填写步骤编号")]
        if any(entry.form.source.errors or entry.form.target.errors for entry in field):
            raise ValidationError(_l("请修正连线表中标红的单元格"))

    def document(self, power, kind: FlowKind, post_names: dict[int, str]) -> dict:
        """The filled rows as a §7.1 document dict (blank rows dropped)."""
        steps = []
        for entry in self.steps:
            row = entry.form
            if row.is_blank:
                continue
            post = post_names.get(row.post_id.data or 0) if kind is FlowKind.INTERNAL else row.post.data
            step = {"id": row.key.data, "name": row.name.data, "post": post or None, "role": row.role.data,
                    "time_limit_days": row.time_limit_days.data}
            documents = split_documents(row.documents.data)
            if documents:
                step["documents"] = documents
            steps.append(step)
        edges = [{"from": e.form.source.data, "to": e.form.target.data, "loop": bool(e.form.loop.data),
                  "label": e.form.label.data or ""} for e in self.edges if not e.form.is_blank]
        return {"power_code": power.code, "kind": kind.value, "time_limit_days": self.time_limit_days.data,
                "steps": steps, "edges": edges}


class NewFlowForm(FlaskForm):
    power_code = StringField(_l("职权编码"), validators=[DataRequired(message=_l("请填写职权编码")), Length(max=60)],
                             filters=[lambda v: (v or "").strip()])
    kind = SelectField(_l("流程图类型"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = FlowKind.choices()


class FlowImportForm(FlaskForm):
    file = FileField(_l("流程图文件（JSON 或 BPMN）"), validators=[FileRequired(message=_l("请选择文件"))])
    power_code = StringField(_l("职权编码（文件中没有时填写）"), validators=[Optional(), Length(max=60)],
                             filters=[lambda v: (v or "").strip()])
    kind = SelectField(_l("流程图类型（文件中没有时选择）"), choices=[], default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", "—")] + FlowKind.choices()
