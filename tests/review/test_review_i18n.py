"""The review, accountability and reports domains speak through the catalog: no bare Chinese in templates, messages
through gettext, and every string of these files translated into English."""

import ast
import re
from pathlib import Path

import pytest

from tests.core.test_i18n import (
    CJK,
    GETTEXT_IN_TEMPLATE,
    KEYWORDS,
    MESSAGE_CALLS,
    PLACEHOLDER,
    _call_name,
    _catalog,
    _is_cjk_literal,
)

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("review", "accountability", "reports")
TEMPLATES = sorted(p for d in DOMAINS for p in (ROOT / "templates" / d).glob("*.html"))
PYTHON = sorted(p for d in DOMAINS for p in (ROOT / "govrisk" / d).glob("*.py")
                if p.name not in ("annual.py", "seed.py"))  # the report is a Chinese document; the seed is data


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_bare_chinese(path):
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = GETTEXT_IN_TEMPLATE.sub("_(MSG", text)
    bare = [f"line {n}: {line.strip()[:120]}" for n, line in enumerate(text.splitlines(), 1) if CJK.search(line)]
    assert not bare, "\n".join(bare)


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_messages_go_through_gettext(path):
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and _call_name(node) in MESSAGE_CALLS and node.args and \
                _is_cjk_literal(node.args[0]):
            problems.append(f"line {node.lineno}: {_call_name(node)}() with an untranslated Chinese message")
    assert not problems, "\n".join(problems)


def test_every_message_has_an_english_translation():
    from babel.messages.extract import extract_from_file

    catalog, problems = _catalog(), []
    for path in PYTHON + TEMPLATES:
        method = "python" if path.suffix == ".py" else "jinja2"
        for line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            entry = catalog.get(msgid, context=context) if msgid else None
            where = f"{path.relative_to(ROOT)}:{line} {msgid!r}"
            if msgid and (entry is None or not entry.string or entry.fuzzy):
                problems.append(f"{where}: not translated")
            elif msgid and set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(entry.string)):
                problems.append(f"{where}: placeholders differ")
            elif msgid and CJK.search(entry.string):
                problems.append(f"{where}: translation still contains Chinese")
    assert not problems, "\n".join(problems[:50])
