"""Flow pages in English: headings, chrome, flashes and refusals translated; names, posts and findings as entered."""

import io
import json
import re

import pytest
from markupsafe import escape

from govrisk.core.permissions import Role
from govrisk.flows import operations as ops
from govrisk.flows import queries
from govrisk.flows.models import FlowKind
from govrisk.flows.validation import parse_flow
from tests.conftest import post_form
from tests.flows.conftest import example_dict

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
# Step names and an edge label that are not UI words themselves, so removing the data cannot hide a UI word.
STEP_NAMES = {"accept": "窗口收件", "review": "材料核验", "decide": "领导签批", "deliver": "证照发放"}
EDGE_LABEL = "材料补齐"


def _h1(html: str) -> str:
    match = H1.search(html)
    assert match, "page has no <h1>"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _document(power_code: str, *, sod: bool = False) -> dict:
    data = example_dict(power_code)
    for step in data["steps"]:
        step["name"] = STEP_NAMES[step["id"]]
        step["documents"] = ["受理通知书"] if step["id"] == "accept" else []
        if sod and step["id"] == "decide":
            step["post"] = "审查岗"  # one post reviews and decides: a sod_conflict warning
    data["edges"][2]["label"] = EDGE_LABEL
    return data


def _flow(power, *, sod: bool = False):
    doc, problems = parse_flow(_document(power.code, sod=sod))
    assert doc is not None, problems
    return ops.create_flow(power, FlowKind.INTERNAL, doc, actor=None)


@pytest.fixture
def english_editor(client, login_as, licensing, create_user):
    """A department editor with a Latin name, signed in with the English locale."""
    user = create_user(Role.DEPT_EDITOR, department=licensing[0])
    user.display_name = "Pat Smith"
    assert client.get("/lang/en").status_code == 302
    login_as(user)
    return client


def _chrome(html: str, flow=None, *, data=()) -> str:
    """The page without its data: the chart, the findings' messages (§7.1 check output) and the names entered."""
    html = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    values = set(data)
    if flow is not None:
        values |= {f.message for f in queries.flow_report(flow).findings}
    for value in sorted(values, key=len, reverse=True):
        html = html.replace(str(escape(value)), "")
    return html


def _data(licensing) -> tuple:
    department, posts, power = licensing
    return (department.name, power.name, *posts, *STEP_NAMES.values(), EDGE_LABEL, "受理通知书",
            "中文")  # the language switcher offers 中文 by its own name


def _assert_no_chinese(html: str) -> None:
    context = [html[max(m.start() - 60, 0):m.end() + 20] for m in CJK.finditer(html)]
    assert not context, "Chinese left in the page chrome:\n" + "\n".join(context[:5])


def test_flow_list_in_english(english_editor, licensing):
    client = english_editor
    flow = _flow(licensing[2], sod=True)
    html = client.get("/flows/").get_data(as_text=True)
    assert _h1(html) == "Flow charts" and '<html lang="en">' in html
    for words in ("New flow chart", "Import JSON / BPMN", "Coverage", "All departments", "All but retired",
                  "All validation results", "Critical path / promised limit", "Version 1", "Internal flow chart",
                  "1 warning<", "Draft"):
        assert words in html, words
    assert "1 warnings" not in html
    _assert_no_chinese(_chrome(html, flow, data=_data(licensing)))
    html = client.get("/flows/?validity=errors").get_data(as_text=True)
    assert "No flow chart matches." in html


def test_flow_detail_in_english(english_editor, licensing):
    client = english_editor
    flow = _flow(licensing[2], sod=True)
    html = client.get(f"/flows/{flow.id}").get_data(as_text=True)
    assert _h1(html) == f"{licensing[2].name} · Internal flow chart"
    for words in ("Edit", "Export", "BPMN 2.0 (opens in modelling tools)", "SVG image", "Step", "Duty",
                  "Responsible post", "Time limit (working days)", "Documents", "Edges", "Return",
                  "Longest path: ", "working days (power catalog)", "Validation results", "Warning", "sod_conflict",
                  "Version 1", " Versions</div>", ">Steps</div>", " Flow chart</div>", "Acceptance", "Review",
                  "Decision", "Execution", " (accept → review → decide → deliver)"):
        assert words in html, words
    _assert_no_chinese(_chrome(html, flow, data=_data(licensing)))


