"""Forms shared by every domain."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

VERSION_RE = re.compile(r"[0-9]{1,9}")


class VersionField(HiddenField):
    """The optimistic-locking version the form was loaded at: blank (a new record) or a whole number. Anything else
    is a tampered form, refused by validation before an operation compares it (`VersionedMixin.check_version`)."""

    def pre_validate(self, form):
        value = self.data.strip() if isinstance(self.data, str) else self.data
        if value not in (None, "") and not VERSION_RE.fullmatch(str(value)):
            raise ValidationError(_l("请求无效，请刷新页面后重试。"))


class ImportUploadForm(FlaskForm):
    file = FileField(_l("文件（CSV UTF-8 或 XLSX）"), validators=[FileRequired(message=_l("请选择文件"))])


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class TransitionForm(FlaskForm):
    """A workflow button: the transition name and an optional comment."""

    transition = HiddenField(validators=[DataRequired()])
    version = VersionField()
    comment = TextAreaField(_l("意见"), validators=[Optional(), Length(max=2000)])
