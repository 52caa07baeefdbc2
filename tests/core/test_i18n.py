"""Bilingual platform: Chinese by default, English on request, and a complete English catalog.

The completeness checks cover every source the catalog is extracted from (babel.cfg): every module under govrisk/ and
every template, grouped by package and template directory, so a new domain is checked the day it lands.
"""

import ast
import io
import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as _

from govrisk.core.errors import UserError
from govrisk.core.permissions import Role
from tests.conftest import post_form

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = ROOT / "govrisk" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
# Every source babel.cfg extracts from: govrisk/**.py and templates/**.html.
SOURCE_PY = sorted((ROOT / "govrisk").rglob("*.py"))
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def _area(path: Path) -> str:
    """The package or template directory a file belongs to: "govrisk/flows", "templates/flows", "govrisk"."""
    parts = path.relative_to(ROOT).parts
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


AREAS = sorted({_area(p) for p in SOURCE_PY + TEMPLATES})
# Modules that only run inside a request (pages, forms, the API, workflow guards): no Chinese f-strings at all.
REQUEST_MODULES = ("views.py", "forms.py", "api.py", "workflow.py")
# Further files where flash messages and refusals are written (audit labels, charts, PDFs and exports stay Chinese
# data; every file is checked for bare Chinese passed to flash(), UserError() and the other message calls).
MESSAGE_FILES = sorted({*(p for p in SOURCE_PY if p.name in REQUEST_MODULES), *(ROOT / "govrisk" / name for name in (
    "auth/operations.py", "org/operations.py", "admin/operations.py", "core/web.py", "core/importer.py",
    "core/audit.py", "core/models.py", "workflow/engine.py"))})

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
# A refusal or notice whose text the user reads must be a gettext call, never a bare literal.
MESSAGE_CALLS = {"flash", "UserError", "NotFound", "Forbidden", "StaleEditError", "WorkflowError", "ImportFileError",
                 "json_error", "_error_page", "ValueError"}
GETTEXT_CALLS = {"_", "_l", "gettext", "lazy_gettext", "pgettext", "lazy_pgettext", "ngettext"}


def _catalog():
    with PO_PATH.open("rb") as po_file:
        return read_po(po_file)


@cache
def _cached_catalog():
    return _catalog()


@cache
def _messages(area: str) -> tuple:
    """(file, line, context, msgid) for every translatable string of one area (msgid: singular)."""
    found = []
    for path in (p for p in SOURCE_PY + TEMPLATES if _area(p) == area):
        method = "python" if path.suffix == ".py" else "jinja2"
        for line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.append((path.relative_to(ROOT), line, context, msgid))
    return tuple(found)


def _untranslated(msgid: str, text: str) -> bool:
    """Chinese left in a translation: anything but words quoted from the message id (the values an import column
    accepts, “是/否”, a term of art such as 三重一大) — and the quotes must sit in an English sentence."""
    if CJK.search(CJK_RUN.sub("", text)):
        return True
    return any(run not in msgid for run in CJK_RUN.findall(text)) or (
        bool(CJK_RUN.search(text)) and not re.search(r"[A-Za-z]{2}", text))


def _h1(html: str) -> str:
    match = H1.search(html)
    assert match, "page has no <h1>"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _english(client):
    response = client.get("/lang/en")
    assert response.status_code == 302
    return client


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------------------------
# the catalog
# ---------------------------------------------------------------------------------------------------------------

def test_catalog_compiles_without_fuzzy_entries():
    catalog = _catalog()
    assert catalog.locale.language == "en"
    assert not catalog.fuzzy
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    assert not [(m.id, errors) for m, errors in catalog.check()]
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    assert len(buffer.getvalue()) > 1000


def test_catalog_is_compiled_into_the_instance_folder(app):
    compiled = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) / "en" / "LC_MESSAGES" / "messages.mo"
    assert compiled.exists() and compiled.stat().st_mtime >= PO_PATH.stat().st_mtime


