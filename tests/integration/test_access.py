"""The access matrix: every role against every route, allowed or refused.

The expected table is written out here, not read from the handlers, so a route whose guard
changes by mistake fails this test; a new route fails it until it is added to the table.
"""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from tests.conftest import PASSWORD, login, post_form
from tests.integration.seed import seed

ANON, ORG, CHIEF, JUDGE, FIN = "anonymous", "organizer", "chief_judge", "judge", "finance"
ALL = {ANON, ORG, CHIEF, JUDGE, FIN}
SIGNED_IN = ALL - {ANON}

# (method, path pattern) -> roles allowed
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): ALL,
    ("GET", "/healthz"): ALL,
    ("GET", "/favicon.ico"): ALL,
    ("GET", "/readyz"): ALL,
    ("GET", "/metrics"): {ORG},  # and a scraper with CONTEST_METRICS_TOKEN (test_operations)
    ("GET", "/login"): ALL,
    ("POST", "/login"): ALL,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/lang/{code:str}"): ALL,
    ("GET", "/accounts/locks"): {ORG},
    ("POST", "/accounts/locks/clear"): {ORG},
    ("GET", "/competitions"): {ORG},
    ("POST", "/competitions"): {ORG},
    ("GET", "/competitions/{competition_id:int}"): {ORG},
    ("POST", "/competitions/{competition_id:int}"): {ORG},
    ("POST", "/competitions/{competition_id:int}/delete"): {ORG},
    ("POST", "/competitions/{competition_id:int}/items"): {ORG},
    ("GET", "/items/{item_id:int}"): {ORG},
    ("POST", "/items/{item_id:int}"): {ORG},
    ("GET", "/items/{item_id:int}/criterion-row"): {ORG},
    ("POST", "/items/{item_id:int}/scheme"): {ORG},
    ("POST", "/items/{item_id:int}/delete"): {ORG},
    ("POST", "/items/{item_id:int}/judges"): {ORG},
    ("POST", "/items/{item_id:int}/judges/{assignment_id:int}/delete"): {ORG},
    ("POST", "/items/{item_id:int}/draw"): {ORG},
    ("GET", "/items/{item_id:int}/draw.xlsx"): {ORG},
    ("GET", "/units"): {ORG},
    ("POST", "/units"): {ORG},
    ("GET", "/people"): {ORG},
    ("POST", "/people"): {ORG},
    ("POST", "/people/search"): {ORG},
    ("POST", "/people/lookup"): {ORG},  # the judge picker's typeahead
    ("GET", "/conflicts"): {ORG},
    ("POST", "/conflicts"): {ORG},
    ("POST", "/conflicts/{conflict_id:int}/delete"): {ORG},
    ("GET", "/competitions/{competition_id:int}/import"): {ORG},
    ("POST", "/competitions/{competition_id:int}/import/roster"): {ORG},
    ("POST", "/competitions/{competition_id:int}/import/judges"): {ORG},
    ("GET", "/competitions/{competition_id:int}/import/roster-template.xlsx"): {ORG},
    ("GET", "/competitions/{competition_id:int}/import/judges-template.xlsx"): {ORG},
    ("GET", "/judge"): {JUDGE, CHIEF},
    ("GET", "/tablet"): {JUDGE, CHIEF},
    ("GET", "/tablet-sw.js"): ALL,
    ("GET", "/chief/items/{item_id:int}"): {CHIEF, ORG},
    ("GET", "/chief/items/{item_id:int}/matrix"): {CHIEF, ORG},
    ("GET", "/chief/items/{item_id:int}/devices"): {CHIEF, ORG},
    ("POST", "/chief/items/{item_id:int}/open"): {CHIEF, ORG},
    ("POST", "/chief/items/{item_id:int}/lock"): {CHIEF, ORG},
    ("POST", "/chief/items/{item_id:int}/reveal"): {CHIEF, ORG},
    ("POST", "/chief/items/{item_id:int}/reopen"): {CHIEF, ORG},
    ("POST", "/chief/items/{item_id:int}/override"): {CHIEF, ORG},
    ("POST", "/chief/items/{item_id:int}/time"): {CHIEF, ORG},
    ("POST", "/items/{item_id:int}/publish"): {ORG},
    ("POST", "/items/{item_id:int}/tie"): {ORG},
    ("GET", "/board/{competition_id:int}"): ALL,
    ("GET", "/board/{competition_id:int}/snapshot"): ALL,
    ("POST", "/competitions/{competition_id:int}/judge-links"): {ORG},
    ("GET", "/j/{token:str}"): ALL,
    ("GET", "/items/{item_id:int}/results"): {ORG},
    ("POST", "/items/{item_id:int}/results/appeals"): {ORG},
    ("POST", "/items/{item_id:int}/results/appeals/{appeal_id:int}"): {ORG},
    ("POST", "/items/{item_id:int}/results/finalize"): {ORG},
    # papers (docs/papers.md): the 成绩公示表 of published results is public (409 before); the rest is
    # for the organizer and the item's own chief judge
    ("GET", "/items/{item_id:int}/papers/results-sheet.pdf"): ALL,
    ("GET", "/competitions/{competition_id:int}/papers/results-sheet.pdf"): ALL,
    ("GET", "/items/{item_id:int}/papers/score-sheet.pdf"): {ORG, CHIEF},
    ("GET", "/items/{item_id:int}/papers/lock-record.pdf"): {ORG, CHIEF},
    ("GET", "/chief"): {CHIEF},
    ("GET", "/finance"): {FIN, ORG},
    # payouts: finance writes, organizers may view (docs/payouts.md)
    ("POST", "/finance/batches"): {FIN},
    ("GET", "/finance/batches/{batch_id:int}"): {FIN, ORG},
    ("POST", "/finance/batches/{batch_id:int}/compute"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/settings"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/external"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/submit"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/approve"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/delete"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/return"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/paid"): {FIN},
    ("POST", "/finance/batches/{batch_id:int}/correction"): {FIN},
    ("GET", "/finance/batches/{batch_id:int}/workbook.xlsx"): {FIN, ORG},
    ("GET", "/finance/ledger"): {FIN, ORG},
    ("GET", "/finance/results-template.xlsx"): {FIN, ORG},
    # an organizer may let a batch be approved before its results are final (with a reason)
    ("POST", "/finance/batches/{batch_id:int}/override"): {ORG},
    # payees: bank details are for finance only
    ("GET", "/finance/payees"): {FIN},
    ("POST", "/finance/payees"): {FIN},
    ("POST", "/finance/payees/import"): {FIN},
    ("GET", "/finance/payees/template.xlsx"): {FIN},
    ("GET", "/public/competitions/{competition_id:int}"): ALL,
    # competitors (issue 17): the organizer's certificate desk; the public look-up, downloads by signed link, verification
    ("GET", "/competitions/{competition_id:int}/certificates"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/settings"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/seal"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/seal/delete"): {ORG},
    ("GET", "/competitions/{competition_id:int}/certificates/seal.png"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/honours"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/honours/{rule_id:int}/delete"): {ORG},
    ("GET", "/competitions/{competition_id:int}/certificates/specimen.pdf"): {ORG},
    ("GET", "/competitions/{competition_id:int}/certificates/all.pdf"): {ORG},
    ("GET", "/competitions/{competition_id:int}/certificates/{certificate_id:int}/pdf"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/{certificate_id:int}/revoke"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/codes"): {ORG},
    ("POST", "/competitions/{competition_id:int}/certificates/codes/person"): {ORG},
    ("GET", "/public/competitions/{competition_id:int}/me"): ALL,
    ("POST", "/public/competitions/{competition_id:int}/me"): ALL,
    ("GET", "/certificates/{serial:str}/pdf"): ALL,
    ("GET", "/verify"): ALL,
    ("GET", "/verify/{serial:str}"): ALL,
    ("GET", "/static/{file_path:path}"): ALL,
    ("GET", "/schema"): ALL,
    ("GET", "/schema/openapi.json"): ALL,
    ("GET", "/schema/{path:str}"): ALL,
}


def _app_routes(app) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                    found.add((str(method), route.path))
    return found


def test_every_route_is_in_the_matrix(app) -> None:
    routes = _app_routes(app)
    assert routes - set(EXPECTED) == set(), "new routes: add them to EXPECTED with who may use them"
    assert set(EXPECTED) - routes == set(), "EXPECTED lists routes the app does not have"


def _concrete(path: str, ids: dict[str, int]) -> str:
    path = path.replace("{serial:str}", "0" * 26)
    path = (
        path.replace("{code:str}", "en")
        .replace("{token:str}", "no-such-token")
        .replace("{file_path:path}", "css/app.css")
        .replace("{path:str}", "openapi.json")
    )
    return re.sub(r"\{(\w+):int\}", lambda m: str(ids[m.group(1)]), path)


def _refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    # An anonymous GET of a page is sent to the login form.
    return response.status_code in (302, 303) and response.headers.get("location", "").startswith("/login")


@pytest.mark.parametrize("role", sorted(ALL))
def test_access_matrix(app, role_users, migrated, role: str) -> None:
    # The chief judge account is the seeded item's chief: a chief of another item is refused (below).
    ids = seed(migrated.database_url, judge_username=role_users["judge"], chief_username=role_users["chief_judge"])
    ids["appeal_id"] = 1  # none exists: allowed roles get 404, which is not a refusal
    ids["batch_id"] = 1  # no payout batch exists either: 404 for the allowed roles
    ids["rule_id"] = ids["certificate_id"] = 1  # nor honour rules or certificates
    with TestClient(app=app) as client:
        if role != ANON:
            login(client, role_users[role], PASSWORD)
        client.get("/")  # the CSRF cookie, as a browser has it
        problems = []
        for (method, pattern), allowed in sorted(EXPECTED.items()):
            if (method, pattern) == ("POST", "/logout"):
                continue  # would end this client's session; checked in test_accounts
            path = _concrete(pattern, ids)
            response = client.get(path, follow_redirects=False) if method == "GET" else post_form(client, path, {})
            refused = _refused(response)
            if role in allowed and refused:
                problems.append(f"{method} {path}: {role} should be allowed, got {response.status_code}")
            if role not in allowed and not refused:
                problems.append(f"{method} {path}: {role} should be refused, got {response.status_code}")
            if role not in allowed and role != ANON and response.status_code != 403:
                problems.append(f"{method} {path}: {role} should get 403, got {response.status_code}")
        assert problems == []


def test_a_chief_judge_of_another_item_is_refused_the_console(app, role_users, migrated) -> None:
    ids = seed(migrated.database_url)  # the chief account is not linked to this item's panel
    with TestClient(app=app) as client:
        login(client, role_users["chief_judge"], PASSWORD)
        assert client.get(f"/chief/items/{ids['item_id']}", follow_redirects=False).status_code == 403
        assert post_form(client, f"/chief/items/{ids['item_id']}/open", {}).status_code == 403
