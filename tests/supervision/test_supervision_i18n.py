"""The supervision pages speak Chinese first and English on request: every message of this domain is translated,
messages go through gettext, templates carry no bare Chinese, and the pages read English when switched."""

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from tests.core.test_i18n import (
    CJK,
    GETTEXT_IN_TEMPLATE,
    KEYWORDS,
    MESSAGE_CALLS,
    PLACEHOLDER,
    _catalog,
    _is_cjk_literal,
)
from tests.supervision.conftest import DEMO_EVENTS

ROOT = Path(__file__).resolve().parents[2]
PY = sorted((ROOT / "govrisk" / "supervision").glob("*.py"))
TEMPLATES = sorted((ROOT / "templates" / "supervision").glob("*.html"))


def _messages():
    found = []
    for path in PY + TEMPLATES:
        method = "python" if path.suffix == ".py" else "jinja2"
        for line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.append((path.relative_to(ROOT), line, context, msgid))
    return found


def test_every_supervision_message_has_an_english_translation():
    catalog, messages, problems = _catalog(), _messages(), []
    assert len(messages) > 150
    for path, line, context, msgid in messages:
        entry = catalog.get(msgid, context=context)
        where = f"{path}:{line} {msgid!r}"
        if entry is None or not entry.string:
            problems.append(f"{where}: not translated")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(entry.string)):
            problems.append(f"{where}: placeholders differ in {entry.string!r}")
        elif CJK.search(entry.string):
            problems.append(f"{where}: translation still contains Chinese")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PY, ids=lambda p: p.name)
def test_messages_go_through_gettext(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and CJK.search(str(v.value)) for v in node.values):
            problems.append(f"line {node.lineno}: Chinese inside an f-string")
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in MESSAGE_CALLS | {"append", "UserError", "Forbidden", "NotFound"} and node.args and \
                    _is_cjk_literal(node.args[0]):
                problems.append(f"line {node.lineno}: {name}() with an untranslated Chinese message")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_bare_chinese(path):
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = GETTEXT_IN_TEMPLATE.sub("_(MSG", text)
    bare = [f"line {n}: {line.strip()[:120]}" for n, line in enumerate(text.splitlines(), 1) if CJK.search(line)]
    assert not bare, "\n".join(bare)


def test_supervision_pages_in_english(food, ingest, scan, create_user, client, login_as):
    ingest(DEMO_EVENTS.read_bytes())
    scan("2026-10-30 18:00")
    login_as(create_user("inspector"))
    assert client.get("/lang/en").status_code == 302
    page = client.get("/supervision/?year=2026&month=10").get_data(as_text=True)
    assert "On-time rate" in page and "Open red cards" in page and "按时办结率" not in page
    alerts = client.get("/supervision/alerts?code=sod_violation").get_data(as_text=True)
    assert "against the separation of duties" in alerts and "Incompatible duties by one person" in alerts