def test_completeness_checks_cover_every_package_and_template_directory():
    packages = {f"govrisk/{d.name}" for d in (ROOT / "govrisk").iterdir() if d.is_dir() and any(d.rglob("*.py"))}
    template_dirs = {f"templates/{d.name}" for d in (ROOT / "templates").iterdir() if d.is_dir()}
    assert packages | template_dirs | {"govrisk", "templates"} == set(AREAS)
    assert {"govrisk/auth", "govrisk/flows", "govrisk/risks", "templates/flows", "templates/macros"} <= set(AREAS)
    assert sum(len(_messages(area)) for area in AREAS) > 3000  # the extraction really ran over every file


@pytest.mark.parametrize("area", AREAS)
def test_every_message_has_an_english_translation(area):
    catalog = _cached_catalog()
    problems = []
    for path, line, context, msgid in _messages(area):
        entry = catalog.get(msgid, context=context)
        where = f"{path}:{line} {msgid!r}" + (f" [{context}]" if context else "")
        if entry is None:
            problems.append(f"{where}: missing from messages.po")
            continue
        if entry.fuzzy:
            problems.append(f"{where}: fuzzy")
        for text in (entry.string if isinstance(entry.string, tuple) else (entry.string,)):
            if not text or not text.strip():
                problems.append(f"{where}: empty translation")
            elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text)):
                problems.append(f"{where}: placeholders differ in {text!r}")
            elif _untranslated(msgid, text):
                problems.append(f"{where}: translation still contains Chinese: {text!r}")
            elif path.suffix == ".html" and re.search(r"[<>]", text) and not re.search(r"[<>]", msgid):
                problems.append(f"{where}: translation adds markup (templates render it as HTML): {text!r}")
    assert not problems, "\n".join(problems)


def _is_cjk_literal(node) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(CJK.search(node.value))
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return any(_is_cjk_literal(child) for child in ast.walk(node) if child is not node)
    return False


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


@pytest.mark.parametrize("area", [a for a in AREAS if a.startswith("govrisk")])
def test_python_sends_user_messages_through_gettext(area):
    problems = []
    for path in (p for p in SOURCE_PY if _area(p) == area):
        problems += [f"{path.relative_to(ROOT)}:{problem}" for problem in _message_problems(path)]
    assert not problems, "\n".join(problems)


def _message_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems, no_fstrings = [], path in MESSAGE_FILES
    for node in ast.walk(tree):
        if no_fstrings and isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and CJK.search(str(v.value)) for v in node.values):
            problems.append(f"line {node.lineno}: Chinese inside an f-string (use _('…%(name)s', name=…))")
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in MESSAGE_CALLS and node.args and _is_cjk_literal(node.args[0]):
            problems.append(f"line {node.lineno}: {name}() with an untranslated Chinese message")
        if name in GETTEXT_CALLS and isinstance(node.func, ast.Name):
            texts = node.args[1:2] if name in ("pgettext", "lazy_pgettext") else \
                node.args[:2] if name == "ngettext" else node.args[:1]
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts):
                problems.append(f"line {node.lineno}: {name}() needs a plain string literal as its message id")
    return problems


QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
GETTEXT_IN_TEMPLATE = re.compile(rf"\b(?:_|gettext|pgettext|ngettext)\(\s*{QUOTED}(?:\s*,\s*{QUOTED})*")


@pytest.mark.parametrize("area", [a for a in AREAS if a.startswith("templates")])
def test_templates_have_no_bare_chinese(area):
    bare = []
    for path in (p for p in TEMPLATES if _area(p) == area):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        text = GETTEXT_IN_TEMPLATE.sub("_(MSG", text)
        bare += [f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
                 for n, line in enumerate(text.splitlines(), 1) if CJK.search(line)]
    assert not bare, "\n".join(bare)


# ---------------------------------------------------------------------------------------------------------------
# gettext outside a request
# ---------------------------------------------------------------------------------------------------------------

