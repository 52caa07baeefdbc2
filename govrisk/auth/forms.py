"""Forms for login, passwords, accounts, roles, policy and tokens."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp

from govrisk.core.forms import VersionField
from govrisk.core.permissions import Role


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请输入用户名")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请输入密码")), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(message=_l("请输入当前密码"))])
    password = PasswordField(_l("新密码"), validators=[DataRequired(message=_l("请输入新密码")), Length(max=128)])
    confirm = PasswordField(_l("确认新密码"), validators=[DataRequired(message=_l("请再次输入新密码")),
                                                 EqualTo("password", message=_l("两次输入的新密码不一致"))])


class UserCreateForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[
        DataRequired(message=_l("请输入用户名")), Length(min=3, max=64),
        Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("用户名只能包含字母、数字、下划线、点和连字符"))])
    display_name = StringField(_l("姓名"), validators=[DataRequired(message=_l("请输入姓名")), Length(max=120)])
    department_id = SelectField(_l("所属单位"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(message=_l("请输入初始密码")), Length(max=128)])


class UserEditForm(FlaskForm):
    version = VersionField()
    display_name = StringField(_l("姓名"), validators=[DataRequired(message=_l("请输入姓名")), Length(max=120)])
    department_id = SelectField(_l("所属单位"), coerce=int, validators=[Optional()])
    is_enabled = BooleanField(_l("启用"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("新的初始密码"), validators=[DataRequired(message=_l("请输入密码")), Length(max=128)])


class RoleGrantForm(FlaskForm):
    role = SelectField(_l("角色"), choices=[], validators=[DataRequired(message=_l("请选择角色"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = Role.choices()


class PolicyForm(FlaskForm):
    password_min_length = IntegerField(_l("密码最小长度"), validators=[DataRequired(), NumberRange(min=8, max=64)])
    password_min_classes = IntegerField(_l("至少包含的字符类别数"),
                                        validators=[DataRequired(), NumberRange(min=3, max=4)])
    lockout_threshold = IntegerField(_l("连续失败几次后锁定"), validators=[DataRequired(), NumberRange(min=3, max=10)])
    lockout_minutes = IntegerField(_l("锁定时长（分钟）"), validators=[DataRequired(), NumberRange(min=5, max=1440)])
    idle_timeout_minutes = IntegerField(_l("空闲超时（分钟）"),
                                        validators=[DataRequired(), NumberRange(min=5, max=120)])


class TokenForm(FlaskForm):
    name = StringField(_l("令牌名称（用途）"), validators=[DataRequired(message=_l("请填写用途")), Length(max=120)])
    scopes = SelectField(_l("权限范围"), choices=[("read", _l("只读")), ("read ingest", _l("只读 + 数据接入"))])
