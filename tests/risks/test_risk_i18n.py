"""The risk register speaks English on request: every message of the domain is in the catalog, user messages go
through gettext, templates carry no bare Chinese, and the main pages render in English."""

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from tests.core.test_i18n import (
    CJK,
    GETTEXT_CALLS,
    GETTEXT_IN_TEMPLATE,
    KEYWORDS,
    MESSAGE_CALLS,
    PLACEHOLDER,
    _call_name,
    _catalog,
    _is_cjk_literal,
)
from tests.risks.conftest import make_point

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sorted((ROOT / "govrisk" / "risks").glob("*.py"))
TEMPLATES = sorted((ROOT / "templates" / "risks").glob("*.html"))
DATA_FILES = {"seed.py", "registers.py", "grading.py"}  # Chinese data (documents, seed, rule texts), not UI


def test_every_risks_message_has_an_english_translation():
    catalog, problems, count = _catalog(), [], 0
    for path in PYTHON + TEMPLATES:
        method = "python" if path.suffix == ".py" else "jinja2"
        for line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
            for msgid in (message if isinstance(message, tuple) else (message,)):
                if not msgid:
                    continue
                count += 1
                entry = catalog.get(msgid, context=context)
                where = f"{path.relative_to(ROOT)}:{line} {msgid!r}"
                if entry is None or not entry.string:
                    problems.append(f"{where}: no translation")
                elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(entry.string)):
                    problems.append(f"{where}: placeholders differ")
                elif CJK.search(entry.string.replace("一级, 二级 or 三级", "").replace("大, 中 or 小", "")
                                .replace("职权 and 风险点", "").replace("三重一大", "")):
                    problems.append(f"{where}: translation still contains Chinese")
    assert count > 300
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", [p for p in PYTHON if p.name not in DATA_FILES], ids=lambda p: p.name)
def test_user_messages_go_through_gettext(path):
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and CJK.search(str(v.value)) for v in node.values):
            problems.append(f"line {node.lineno}: Chinese inside an f-string")
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in MESSAGE_CALLS and node.args and _is_cjk_literal(node.args[0]):
                problems.append(f"line {node.lineno}: {name}() with an untranslated Chinese message")
            if name in GETTEXT_CALLS and isinstance(node.func, ast.Name) and not all(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[:1]):
                problems.append(f"line {node.lineno}: {name}() needs a plain string literal")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_bare_chinese(path):
    import re

    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = GETTEXT_IN_TEMPLATE.sub("_(MSG", text)
    bare = [f"line {n}: {line.strip()[:120]}" for n, line in enumerate(text.splitlines(), 1) if CJK.search(line)]
    assert not bare, "\n".join(bare)


@pytest.mark.parametrize("path", ["/risks/", "/risks/analysis", "/risks/measures", "/risks/disagreements",
                                  "/risks/rotation", "/risks/grading", "/risks/new"])
def test_pages_in_english(client, login_as, unit, path):
    point = make_point(unit)
    login_as(unit.editor)
    client.get("/lang/en")
    html = client.get(path).get_data(as_text=True)
    assert "Integrity risks" in html
    for chinese in ("风险点登记", "定级分歧", "登记风险点", "评定方法"):
        assert chinese not in html, (path, chinese)
    assert "Level" in client.get(f"/risks/{point.id}").get_data(as_text=True)