def test_gettext_without_any_context_returns_the_chinese_id():
    assert _("用户名或密码错误。") == "用户名或密码错误。"
    assert _("单位代码“%(code)s”已存在。", code="X") == "单位代码“X”已存在。"


def test_operations_outside_a_request_speak_chinese(app, create_department):
    create_department(code="I18N-1")
    with pytest.raises(UserError, match="单位代码“I18N-1”已存在"):
        create_department(code="I18N-1")


def test_operations_translate_when_the_locale_is_english(app, create_department):
    create_department(code="I18N-2")
    with app.test_request_context("/"), force_locale("en"):
        with pytest.raises(UserError, match="Department code “I18N-2” already exists"):
            create_department(code="I18N-2")


# ---------------------------------------------------------------------------------------------------------------
# pages in English
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture
def latin_user(create_user, create_department):
    def factory(*roles, department=None):
        user = create_user(*roles, department=department)
        user.display_name = "Pat Smith"
        return user

    return factory


def test_default_language_is_chinese(client):
    html = _text(client.get("/login"))
    assert '<html lang="zh-CN">' in html and "廉政风险防控管理系统" in _h1(html)


def test_english_login_page(client):
    html = _text(_english(client).get("/login"))
    assert '<html lang="en">' in html
    assert _h1(html) == "Integrity Risk Prevention and Control System" and "Integrity Risk Control</a>" in html
    for word in ("Sign in with the account you were given", "Username", "Password", ">Sign in<", "English"):
        assert word in html
    assert "登录" not in html


def test_english_login_refusal(client):
    _english(client)
    response = post_form(client, "/login", {"username": "nobody", "password": "x"})
    assert response.status_code == 401 and "Wrong username or password." in response.get_data(as_text=True)


def test_english_survives_login_and_switching_back_works(client, login_as, latin_user):
    _english(client)
    login_as(latin_user(Role.SYS_ADMIN))
    html = _text(client.get("/"))
    assert _h1(html) == "Hello, Pat Smith" and not CJK.search(_h1(html))
    for word in ("Organisation", "Accounts", "Reference data", "Working calendar", "Change password", "Sign out",
                 "System administrator"):
        assert word in html
    assert client.get("/lang/zh_CN?next=/").status_code == 302
    html = _text(client.get("/"))
    assert "您好，Pat Smith" in _h1(html) and "组织机构" in html and "退出登录" in html
    assert '<html lang="zh-CN">' in html


ADMIN_PAGES = [
    (Role.SYS_ADMIN, "/org/departments", "Organisation", ("Import departments", "New department", "All types")),
    (Role.SYS_ADMIN, "/org/departments/new", "New department", ("Department code", "Parent department", "Save")),
    (Role.SYS_ADMIN, "/org/departments/import", "Import departments", ("Upload and preview", "header row")),
    (Role.SYS_ADMIN, "/admin/users", "Accounts", ("New account", "All roles", "Last sign-in")),
    (Role.SYS_ADMIN, "/admin/users/new", "Account details", ("Initial password", "Department")),
    (Role.SYS_ADMIN, "/admin/reference", "Reference data", ()),
    (Role.SYS_ADMIN, f"/admin/calendar?year={date.today().year}", "Working calendar", ("Record a day",
                                                                                      "Make-up working day")),
    (Role.SEC_ADMIN, "/admin/roles", "Role grants", ("Separation of the three administrators", "Grant")),
    (Role.SEC_ADMIN, "/admin/policy", "Security policy", ("Minimum password length", "Currently locked accounts")),
    (Role.AUDIT_ADMIN, "/admin/audit", "Audit trail", ("Verify hash chain", "Changes", "Filter")),
    (Role.INSPECTOR, "/account/tokens", "API tokens", ("Create token", "Token name (purpose)")),
    (Role.INSPECTOR, "/account/password", "Change password", ("Current password", "Save new password")),
]


