"""Navigation as data: each domain registers its menu entries with the permission that shows them."""

from dataclasses import dataclass

from govrisk.core.enums import current_language


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    zh: str
    en: str
    permission: str | tuple[str, ...]  # any one of them shows the entry
    icon: str = ""
    group: str = ""
    order: int = 100

    @property
    def title(self) -> str:
        return self.en if current_language() == "en" else self.zh


_ITEMS: list[NavItem] = []


def register_nav(item: NavItem) -> None:
    if all(i.endpoint != item.endpoint for i in _ITEMS):
        _ITEMS.append(item)


def nav_for(user) -> list[NavItem]:
    """The menu entries this user may use, in order."""
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted((i for i in _ITEMS if _may_see(user, i)), key=lambda i: (i.order, i.endpoint))


def _may_see(user, item: NavItem) -> bool:
    permissions = (item.permission,) if isinstance(item.permission, str) else item.permission
    return any(user.can(p) for p in permissions)
