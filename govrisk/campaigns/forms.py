"""Forms for reporting units, campaigns, unit reports, figure confirmation and education sessions."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from govrisk.campaigns import queries
from govrisk.campaigns.models import CUSTOM, CampaignKind, UnitKind, Venue
from govrisk.campaigns.operations import MAX_NARRATIVE, parse_value
from govrisk.core.errors import UserError
from govrisk.core.forms import VersionField

CODE = Regexp(r"^[A-Za-z0-9_\-.]+$", message=_l("代码只能包含字母、数字、下划线、点和连字符"))


def _indicator_choices() -> list[tuple[str, str]]:
    return queries.indicator_choices() + [(CUSTOM, _("自定义指标…"))]


class UnitForm(FlaskForm):
    version = VersionField()
    code = StringField(_l("单位代码"), validators=[DataRequired(message=_l("请填写单位代码")), Length(max=40), CODE])
    name = StringField(_l("单位名称"), validators=[DataRequired(message=_l("请填写单位名称")), Length(max=200)])
    kind = SelectField(_l("单位类型"), choices=[])
    parent_id = SelectField(_l("上级单位（向其报送）"), coerce=int, validators=[Optional()])
    department_id = SelectField(_l("对应的组织机构（可选）"), coerce=int, validators=[Optional()])
    sort_order = IntegerField(_l("排序"), default=0, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = UnitKind.choices()


class MemberForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请填写用户名")), Length(max=64)])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CampaignForm(FlaskForm):
    version = VersionField()
    code = StringField(_l("活动代码"), validators=[DataRequired(message=_l("请填写活动代码")), Length(max=40), CODE])
    name = StringField(_l("活动名称"), validators=[DataRequired(message=_l("请填写活动名称")), Length(max=200)])
    theme = StringField(_l("活动主题"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("活动类型"), choices=[])
    year = IntegerField(_l("年度"), validators=[InputRequired(message=_l("请填写年度")),
                                              NumberRange(min=2000, max=2100, message=_l("年度应在 2000–2100 之间"))])
    start_on = DateField(_l("开始日期"), validators=[DataRequired(message=_l("请填写开始日期"))])
    end_on = DateField(_l("结束日期"), validators=[DataRequired(message=_l("请填写结束日期"))])
    central_day_on = DateField(_l("集中宣传日"), validators=[Optional()])
    report_due_on = DateField(_l("报送截止日期"), validators=[Optional()])
    issuing_body = StringField(_l("发文单位"), validators=[Optional(), Length(max=200)])
    plan_doc_no = StringField(_l("方案文号"), validators=[Optional(), Length(max=100)])
    target_groups = StringField(_l("宣传对象"), validators=[Optional(), Length(max=500)])
    venues = MultiCheckboxField(_l("宣传阵地（五进）"), choices=[], validators=[Optional()])
    description = TextAreaField(_l("活动说明"), validators=[Optional(), Length(max=10000)])
    root_unit_id = SelectField(_l("牵头单位（其下属单位参加）"), coerce=int,
                               validators=[DataRequired(message=_l("请选择牵头单位"))])
    previous_id = SelectField(_l("上年同类活动（用于同比）"), coerce=int, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = CampaignKind.choices()
        self.venues.choices = Venue.choices()


class ReportTextsForm(FlaskForm):
    version = VersionField()
    leadership = TextAreaField(_l("一、组织领导"), validators=[Optional(), Length(max=20000)])
    problems = TextAreaField(_l("四、存在问题及下一步"), validators=[Optional(), Length(max=20000)])


class ActivityForm(FlaskForm):
    held_on = DateField(_l("活动日期"), validators=[Optional()])
    activity_type = SelectField(_l("活动形式"), validators=[DataRequired(message=_l("请选择活动形式"))])
    venue = StringField(_l("地点"), validators=[Optional(), Length(max=200)])
    audience = StringField(_l("宣传对象"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("活动内容"), validators=[DataRequired(message=_l("请填写活动内容")),
                                                         Length(max=4000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.activity_type.choices = queries.activity_type_choices()


class _ValueFields:
    """The checks shared by a hand-entered figure and a confirmed one."""

    def _checked(self) -> bool:
        return True

    def validate_value(self, field):
        if self._checked():
            try:
                parse_value(field.data)
            except UserError as exc:
                raise ValidationError(exc.message) from None

    def validate_label(self, field):
        if self._checked() and self.indicator.data == CUSTOM and not (field.data or "").strip():
            raise ValidationError(_l("自定义指标须填写指标名称"))


class ValueForm(_ValueFields, FlaskForm):
    indicator = SelectField(_l("指标"), validators=[DataRequired(message=_l("请选择指标"))])
    label = StringField(_l("指标名称（自定义指标）"), validators=[Length(max=100)])
    value = StringField(_l("数值"))
    unit = StringField(_l("计量单位"), validators=[Optional(), Length(max=20)])
    is_approx = BooleanField(_l("约数（“余/多/近/约”，按下限计）"))
    is_total = BooleanField(_l("合计数（已包含同一指标的其他分项）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator.choices = _indicator_choices()


class ExtractionSourceForm(FlaskForm):
    narrative = TextAreaField(_l("总结文字"), validators=[Optional(), Length(max=MAX_NARRATIVE)])
    file = FileField(_l("或上传文件（.txt UTF-8 或 .docx）"))


class MentionRowForm(_ValueFields, Form):
    keep = BooleanField(_l("保留"))
    indicator = SelectField(_l("指标"))
    label = StringField(_l("指标名称"), validators=[Length(max=100)])
    value = StringField(_l("数值"))
    unit = StringField(_l("单位"), validators=[Optional(), Length(max=20)])
    is_approx = BooleanField(_l("约数"))
    is_total = BooleanField(_l("合计"))
    phrase = HiddenField()
    start = IntegerField(widget=widgets.HiddenInput(), validators=[Optional()])
    end = IntegerField(widget=widgets.HiddenInput(), validators=[Optional()])

    def _checked(self) -> bool:
        return bool(self.keep.data)

    def validate_indicator(self, field):
        if self.keep.data and field.data not in dict(field.choices):
            raise ValidationError(_l("请选择指标"))


class ExtractionConfirmForm(FlaskForm):
    narrative = TextAreaField(validators=[DataRequired(message=_l("总结文字为空")), Length(max=MAX_NARRATIVE)])
    rows = FieldList(FormField(MentionRowForm), max_entries=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _indicator_choices()
        for entry in self.rows:
            entry.form.indicator.choices = choices


class EducationForm(FlaskForm):
    version = VersionField()
    department_id = SelectField(_l("单位"), coerce=int, validators=[DataRequired(message=_l("请选择单位"))])
    held_on = DateField(_l("日期"), validators=[DataRequired(message=_l("请填写日期"))])
    topic = StringField(_l("主题"), validators=[DataRequired(message=_l("请填写教育主题")), Length(max=200)])
    form = SelectField(_l("教育形式"), validators=[DataRequired(message=_l("请选择教育形式"))])
    attendance = IntegerField(_l("参加人数"), validators=[
        InputRequired(message=_l("请填写参加人数")),
        NumberRange(min=0, max=100000, message=_l("参加人数应为 0 或正整数"))])
    speaker = StringField(_l("主讲人"), validators=[Optional(), Length(max=120)])
    notes = TextAreaField(_l("内容摘要"), validators=[Optional(), Length(max=4000)])
    campaign_id = SelectField(_l("所属教育活动（可选）"), coerce=int, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.choices = queries.education_form_choices()