def test_flow_editor_in_english(english_editor, licensing):
    client = english_editor
    flow = _flow(licensing[2])
    html = client.get(f"/flows/{flow.id}/edit").get_data(as_text=True)
    assert _h1(html) == f"{licensing[2].name} · Internal flow chart"
    for words in ("Steps", "Add step", "Step name", "Responsible post", "Duty", "Edges", "Add edge",
                  "From (step code)", "To (step code)", "Condition", "Live preview", "Validation results",
                  "Flow time limit (working days)", "Promised time limit: ", "Tick “Return”", "Save", "Cancel",
                  'data-msg-path="Longest path: {d} working days"', "Delete this row", "e.g. accept"):
        assert words in html, words
    _assert_no_chinese(_chrome(html, flow, data=_data(licensing)))


def test_new_flow_chooser_and_empty_editor_in_english(english_editor, licensing):
    client = english_editor
    html = client.get("/flows/new").get_data(as_text=True)
    assert _h1(html) == "New flow chart" and "Next: fill in the steps" in html and "Flow chart type" in html
    _assert_no_chinese(_chrome(html, data=_data(licensing)))
    html = client.get(f"/flows/new?power_id={licensing[2].id}&kind=internal").get_data(as_text=True)
    assert "New (a draft once saved)" in html and "The flow chart appears here once you fill in the steps." in html
    _assert_no_chinese(_chrome(html, data=_data(licensing)))
    response = client.get("/flows/new?power_code=NOPE&kind=internal")
    assert response.status_code == 400
    assert "No such power code (or it is not in your department)" in response.get_data(as_text=True)


def test_flow_import_and_coverage_in_english(english_editor, licensing):
    client = english_editor
    _flow(licensing[2])
    html = client.get("/flows/import").get_data(as_text=True)
    assert _h1(html) == "Import flow chart" and "Flow chart file (JSON or BPMN)" in html
    _assert_no_chinese(_chrome(html, data=_data(licensing)))
    html = client.get("/flows/coverage").get_data(as_text=True)
    assert _h1(html) == "Flow chart coverage" and "No external flow chart" in html
    _assert_no_chinese(_chrome(html, data=_data(licensing)))
    html = client.get("/flows/coverage/powers").get_data(as_text=True)
    assert _h1(html) == "Flow charts by power" and "Missing" in html
    _assert_no_chinese(_chrome(html, data=_data(licensing)))


def test_flow_flashes_and_refusals_in_english(english_editor, licensing):
    client = english_editor
    power = licensing[2]
    flow = _flow(power)
    url = f"/flows/{flow.id}/edit"
    response = post_form(client, f"/flows/{flow.id}/transition", {"transition": "submit", "version": flow.version},
                         token_url=f"/flows/{flow.id}", follow_redirects=True)
    assert "Internal flow chart version 1: Submitted." in response.get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 403
    assert "Only editors of the department can change a draft or returned flow chart." in response.get_data(True)
    response = client.get(f"/flows/new?power_id={power.id}&kind=internal", follow_redirects=True)
    assert "Internal flow chart version 1 of this power is already in progress; it has been opened" in \
        response.get_data(as_text=True)
    other = json.dumps({**_document("XK-NONE"), "kind": "external"}).encode()
    response = post_form(client, "/flows/import", {"file": (io.BytesIO(other), "f.json")}, token_url="/flows/import")
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:300]
    assert "Power code “XK-NONE” does not exist; the flow chart was not imported." in html


def test_flow_editor_cell_errors_and_save_flash_in_english(english_editor, licensing):
    client = english_editor
    _department, posts, power = licensing
    url = f"/flows/new?power_id={power.id}&kind=internal"
    data = {"time_limit_days": "", "steps-0-key": "accept", "steps-0-name": "", "steps-0-role": "acceptance",
            "steps-0-post_id": "0", "edges-0-source": "accept", "edges-0-target": ""}
    html = post_form(client, url, data, token_url=url).get_data(as_text=True)
    for words in ("Please enter the step name", "Please enter a step code", "Not saved: correct the cells"):
        assert words in html, words
    data = {"time_limit_days": "", "steps-0-key": "accept", "steps-0-name": "收件", "steps-0-role": "acceptance",
            "steps-0-post_id": str(posts["窗口受理岗"].id), "steps-0-time_limit_days": "1"}
    response = post_form(client, url, data, token_url=url, follow_redirects=True)
    assert "Internal flow chart version 1 saved: validation passed." in response.get_data(as_text=True)
