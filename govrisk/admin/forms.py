"""Forms for reference data and the calendar."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class ReferenceItemForm(FlaskForm):
    key = StringField(_l("键"), validators=[DataRequired(message=_l("请填写键")), Length(max=60),
                                           Regexp(r"^[A-Za-z0-9_\-.]+$", message=_l("键只能包含字母、数字、下划线"))])
    name_zh = StringField(_l("中文名称"), validators=[DataRequired(message=_l("请填写中文名称")), Length(max=120)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    sort_order = IntegerField(_l("排序"), default=0, validators=[Optional()])
    is_active = BooleanField(_l("启用"), default=True)


class CalendarDayForm(FlaskForm):
    day = DateField(_l("日期"), validators=[DataRequired(message=_l("请选择日期"))])
    kind = SelectField(_l("类型"), choices=[("holiday", _l("节假日（休息）")), ("workday", _l("调休上班"))])
    name = StringField(_l("名称"), validators=[Optional(), Length(max=80)])
