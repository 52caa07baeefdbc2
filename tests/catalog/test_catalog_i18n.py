"""The catalog, portal and API speak English too: every message of these domains has a translation."""

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from tests.catalog_support import make_power, make_unit, publish

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = ROOT / "govrisk" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
FILES = sorted([*(ROOT / "govrisk").glob("catalog/*.py"), *(ROOT / "govrisk").glob("portal/*.py"),
                *(ROOT / "govrisk").glob("api/*.py"), *(ROOT / "templates").glob("catalog/*.html"),
                *(ROOT / "templates").glob("portal/*.html")])
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_every_message_has_an_english_translation():
    with PO_PATH.open("rb") as handle:
        catalog = read_po(handle)
    problems, seen = [], 0
    for path in FILES:
        method = "python" if path.suffix == ".py" else "jinja2"
        for line, message, _comments, context in extract_from_file(method, str(path), keywords=KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if not msgid:
                continue
            seen += 1
            entry = catalog.get(msgid, context=context)
            where = f"{path.relative_to(ROOT)}:{line} {msgid!r}"
            if entry is None or not entry.string:
                problems.append(f"{where}: no translation")
            elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(entry.string)):
                problems.append(f"{where}: placeholders differ")
            elif CJK.search(entry.string.replace("三重一大", "")):
                problems.append(f"{where}: translation still Chinese")
    assert seen > 250 and not problems, problems


def test_templates_have_no_bare_chinese():
    for path in FILES:
        if path.suffix != ".html":
            continue
        text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert not CJK.search(text), (path.name, CJK.findall(text)[:5])


def test_pages_in_english(client, create_department, create_user):
    unit = make_unit(create_department, create_user)
    power = publish(make_power(unit, promised_days="3"), unit,
                    create_user("inspector", department=create_department()))
    client.get("/lang/en")
    html = client.get(f"/portal/powers/{power.code}").get_data(as_text=True)
    assert "Basic information" in html and "Legal basis" in html and "Give feedback or report" in html
    assert "Find the city's public powers" in client.get("/portal/").get_data(as_text=True)
    response = client.get("/api/v1/powers?page=0")
    assert response.get_json()["error"]["message"] == "Parameter page must be a positive integer."
