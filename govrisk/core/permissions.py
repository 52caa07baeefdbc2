"""The one permission registry: permission name → roles that hold it. Every access check asks here."""

from dataclasses import dataclass

from govrisk.core.enums import TitledEnum, current_language


class Role(TitledEnum):
    DEPT_EDITOR = ("dept_editor", "单位填报员", "Department editor")
    DEPT_HEAD = ("dept_head", "单位负责人", "Department head")
    INSPECTOR = ("inspector", "纪检监察员", "Discipline inspector")
    SYS_ADMIN = ("sys_admin", "系统管理员", "System administrator")
    SEC_ADMIN = ("sec_admin", "安全管理员", "Security administrator")
    AUDIT_ADMIN = ("audit_admin", "审计管理员", "Audit administrator")


ADMIN_ROLES = frozenset({Role.SYS_ADMIN, Role.SEC_ADMIN, Role.AUDIT_ADMIN})
DEPARTMENT_ROLES = frozenset({Role.DEPT_EDITOR, Role.DEPT_HEAD})
BUSINESS_ROLES = frozenset({Role.DEPT_EDITOR, Role.DEPT_HEAD, Role.INSPECTOR})


@dataclass(frozen=True)
class Permission:
    name: str
    roles: frozenset
    zh: str
    en: str

    @property
    def title(self) -> str:
        return self.en if current_language() == "en" else self.zh


_REGISTRY: dict[str, Permission] = {}


def register_permission(name: str, roles, zh: str, en: str) -> Permission:
    """Declare a permission and the roles that hold it (idempotent for identical declarations)."""
    perm = Permission(name, frozenset(Role(r) for r in roles), zh, en)
    existing = _REGISTRY.get(name)
    if existing is not None and existing != perm:
        raise ValueError(f"permission {name} declared twice with different roles")
    _REGISTRY[name] = perm
    return perm


def get_permission(name: str) -> Permission:
    """The declared permission; an unknown name is a programming error."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown permission {name!r}") from None


def all_permissions() -> list[Permission]:
    return sorted(_REGISTRY.values(), key=lambda p: p.name)


def has_permission(user, name: str) -> bool:
    """Whether an (authenticated, active) user holds permission `name` through one of their roles."""
    perm = get_permission(name)
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(perm.roles & set(user.role_set))


# Platform permissions. Domains declare theirs in their own models module.
register_permission("users.manage", [Role.SYS_ADMIN], "管理用户账号", "Manage user accounts")
register_permission("org.manage", [Role.SYS_ADMIN], "管理单位、科室、岗位与人员", "Manage organisation")
register_permission("reference.manage", [Role.SYS_ADMIN], "管理参考数据与工作日历", "Manage reference data")
register_permission("roles.grant", [Role.SEC_ADMIN], "授予与撤销角色", "Grant and revoke roles")
register_permission("security.policy", [Role.SEC_ADMIN], "设置密码与锁定策略", "Set password and lockout policy")
register_permission("audit.read", [Role.AUDIT_ADMIN], "查阅审计日志并校验哈希链", "Read the audit trail and verify it")
register_permission("business.read", BUSINESS_ROLES, "查阅业务数据", "Read business data")
register_permission("org.view", BUSINESS_ROLES, "查阅本单位组织机构", "View own organisation")
register_permission("register.edit", [Role.DEPT_EDITOR], "填报与修改登记事项", "Edit register entries")
register_permission("register.submit", [Role.DEPT_EDITOR], "报送登记事项", "Submit register entries")
register_permission("register.approve", [Role.DEPT_HEAD], "单位审定", "Approve for the department")
register_permission("register.return", [Role.DEPT_HEAD, Role.INSPECTOR], "退回修改", "Return for correction")
register_permission("register.confirm", [Role.INSPECTOR], "纪检确认", "Confirm as inspector")
register_permission("register.publish", [Role.INSPECTOR], "发布", "Publish")
register_permission("register.retire", [Role.DEPT_HEAD, Role.INSPECTOR], "停用（不删除）", "Retire")
register_permission("inspect.all", [Role.INSPECTOR], "监督检查所有单位", "Inspect every department")
