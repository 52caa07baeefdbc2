"""Forms of electronic supervision (filters are plain GET parameters, read in queries)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired


class EventUploadForm(FlaskForm):
    file = FileField(_l("办件过程数据文件（CSV UTF-8、JSON 或 XLSX）"),
                     validators=[FileRequired(message=_l("请选择文件"))])


class ConfirmUploadForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