@pytest.mark.parametrize(("role", "url", "heading", "words"), ADMIN_PAGES, ids=[p[1] for p in ADMIN_PAGES])
def test_platform_pages_in_english(client, login_as, latin_user, role, url, heading, words):
    _english(client)
    login_as(latin_user(role))
    html = _text(client.get(url))
    h1 = _h1(html)
    assert h1.startswith(heading) and not CJK.search(h1), h1
    for word in words:
        assert word in html, word


def test_department_pages_in_english(client, login_as, latin_user, create_department, create_post, create_person):
    department = create_department(code="EN-1", name="Test Bureau")
    post = create_post(department, name="Licensing desk", is_key=True)
    person = create_person(department, name="Lee")
    _english(client)
    login_as(latin_user(Role.SYS_ADMIN))
    html = _text(client.get(f"/org/departments/{department.id}"))
    assert _h1(html) == "Test Bureau"
    for word in ("Sections", "Posts", "People", "Add sub-unit", "Retire", "New post", "Headcount",
                 "Government department"):
        assert word in html
    html = _text(client.get(f"/org/departments/{department.id}/posts/{post.id}"))
    assert _h1(html) == "Post" and "Key post (subject to regular rotation)" in html
    html = _text(client.get(f"/org/departments/{department.id}/people/{person.id}"))
    assert _h1(html) == "Person" and "Assign to a post" in html and "Assigned from" in html


def test_english_flash_and_form_errors(client, login_as, latin_user, create_department):
    create_department(code="EN-DUP")
    _english(client)
    login_as(latin_user(Role.SYS_ADMIN))
    url = "/org/departments/new"
    response = post_form(client, url, {"code": "EN-DUP", "name": "Dup", "kind": "government", "parent_id": 0},
                         token_url=url)
    assert response.status_code == 400 and "Department code “EN-DUP” already exists." in response.get_data(True)
    response = post_form(client, url, {"code": "EN-NEW", "name": "New Bureau", "kind": "government",
                                       "parent_id": 0}, token_url=url, follow_redirects=True)
    assert "Department “New Bureau” created." in _text(response)


def test_english_audit_verification(client, login_as, latin_user):
    _english(client)
    login_as(latin_user(Role.AUDIT_ADMIN))
    html = _text(post_form(client, "/admin/audit/verify", token_url="/admin/audit"))
    assert _h1(html) == "Hash chain verification" and "The audit chain is intact" in html


def test_english_error_pages(client, login_as, latin_user):
    _english(client)
    assert "Page not found" in client.get("/no/such/page").get_data(as_text=True)
    login_as(latin_user(Role.AUDIT_ADMIN))
    response = client.get("/admin/users")
    assert response.status_code == 403 and _h1(response.get_data(as_text=True)) == "Forbidden"


def test_english_import_preview_uses_plural_forms(client, login_as, latin_user):
    _english(client)
    login_as(latin_user(Role.SYS_ADMIN))
    url = "/org/departments/import"
    body = b"code,name,parent_code\nEN-I1,Import Bureau,\nEN-I2,Orphan,NOPE\n"
    response = post_form(client, url, {"file": (io.BytesIO(body), "departments.csv")}, token_url=url)
    html = _text(response)
    assert "2 rows" in html and "1 row with errors" in html and "1 rows" not in html
    assert "parent department code “NOPE” does not exist" in html


def test_history_shows_state_titles_in_the_current_language(app):
    from govrisk.core.web import _template_helpers
    from tests.support import Ticket

    state_title = _template_helpers()["state_title"]
    ticket = Ticket(title="t")
    assert state_title(ticket, "submitted") == "已报送"
    with app.test_request_context("/"), force_locale("en"):
        assert state_title(ticket, "submitted") == "Submitted"
    assert state_title(ticket, "no-such-state") == "no-such-state"
    assert state_title(object(), "draft") == "draft"
