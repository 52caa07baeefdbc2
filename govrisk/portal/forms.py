"""Public feedback and tracking forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class FeedbackForm(FlaskForm):
    power_code = HiddenField()
    category = SelectField(_l("反馈类别"), choices=[], validate_choice=False,
                           validators=[DataRequired(message=_l("请选择反馈类别"))])
    department_id = SelectField(_l("涉及单位（可选）"), choices=[], coerce=int, validate_choice=False,
                                validators=[Optional()])
    text = TextAreaField(_l("反映内容"), validators=[DataRequired(message=_l("请填写反映内容")),
                                                 Length(min=5, max=2000, message=_l("内容应为 5–2000 个字"))])
    contact = StringField(_l("联系方式（可选，仅纪检监察机关可见）"),
                          validators=[Optional(), Length(max=100, message=_l("联系方式不能超过 100 个字"))])


class TrackForm(FlaskForm):
    class Meta:
        csrf = False  # a GET lookup

    code = StringField(_l("查询码"), validators=[DataRequired(message=_l("请输入查询码")), Length(max=40)])
