"""Forms of the annual review. Checks that need the database are the operations'; views put their messages under
the matching inputs."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from govrisk.core.forms import VersionField

SCORE_RANGE = NumberRange(min=0, max=100, message=_l("请输入 0 到 100 之间的数"))


class CycleForm(FlaskForm):
    version = VersionField()
    year = IntegerField(_l("年度"), validators=[
        InputRequired(message=_l("请填写年度")),
        NumberRange(min=2000, max=2100, message=_l("年度必须在 2000 到 2100 之间"))])
    title = StringField(_l("名称"), validators=[Optional(), Length(max=200)])
    self_check_due_on = DateField(_l("自查截止日期"), validators=[Optional()])
    inspection_due_on = DateField(_l("年度检查截止日期"), validators=[Optional()])
    note = TextAreaField(_l("说明"), validators=[Optional(), Length(max=4000)])
    # rendered as a list of checkboxes by the template
    department_ids = SelectMultipleField(_l("参加考核的单位（含下属单位）"), coerce=int, choices=[])


class ChecklistItemForm(FlaskForm):
    version = VersionField()
    section = StringField(_l("类别"), validators=[Optional(), Length(max=120)])
    text = TextAreaField(_l("自查内容"), validators=[DataRequired(message=_l("请填写自查内容")), Length(max=2000)])


class IndicatorForm(FlaskForm):
    version = VersionField()
    key = StringField(_l("指标代码"), validators=[Optional(), Length(max=60)])
    name = StringField(_l("指标名称"), validators=[DataRequired(message=_l("请填写指标名称")), Length(max=200)])
    method = SelectField(_l("计算方法"), choices=[])
    weight = FloatField(_l("权重"), validators=[InputRequired(message=_l("请填写权重")), SCORE_RANGE])
    description = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    params_json = StringField(_l("参数（JSON）"), default="{}", validators=[Optional(), Length(max=500)])
    is_active = BooleanField(_l("启用"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from govrisk.review.indicators import method_choices

        self.method.choices = method_choices()


class ThresholdForm(FlaskForm):
    version = VersionField()
    good = FloatField(_l("“好”的最低分"), validators=[InputRequired(message=_l("请填写分数线")), SCORE_RANGE])
    fairly_good = FloatField(_l("“较好”的最低分"), validators=[InputRequired(message=_l("请填写分数线")), SCORE_RANGE])
    average = FloatField(_l("“一般”的最低分"), validators=[InputRequired(message=_l("请填写分数线")), SCORE_RANGE])


class SelfCheckForm(FlaskForm):
    """The answers come as result_<item id> / note_<item id> fields, read by the view."""

    version = VersionField()
    summary = TextAreaField(_l("自查总结"), validators=[Optional(), Length(max=8000)])


class InspectionNoteForm(FlaskForm):
    inspected_on = DateField(_l("检查日期"), default=date.today,
                             validators=[DataRequired(message=_l("请填写检查日期"))])
    text = TextAreaField(_l("检查情况"), validators=[DataRequired(message=_l("请填写检查情况")), Length(max=8000)])


class AppraisalForm(FlaskForm):
    version = VersionField()
    appraisal_score = FloatField(_l("社会评议得分"), validators=[InputRequired(message=_l("请填写得分")), SCORE_RANGE])
    appraisal_respondents = IntegerField(_l("参评人数"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    appraisal_note = StringField(_l("说明"), validators=[Optional(), Length(max=500)])


class AdjustForm(FlaskForm):
    version = VersionField()
    value = FloatField(_l("调整后得分"), validators=[InputRequired(message=_l("请填写调整后得分")), SCORE_RANGE])
    reason = TextAreaField(_l("调整理由"), validators=[Optional(), Length(max=2000)])


class CommendForm(FlaskForm):
    commended = BooleanField(_l("建议表彰"))
    note = StringField(_l("表彰说明"), validators=[Optional(), Length(max=500)])
