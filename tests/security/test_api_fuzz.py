"""API fuzz: every operation of our OpenAPI schema, fuzzed with schemathesis, answers without a 5xx.

In-process (litestar's TestClient), signed in as an organizer on a database holding a competition
open for scoring (tests/integration/live_seed.py), so small generated ids hit real rows. Unsafe
methods carry the CSRF header, as the htmx pages do, so requests reach the handlers instead of
stopping at the CSRF check. The form bodies our pages post are described in the schema
(contest.web.openapi.form_body): schemathesis generates them both as described (positive) and
breaking the description (negative: over-long text, wrong types, missing fields). A POST whose
form is not described gets a generated urlencoded form with field names the pages use. Bounded:
FUZZ_EXAMPLES examples per operation and mode (CONTEST_FUZZ_EXAMPLES overrides it), no
shrinking, no example database, BUDGET_SECONDS in all (CONTEST_FUZZ_BUDGET).

On SQLite and on PostgreSQL (the services lane, required in CI): PostgreSQL refuses what SQLite
silently stores (ids beyond 32 bits, NUL in text, over-long VARCHARs), so only there do those
gaps show as 5xx.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import schemathesis  # in the test extras, so a missing install fails instead of skipping
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis import GenerationMode

from contest.settings import REPO_ROOT, Settings
from tests.conftest import login
from tests.integration.live_seed import seed_live

FUZZ_EXAMPLES = int(os.environ.get("CONTEST_FUZZ_EXAMPLES", "12"))
BUDGET_SECONDS = int(os.environ.get("CONTEST_FUZZ_BUDGET", "90"))  # a hard stop for the whole fuzz; a normal run takes under a minute
SKIP_PATHS = ("/logout",)  # would sign the fuzzer out and turn the rest into 401s
FIELDS = [
    "name",
    "year",
    "level",
    "category",
    "policy_id",
    "organizer",
    "start_date",
    "end_date",
    "show_provisional",
    "skill_code",
    "skill_name",
    "is_team",
    "team_size",
    "id_number",
    "unit_id",
    "person_id",
    "role",
    "reason",
    "station",
    "seconds",
    "signer",
    "seed",
    "value",
    "q",
    "stations",
    "criteria",
    "weight",
    "max_mark",
    "step",
    "kind",
    "panel_size",
    "aggregation",
    "amount",
    "policy",
    "username",
    "password",
    "code",
    "region",
    "contact",
    "entry_id",
    "decision",
    "note",
    "days",
]
FORM = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(min_size=1, max_size=8),
    st.text(max_size=24) | st.integers(-(2**40), 2**40).map(str) | st.sampled_from(["", "0", "-1", "1e309", "NaN", "2026-02-30", "on"]),
    max_size=6,
)


def _send(client: TestClient, case, form: dict | None, csrf: str) -> int:
    kwargs = case.as_transport_kwargs(base_url="http://testserver.local")
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in ("content-length", "host", "cookie")}
    if kwargs["method"].upper() not in ("GET", "HEAD", "OPTIONS"):
        headers["x-csrftoken"] = csrf
    request = {"params": kwargs.get("params"), "headers": headers}
    if kwargs.get("json") is not None:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["data" if isinstance(kwargs["data"], dict) else "content"] = kwargs["data"]
    elif form is not None:
        request["data"] = form
    response = client.request(kwargs["method"], kwargs["url"], follow_redirects=False, **request)
    return response.status_code


def _strategies(operation):
    """Cases as described (positive) and breaking the description (negative), plus positive cases
    whose ids are those of real rows (1 and 2), so the handlers behind the 404s are reached too."""
    cases = operation.as_strategy(GenerationMode.POSITIVE)
    ids = [p.name for p in operation.path_parameters]
    if ids:
        for real in (1, 2):
            cases = cases | operation.as_strategy(GenerationMode.POSITIVE, path_parameters={name: real for name in ids})
    if len(operation.body) or ids or operation.query:
        cases = cases | operation.as_strategy(GenerationMode.NEGATIVE)
    return cases


@pytest.fixture(name="settings")
def backend_settings(request, tmp_path: Path) -> Settings:
    """SQLite unless the test asks for PostgreSQL (indirect parametrisation)."""
    backend = getattr(request, "param", "sqlite")
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    return Settings(database_url=url, secret_key="test-secret-key-0123456789abcdef", var_dir=tmp_path, seeds_dir=REPO_ROOT / "seeds")


@pytest.mark.parametrize("settings", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)], indirect=True)
@pytest.mark.parametrize("role", ["organizer", "finance"])
def test_openapi_fuzz_finds_no_5xx(app, role_users, migrated, role: str) -> None:
    seed_live(migrated.database_url)
    started = time.monotonic()
    failures: list[str] = []
    exercised = described = 0
    with TestClient(app=app) as client:
        login(client, role_users[role])
        spec = client.get("/schema/openapi.json")
        assert spec.status_code == 200
        schema = schemathesis.openapi.from_dict(spec.json())
        csrf = client.cookies.get("csrftoken") or ""
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here, loudly: the test's point
            if operation.path in SKIP_PATHS or time.monotonic() - started > BUDGET_SECONDS:
                continue
            wants_form = operation.method.upper() == "POST" and len(operation.body) == 0
            described += not wants_form and operation.method.upper() == "POST"

            @settings(
                max_examples=FUZZ_EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=_strategies(operation), form=FORM if wants_form else st.none())
            def fuzz(case, form) -> None:
                status = _send(client, case, form, csrf)
                if status >= 500:
                    body = case.body if not isinstance(case.body, bytes) else case.body[:200]
                    failures.append(f"{case.method} {case.formatted_path} params={case.query} body={body!r} form={form!r} -> {status}")

            fuzz()
            exercised += 1
    assert exercised >= 20, f"only {exercised} operations fuzzed"
    assert described >= 14, f"only {described} form bodies described in the schema"
    print(f"fuzz: {exercised} operations, {time.monotonic() - started:.1f} s, {len(failures)} 5xx")
    assert not failures, "5xx responses:\n" + "\n".join(failures[:200])


# POST routes that read no form field: a button that does one thing (the CSRF token aside).
ACTIONS_WITHOUT_FIELDS = {
    "/logout",
    "/items/{item_id}/judges/{assignment_id}/delete",
    "/conflicts/{conflict_id}/delete",
    "/chief/items/{item_id}/lock",
    "/chief/items/{item_id}/open",
    "/chief/items/{item_id}/reveal",
    "/items/{item_id}/publish",
    "/competitions/{competition_id}/judge-links",
    "/items/{item_id}/results/finalize",
    "/finance/batches/{batch_id}/approve",
    "/finance/batches/{batch_id}/compute",
    "/finance/batches/{batch_id}/correction",
    "/finance/batches/{batch_id}/submit",
    "/competitions/{competition_id}/certificates/codes",
    "/competitions/{competition_id}/certificates/honours/{rule_id}/delete",
    "/competitions/{competition_id}/certificates/seal/delete",
    "/competitions/{competition_id}/delete",
    "/items/{item_id}/delete",
    "/finance/batches/{batch_id}/delete",
}


def test_every_form_a_route_reads_is_described_for_the_fuzzer(app) -> None:
    """A new POST route that reads fields must say which (contest.web.openapi.form_body), or the
    fuzz lane would never send them."""
    spec = app.openapi_schema.to_schema()
    undescribed = {path for path, operations in spec["paths"].items() if "post" in operations and "requestBody" not in operations["post"]}
    assert undescribed == ACTIONS_WITHOUT_FIELDS
