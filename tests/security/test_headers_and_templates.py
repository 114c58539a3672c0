"""Escaping by construction: security headers on every response, and templates that cannot run
user text (no |safe on user data, no inline script or handlers, JSON through |tojson)."""

from __future__ import annotations

import re

import pytest

from contest.settings import REPO_ROOT
from contest.web.headers import CONTENT_SECURITY_POLICY
from tests.conftest import login, post_form

TEMPLATES = sorted((REPO_ROOT / "templates").rglob("*.html"))

# |safe is allowed only on values the code builds itself, never on anything a user typed.
REVIEWED_SAFE = {
    "csrf_input",  # Litestar's hidden <input> with the CSRF token
}


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "path", ["/", "/login", "/static/css/app.css", "/healthz", "/no-such-page", "/public/competitions/999", "/schema/openapi.json"]
)
def test_every_response_carries_the_security_headers(client, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def test_redirects_and_refusals_carry_them_too(client, role_users) -> None:
    assert "content-security-policy" in client.get("/competitions", follow_redirects=False).headers  # redirect to login
    login(client, role_users["judge"])
    refused = post_form(client, "/units", {"name": "x"})
    assert refused.status_code == 403 and "content-security-policy" in refused.headers


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(REPO_ROOT / "templates")))
def test_templates_cannot_run_what_they_show(template) -> None:
    source = template.read_text(encoding="utf-8")
    for expression in re.findall(r"\{\{\s*([^}]*?)\s*\|\s*safe\s*\}\}", source):
        assert expression in REVIEWED_SAFE, f"|safe on {expression!r}: escape it, or review it and list it here"
    assert "Markup(" not in source
    for attributes in re.findall(r"<script\b([^>]*)>", source):
        assert "src=" in attributes or 'type="application/json"' in attributes, f"inline <script{attributes}>: move it to static/js"
    for match in re.finditer(r'<script\b[^>]*type="application/json"[^>]*>(.*?)</script>', source, re.S):
        body = match.group(1).strip()
        assert body.startswith("{{") and body.endswith("| tojson }}"), "JSON in a page goes through |tojson"
    assert not re.search(r"\son[a-z]+\s*=", source), "inline event handler: use addEventListener in static/js"
    assert not re.search(r"\sstyle\s*=", source), "style attribute: the policy refuses it; use a class"
    assert "javascript:" not in source
