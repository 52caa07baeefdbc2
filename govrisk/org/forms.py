"""Forms for departments, sections, posts, people, assignments and imports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from govrisk.core.forms import VersionField
from govrisk.org.models import DepartmentKind

CODE = Regexp(r"^[A-Za-z0-9_\-.]+$", message=_l("代码只能包含字母、数字、下划线、点和连字符"))


class DepartmentForm(FlaskForm):
    version = VersionField()
    code = StringField(_l("单位代码"), validators=[DataRequired(message=_l("请填写单位代码")), Length(max=40), CODE])
    name = StringField(_l("单位名称"), validators=[DataRequired(message=_l("请填写单位名称")), Length(max=200)])
    kind = SelectField(_l("单位类型"), choices=[])
    parent_id = SelectField(_l("上级单位"), coerce=int, validators=[Optional()])
    sort_order = IntegerField(_l("排序"), default=0, validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = DepartmentKind.choices()


class SectionForm(FlaskForm):
    version = VersionField()
    code = StringField(_l("科室代码"), validators=[DataRequired(message=_l("请填写科室代码")), Length(max=40), CODE])
    name = StringField(_l("科室名称"), validators=[DataRequired(message=_l("请填写科室名称")), Length(max=200)])


class PostForm(FlaskForm):
    version = VersionField()
    code = StringField(_l("岗位代码"), validators=[DataRequired(message=_l("请填写岗位代码")), Length(max=40), CODE])
    name = StringField(_l("岗位名称"), validators=[DataRequired(message=_l("请填写岗位名称")), Length(max=200)])
    section_id = SelectField(_l("所属科室"), coerce=int, validators=[Optional()])
    duties = TextAreaField(_l("岗位职责"), validators=[Optional(), Length(max=4000)])
    headcount = IntegerField(_l("编制数"), default=1, validators=[DataRequired(message=_l("请填写编制数")),
                                                              NumberRange(min=1, max=999)])
    is_key = BooleanField(_l("重点岗位（须定期轮岗）"))


class PersonForm(FlaskForm):
    version = VersionField()
    staff_no = StringField(_l("工号"), validators=[DataRequired(message=_l("请填写工号")), Length(max=40), CODE])
    name = StringField(_l("姓名"), validators=[DataRequired(message=_l("请填写姓名")), Length(max=80)])
    title = StringField(_l("职务"), validators=[Optional(), Length(max=120)])


class AssignmentForm(FlaskForm):
    post_id = SelectField(_l("岗位"), coerce=int, validators=[DataRequired(message=_l("请选择岗位"))])
    start_on = DateField(_l("任职开始"), validators=[DataRequired(message=_l("请填写开始日期"))])
    end_on = DateField(_l("任职结束"), validators=[Optional()])

    def validate_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError(_l("结束日期不能早于开始日期"))


class EndAssignmentForm(FlaskForm):
    end_on = DateField(_l("结束日期"), validators=[DataRequired(message=_l("请填写结束日期"))])
