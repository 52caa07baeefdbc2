"""Forms shared by every domain."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ImportUploadForm(FlaskForm):
    file = FileField(_l("文件（CSV UTF-8 或 XLSX）"), validators=[FileRequired(message=_l("请选择文件"))])


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class TransitionForm(FlaskForm):
    """A workflow button: the transition name and an optional comment."""

    transition = HiddenField(validators=[DataRequired()])
    version = HiddenField()
    comment = TextAreaField(_l("意见"), validators=[Optional(), Length(max=2000)])
