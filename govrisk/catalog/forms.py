"""Forms for powers. Field checks that need the whole record (promised ≤ statutory, discretion ranges, reference
keys) live in `validation.normalize_power`; the view puts its messages under the matching inputs."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from govrisk.catalog.models import ResponsibilityStage
from govrisk.core.forms import VersionField

LEGAL_BASIS_ROWS, MATERIAL_ROWS, DUTY_ROWS, TIER_ROWS = 3, 3, 3, 4


class Required:
    """Marks a field as required in the page (the check itself is `normalize_power`'s, with its message)."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


class LegalBasisForm(Form):
    law = StringField(_l("法律法规名称"))
    article = StringField(_l("条款"))
    clause = TextAreaField(_l("条文内容"))


class MaterialForm(Form):
    name = StringField(_l("材料名称"))
    note = StringField(_l("说明"))


class ResponsibilityForm(Form):
    stage = SelectField(_l("阶段"), choices=[], validate_choice=False, validators=[Optional()])
    duty = TextAreaField(_l("责任内容"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage.choices = [("", "—")] + ResponsibilityStage.choices()


class DiscretionTierForm(Form):
    name = StringField(_l("档次"))
    conditions = TextAreaField(_l("适用情形"))
    measure = StringField(_l("处理措施"))
    min = StringField(_l("下限"))
    max = StringField(_l("上限"))
    unit = StringField(_l("单位"))


class PowerForm(FlaskForm):
    version = VersionField()
    code = StringField(_l("职权编码"))
    name = StringField(_l("职权名称"), validators=[Required()])
    sub_items = TextAreaField(_l("子项"))
    category = SelectField(_l("职权类别"), choices=[], validate_choice=False, validators=[Required()])
    source = SelectField(_l("职权依据类别"), choices=[], validate_choice=False, validators=[Optional()])
    level = SelectField(_l("行使层级"), choices=[], validate_choice=False, validators=[Optional()])
    department_id = SelectField(_l("责任单位"), choices=[], coerce=int, validate_choice=False, validators=[Required()])
    section_id = SelectField(_l("承办科室"), choices=[], coerce=int, validate_choice=False, validators=[Optional()])
    statutory_days = StringField(_l("法定时限（工作日）"))
    promised_days = StringField(_l("承诺时限（工作日）"))
    is_fee_charged = BooleanField(_l("收费"))
    fee_basis = TextAreaField(_l("收费依据"))
    fee_standard = TextAreaField(_l("收费标准"))
    place = StringField(_l("办理地点"))
    phone = StringField(_l("咨询电话"))
    supervision_channel = TextAreaField(_l("监督投诉渠道"))
    accountability = TextAreaField(_l("追责情形"))
    is_major_matter = BooleanField(_l("三重一大事项"))
    is_public = BooleanField(_l("对外公开（取消则为内部事项，不在门户显示）"), default=True)
    legal_bases = FieldList(FormField(LegalBasisForm), min_entries=LEGAL_BASIS_ROWS)
    materials = FieldList(FormField(MaterialForm), min_entries=MATERIAL_ROWS)
    responsibilities = FieldList(FormField(ResponsibilityForm), min_entries=DUTY_ROWS)
    discretion_tiers = FieldList(FormField(DiscretionTierForm), min_entries=TIER_ROWS)

    def raw_data(self) -> dict:
        """The submitted values as plain data for `validation.normalize_power`."""
        data = {name: getattr(self, name).data for name in (
            "version", "code", "name", "sub_items", "category", "source", "level", "department_id", "section_id",
            "statutory_days", "promised_days", "is_fee_charged", "fee_basis", "fee_standard", "place", "phone",
            "supervision_channel", "accountability", "is_major_matter", "is_public")}
        for name in ("legal_bases", "materials", "responsibilities", "discretion_tiers"):
            data[name] = [entry.form.data for entry in getattr(self, name)]
        return data

    def fields_by_name(self) -> dict:
        """Every input by its HTML name, nested rows included (legal_bases-0-law …)."""
        found = {}
        for f in self:
            if f.type == "FieldList":
                found[f.name] = f
                for entry in f:
                    for sub in entry.form:
                        found[sub.name] = sub
            else:
                found[f.name] = f
        return found

    def set_errors(self, errors: dict[str, list[str]]) -> list[str]:
        """Put each message under its input; returns the messages that have no input of their own."""
        fields = self.fields_by_name()
        general = []
        for key, messages in errors.items():
            target = fields.get(key)
            if target is None or target.type == "FieldList":
                general.extend(messages)
                if target is not None:
                    target.list_errors = [*getattr(target, "list_errors", []), *messages]
                continue
            target.errors = [*(target.errors if isinstance(target.errors, list) else []), *messages]
        return general

