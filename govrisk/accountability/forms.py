"""Forms of findings, rectifications and accountability actions; checks needing the database are the operations'."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from govrisk.accountability.models import PersonRole
from govrisk.core.forms import VersionField


def _int_or_none(value):
    from govrisk.accountability.queries import parse_id

    return parse_id(value)


class FindingForm(FlaskForm):
    version = VersionField()
    cycle_id = HiddenField(filters=[_int_or_none])
    source = SelectField(_l("问题来源"), choices=[], validators=[DataRequired(message=_l("请选择问题来源"))])
    department_id = SelectField(_l("单位"), choices=[], coerce=_int_or_none,
                                validators=[DataRequired(message=_l("请选择单位"))])
    power_id = SelectField(_l("涉及职权"), choices=[], coerce=_int_or_none, validate_choice=False,
                           validators=[Optional()])
    risk_point_id = SelectField(_l("涉及风险点"), choices=[], coerce=_int_or_none, validate_choice=False,
                                validators=[Optional()])
    title = StringField(_l("问题"), validators=[DataRequired(message=_l("请填写问题标题")), Length(max=300)])
    description = TextAreaField(_l("问题描述"), validators=[Optional(), Length(max=8000)])
    found_on = DateField(_l("发现日期"), validators=[Optional()])
    person_ids = SelectMultipleField(_l("涉及人员"), choices=[], coerce=int, validate_choice=False)
    person_role = SelectField(_l("人员身份"), choices=[], default=PersonRole.RESPONSIBLE.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.person_role.choices = PersonRole.choices()


class FindingPersonForm(FlaskForm):
    person_id = SelectField(_l("人员"), choices=[], coerce=_int_or_none, validate_choice=False,
                            validators=[DataRequired(message=_l("请选择人员"))])
    role = SelectField(_l("身份"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = PersonRole.choices()


class RectificationForm(FlaskForm):
    requirement = TextAreaField(_l("整改要求"), validators=[DataRequired(message=_l("请写明整改要求")),
                                                         Length(max=8000)])
    due_on = DateField(_l("整改期限"), validators=[DataRequired(message=_l("请填写整改期限"))])
    responsible_id = SelectField(_l("整改责任人"), choices=[], coerce=_int_or_none, validate_choice=False,
                                 validators=[Optional()])


class RectificationProgressForm(FlaskForm):
    version = VersionField()
    requirement = TextAreaField(_l("整改要求"), validators=[Optional(), Length(max=8000)])
    due_on = DateField(_l("整改期限"), validators=[Optional()])
    plan = TextAreaField(_l("整改方案"), validators=[Optional(), Length(max=8000)])
    evidence = TextAreaField(_l("整改情况与佐证材料"), validators=[Optional(), Length(max=8000)])


class ActionForm(FlaskForm):
    version = VersionField()
    person_id = SelectField(_l("被追究人员"), choices=[], coerce=_int_or_none, validate_choice=False,
                            validators=[DataRequired(message=_l("请选择人员"))])
    finding_id = HiddenField(filters=[_int_or_none])
    action_type = SelectField(_l("追究方式"), choices=[], validators=[DataRequired(message=_l("请选择追究方式"))])
    facts = TextAreaField(_l("事实与理由"), validators=[Optional(), Length(max=8000)])
    basis = TextAreaField(_l("依据"), validators=[Optional(), Length(max=4000)])
    decision_no = StringField(_l("决定文号"), validators=[Optional(), Length(max=120)])
    decided_by = StringField(_l("决定机关"), validators=[Optional(), Length(max=200)])
    decided_on = DateField(_l("决定日期"), validators=[Optional()])
    start_on = DateField(_l("执行开始"), validators=[Optional()])
    end_on = DateField(_l("执行结束（处分期满）"), validators=[Optional()])
