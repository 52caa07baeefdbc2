"""The campaign pages speak Chinese first and English on request: every message of this domain is in the catalog,
messages go through gettext, templates carry no bare Chinese, and a page switched to English reads English."""

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

ROOT = Path(__file__).resolve().parents[2]
PY = sorted((ROOT / "govrisk" / "campaigns").glob("*.py"))
TEMPLATES = sorted((ROOT / "templates" / "campaigns").glob("*.html"))
# Files whose strings are document content (the Chinese summary, seed data, the extractor's vocabulary), not UI.
CONTENT_ONLY = {"extraction.py", "numerals.py", "seed.py"}


def _messages():
    found = []
    for path in PY + TEMPLATES:
        method = "python" if path.suffix == ".py" else "jinja2"
        for line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.append((path.relative_to(ROOT), line, context, msgid))
    return found


def test_every_campaign_message_has_an_english_translation():
    catalog = _catalog()
    messages = _messages()
    assert len(messages) > 300
    problems = []
    for path, line, context, msgid in messages:
        entry = catalog.get(msgid, context=context)
        where = f"{path}:{line} {msgid!r}"
        if entry is None:
            problems.append(f"{where}: missing from messages.po")
            continue
        for text in (entry.string if isinstance(entry.string, tuple) else (entry.string,)):
            if not text or not text.strip():
                problems.append(f"{where}: empty translation")
            elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text)):
                problems.append(f"{where}: placeholders differ in {text!r}")
            elif CJK.search(text):
                problems.append(f"{where}: translation still contains Chinese: {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", [p for p in PY if p.name not in CONTENT_ONLY and p.name != "documents.py"],
                         ids=lambda p: p.name)
def test_messages_go_through_gettext(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and CJK.search(str(v.value)) for v in node.values):
            problems.append(f"line {node.lineno}: Chinese inside an f-string")
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in MESSAGE_CALLS | {"append"} and node.args and _is_cjk_literal(node.args[0]):
                problems.append(f"line {node.lineno}: {name}() with an untranslated Chinese message")
    assert not problems, "\n".join(problems)


def test_upload_refusals_go_through_gettext():
    """documents.py writes the Chinese summary (content); only its refusals are UI and must be translated."""
    tree = ast.parse((ROOT / "govrisk" / "campaigns" / "documents.py").read_text(encoding="utf-8"))
    bare = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "UserError" and node.args and _is_cjk_literal(node.args[0])]
    assert not bare


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_bare_chinese(path):
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = GETTEXT_IN_TEMPLATE.sub("_(MSG", text)
    bare = [f"line {n}: {line.strip()[:120]}" for n, line in enumerate(text.splitlines(), 1) if CJK.search(line)]
    assert not bare, "\n".join(bare)


def test_campaign_pages_in_english(client, login_as, world):
    from tests.campaigns.conftest import file_report

    file_report(world, world.branch, world.users.branch_editor)
    login_as(world.users.branch_editor)
    assert client.get("/lang/en").status_code == 302
    page = client.get(f"/campaigns/{world.campaign.id}").get_data(as_text=True)
    assert "Reporting status" in page and "Unit reports" in page and "报送情况" not in page
    report = client.get(f"/campaigns/reports/{queries_report_id(world)}").get_data(as_text=True)
    assert "Results (figures)" in report and "Draft" in report and "Find figures in the summary" in report


def test_refusals_translate(app, world):
    from flask_babel import force_locale

    from govrisk.campaigns import operations as ops
    from govrisk.core.errors import UserError

    with app.test_request_context("/"), force_locale("en"), pytest.raises(UserError, match="cannot be negative"):
        ops.parse_value("-5")
    with pytest.raises(UserError, match="不能为负数"):
        ops.parse_value("-5")


def queries_report_id(world) -> int:
    from govrisk.campaigns.queries import report_for

    return report_for(world.campaign.id, world.branch.id).id
