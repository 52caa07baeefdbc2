"""Forms of the risk register. Checks that need the database (a step of the power, a post of its department …) are
`operations.check_risk_data`'s; the view puts its messages under the matching inputs."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from govrisk.core.forms import VersionField
from govrisk.risks.models import Discretion, RiskLevel

SCORE_HELP = {1: _l("1 很低"), 2: _l("2 较低"), 3: _l("3 中等"), 4: _l("4 较高"), 5: _l("5 很高")}


class Required:
    """Marks a field as required in the page (the check itself is the operation's, with its message)."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _score_choices():
    return [("", "—")] + [(str(k), str(v)) for k, v in SCORE_HELP.items()]


class RiskPointForm(FlaskForm):
    version = VersionField()
    power_id = SelectField(_l("职权"), choices=[], validate_choice=False, validators=[Required()])
    step_id = SelectField(_l("环节"), choices=[], validate_choice=False, validators=[Optional()])
    post_id = SelectField(_l("岗位"), choices=[], validate_choice=False, validators=[Optional()])
    name = StringField(_l("风险点"), validators=[Required()])
    manifestation = TextAreaField(_l("表现形式"))
    risk_type = SelectField(_l("风险类型"), choices=[], validate_choice=False, validators=[Required()])
    methods = MultiCheckboxField(_l("排查方法"), choices=[], validate_choice=False)
    likelihood = SelectField(_l("发生几率"), choices=[], validate_choice=False, validators=[Required()])
    severity = SelectField(_l("危害程度"), choices=[], validate_choice=False, validators=[Required()])
    discretion = SelectField(_l("自由裁量空间"), choices=[], validate_choice=False, validators=[Required()])
    proposed_level = SelectField(_l("拟定等级"), choices=[], validate_choice=False, validators=[Required()])
    proposal_note = TextAreaField(_l("定级说明"))
    responsible_id = SelectField(_l("责任人"), choices=[], validate_choice=False, validators=[Optional()])
    supervisor_id = SelectField(_l("监督人"), choices=[], validate_choice=False, validators=[Optional()])
    indicator = TextAreaField(_l("监控指标"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.likelihood.choices = _score_choices()
        self.severity.choices = _score_choices()
        self.discretion.choices = [("", "—")] + Discretion.choices()
        self.proposed_level.choices = [("", "—")] + [(str(v), t) for v, t in RiskLevel.choices()]


def set_field_errors(form: FlaskForm, errors: dict[str, list[str]]) -> list[str]:
    """Put each message under its field; returns the messages no field of the form shows."""
    general = []
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is None or not hasattr(field, "errors"):
            general += messages
        else:
            field.errors = [*(field.errors if isinstance(field.errors, list) else []), *messages]
    return general


class ConfirmForm(FlaskForm):
    version = VersionField()
    level = SelectField(_l("确认等级"), choices=[], validate_choice=False, validators=[Required()])
    reason = TextAreaField(_l("理由（与拟定等级不同时必填）"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = [(str(v), t) for v, t in RiskLevel.choices()]


class BulkConfirmForm(FlaskForm):
    level = SelectField(_l("确认为"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("确认意见"), validators=[DataRequired(message=_l("批量确认须填写一条确认意见")),
                                                    Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = [("proposed", _l("按单位拟定等级"))] + [(str(v), t) for v, t in RiskLevel.choices()]


class ResidualForm(FlaskForm):
    version = VersionField()
    residual_level = SelectField(_l("剩余风险等级"), choices=[], validate_choice=False, validators=[Required()])
    measure_ids = MultiCheckboxField(_l("依据的措施（已验证有效）"), choices=[], validate_choice=False)
    residual_reason = TextAreaField(_l("评定理由"), validators=[Required(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.residual_level.choices = [(str(v), t) for v, t in RiskLevel.choices()]


class MeasureForm(FlaskForm):
    version = VersionField()
    measure_type = SelectField(_l("措施类型"), choices=[], validate_choice=False, validators=[Required()])
    description = TextAreaField(_l("措施内容"), validators=[Required()])
    owner_id = SelectField(_l("负责人"), choices=[], validate_choice=False, validators=[Optional()])
    due_on = DateField(_l("完成期限"), validators=[Optional()])
    evidence = TextAreaField(_l("落实情况（佐证说明）"), validators=[Optional()])


class AttachmentForm(FlaskForm):
    file = FileField(_l("佐证材料（PDF、Office/WPS 文档、图片）"), validators=[FileRequired(message=_l("请选择文件"))])


class MethodForm(FlaskForm):
    name = StringField(_l("方法名称"), validators=[DataRequired(message=_l("请填写方法名称")), Length(max=120)])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    rules = TextAreaField(_l("评定规则（JSON）"), validators=[DataRequired(message=_l("请填写评定规则"))])


class RotationForm(FlaskForm):
    years = IntegerField(_l("同一重点岗位任职满（年）应轮岗"),
                         validators=[InputRequired(message=_l("请填写年限")), NumberRange(min=1, max=20)])
    warn_months = IntegerField(_l("提前提醒（月）"),
                               validators=[InputRequired(message=_l("请填写月数")), NumberRange(min=1, max=24)])
