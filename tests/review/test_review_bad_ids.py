"""Ids that no database column can hold, in paths, query strings and forms: a clear 4xx, never a 500."""

import re

from tests.conftest import csrf_token

HUGE = "99999999999999999999999"
QUERY = "&".join(f"{name}={HUGE}" for name in ("department", "department_id", "finding_id", "person_id", "alert_id",
                                                  "feedback_id", "cycle_id", "page"))
PREFIXES = ("/review", "/accountability", "/reports")


def test_huge_ids_never_give_a_500(new_cycle, city, login_as, client, app):
    new_cycle()
    login_as(city.inspector)
    token = csrf_token(client, "/review/")
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIXES)]
    assert len(rules) > 30
    for rule in rules:
        url = re.sub(r"<int:\w+>", HUGE, rule.rule)
        if "GET" in rule.methods:
            response = client.get(f"{url}?{QUERY}")
            assert response.status_code < 500, (url, response.status_code)
        if "POST" in rule.methods:
            response = client.post(url, data={"csrf_token": token, "department_ids": HUGE, "person_id": HUGE,
                                              "department_id": HUGE, "version": HUGE, "transition": "open"})
            assert response.status_code < 500, (url, response.status_code)
