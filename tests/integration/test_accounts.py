"""Sign-in, throttling, sessions shared across app instances, CSRF on forms."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, select

from contest.app import create_app
from contest.cli import main
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import AuditRecord, Competition, User, UserSession
from tests.conftest import PASSWORD, csrf_token, login, post_form


def _count(url: str, model) -> int:
    async def run() -> int:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            value = (await db.execute(select(func.count()).select_from(model))).scalar_one()
        await engine.dispose()
        return value

    return asyncio.run(run())


def test_password_is_stored_as_argon2id(role_users, migrated) -> None:
    async def hashes() -> list[str]:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            rows = (await db.execute(select(User.password_hash))).scalars().all()
        await engine.dispose()
        return [h for h in rows if h is not None]

    stored = asyncio.run(hashes())
    assert stored and all(h.startswith("$argon2id$") for h in stored)
    assert PASSWORD not in "".join(stored)


def test_login_with_wrong_password_is_refused_in_chinese(client, role_users) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": "org", "password": "wrong-password", "_csrf_token": token})
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text
    assert client.get("/competitions", follow_redirects=False).status_code == 302


def test_login_redirects_to_the_role_home_and_opens_pages(client, role_users) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": "judge1", "password": PASSWORD, "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/tablet"
    assert client.get("/tablet").status_code == 200


def test_login_next_must_be_a_local_path(client, role_users) -> None:
    token = csrf_token(client)
    data = {"username": "org", "password": PASSWORD, "next": "//evil.example/x", "_csrf_token": token}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.headers["location"] == "/competitions"


def test_throttling_refuses_even_the_right_password_after_repeated_failures(client, role_users, migrated) -> None:
    for _ in range(migrated.login_max_failures):
        token = csrf_token(client)
        client.post("/login", data={"username": "org", "password": "nope-nope", "_csrf_token": token})
    token = csrf_token(client)
    response = client.post("/login", data={"username": "org", "password": PASSWORD, "_csrf_token": token})
    assert response.status_code == 400
    assert "登录失败次数过多" in response.text
    assert _count(migrated.database_url, UserSession) == 0


def test_throttle_is_shared_by_two_app_instances(role_users, migrated) -> None:
    """Counted in the database: failures on one process count on the other."""
    with TestClient(app=create_app(migrated)) as first:
        for _ in range(migrated.login_max_failures):
            first.post("/login", data={"username": "fin", "password": "bad-pass-1", "_csrf_token": csrf_token(first)})
    with TestClient(app=create_app(migrated)) as second:
        response = second.post("/login", data={"username": "fin", "password": PASSWORD, "_csrf_token": csrf_token(second)})
        assert "登录失败次数过多" in response.text


def test_session_from_one_instance_is_valid_on_another_and_logout_ends_it(role_users, migrated) -> None:
    with TestClient(app=create_app(migrated)) as first, TestClient(app=create_app(migrated)) as second:
        login(first, "org")
        second.cookies.update(first.cookies)
        assert second.get("/competitions", follow_redirects=False).status_code == 200
        response = post_form(first, "/logout")
        assert response.status_code in (302, 303)
        assert second.get("/competitions", follow_redirects=False).status_code == 302
    assert _count(migrated.database_url, UserSession) == 0


def test_form_post_without_csrf_token_is_refused_and_changes_nothing(client, role_users, migrated) -> None:
    login(client, "org")
    data = {"name": "无令牌赛事", "year": "2026", "level": "municipal", "category": "1"}
    response = client.post("/competitions", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "CSRF" in response.text and "刷新页面" in response.text
    wrong = client.post("/competitions", data={**data, "_csrf_token": "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert _count(migrated.database_url, Competition) == 0
    ok = post_form(client, "/competitions", data)
    assert ok.status_code == 302
    assert _count(migrated.database_url, Competition) == 1


def test_login_form_itself_needs_the_csrf_token(client, role_users) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "org", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


def test_api_style_errors_are_machine_readable(client, role_users) -> None:
    response = client.get("/competitions", headers={"accept": "application/json"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"


# ---------------------------------------------------------------- usernames


@pytest.mark.parametrize("spelling", ["ORG", "Org", "ｏｒｇ", " org "])
def test_sign_in_finds_the_account_however_the_name_is_typed(client, role_users, spelling: str) -> None:
    response = client.post(
        "/login", data={"username": spelling, "password": PASSWORD, "_csrf_token": csrf_token(client)}, follow_redirects=False
    )
    assert response.status_code == 302 and response.headers["location"] == "/competitions"


def _users_create(migrated, monkeypatch, name: str):
    monkeypatch.setenv("CONTEST_DATABASE_URL", migrated.database_url)
    monkeypatch.setenv("CONTEST_VAR_DIR", str(migrated.var_dir))
    return CliRunner().invoke(main, ["users", "create", name, "judge", "--password", "long-enough-1"])


REFUSED_NAMES = [
    ("ORG", "用户名「org」已存在(用户名不区分大小写和全角/半角,「ORG」即「org」)"),
    ("ｏｒｇ", "用户名「org」已存在"),
    ("0rg", "用户名「0rg」与已有账号「org」形似"),
    ("judgel", "与已有账号「judge1」形似"),
    ("оrg", "「о」是西里尔字母,与英文字母「o」形似,不能使用;用户名只能由英文字母、数字和「.」「_」「-」组成;与已有账号「org」形似"),
    ("<script>", "用户名不能包含「<」"),
    ("x", "用户名应为 2-32 个字符"),
]


def test_users_create_refuses_unsafe_names_and_look_alikes(role_users, migrated, monkeypatch) -> None:
    users_before, audit_before = _count(migrated.database_url, User), _count(migrated.database_url, AuditRecord)
    for name, message in REFUSED_NAMES:
        result = _users_create(migrated, monkeypatch, name)
        assert result.exit_code == 1 and message in result.output, (name, result.output)
    assert (_count(migrated.database_url, User), _count(migrated.database_url, AuditRecord)) == (users_before, audit_before)


def test_users_create_stores_the_normalised_name(role_users, migrated, monkeypatch) -> None:
    result = _users_create(migrated, monkeypatch, "Li.Wei")
    assert result.exit_code == 0 and "li.wei" in result.output

    async def stored() -> tuple[str, str]:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            user = (await db.execute(select(User).where(User.username == "li.wei"))).scalar_one()
        await engine.dispose()
        return user.username, user.username_skeleton

    assert asyncio.run(stored()) == ("li.wei", "ll-wel")
    password = CliRunner().invoke(main, ["users", "password", "LI.WEI", "--password", "another-pass-2"])
    assert password.exit_code == 0
