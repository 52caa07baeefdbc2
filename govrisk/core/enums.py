"""Enums whose members carry a Chinese and an English title."""

from enum import StrEnum

from flask_babel import get_locale


def current_language() -> str:
    """'zh' or 'en', from the request's locale (Chinese outside a request)."""
    try:
        locale = get_locale()
    except RuntimeError:
        return "zh"
    return "en" if locale is not None and locale.language == "en" else "zh"


class TitledEnum(StrEnum):
    """A string enum whose members are declared as (value, 中文, English)."""

    def __new__(cls, value: str, zh: str = "", en: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh or value
        member.en = en or value
        return member

    @property
    def title(self) -> str:
        return self.en if current_language() == "en" else self.zh

    def __str__(self) -> str:
        return self.value

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, title) pairs for select fields."""
        return [(m.value, m.title) for m in cls]
