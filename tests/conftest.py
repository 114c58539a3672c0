"""Shared fixtures: a migrated SQLite database per test, the app, a client, users per role.

Lanes: tests marked ``services`` need PostgreSQL/Redis on 127.0.0.1 and ``browser`` tests need
/usr/bin/chromium. Absent, they skip with the reason; with CONTEST_REQUIRE_SERVICES=1 or
CONTEST_REQUIRE_BROWSER=1 (as .ci/run sets) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts import security
from contest.accounts.service import create_user
from contest.app import create_app
from contest.audit.service import Actor
from contest.db.engine import make_engine, make_session_factory
from contest.db.migrate import upgrade
from contest.settings import REPO_ROOT, Settings

# One audit key for the whole run and the servers it starts, as a deployment has one
# (settings made here and sessions made without settings agree on it).
TEST_AUDIT_KEY = "test-audit-key-not-the-csrf-secret-0123456789"
os.environ["CONTEST_AUDIT_KEY"] = TEST_AUDIT_KEY

PASSWORD = "correct-horse-9"

# Cheap password hashing for the tests (the product's cost is ~0.2 s a hash: hundreds of sign-ins
# would take minutes). Verification reads the parameters from each hash, so hashes made either way
# verify. Servers the tests start as subprocesses keep the product's cost.
security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
security._DUMMY_HASH = security._hasher.hash("dummy-password-for-unknown-users")
ROLE_USERS = {"organizer": "org", "chief_judge": "chief", "judge": "judge1", "finance": "fin"}


def require_or_skip(env_var: str, reason: str) -> NoReturn:
    """Skip with a visible reason, or fail when the lane is required."""
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} (required because {env_var}=1)")
    pytest.skip(reason)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        secret_key="test-secret-key-0123456789abcdef",
        var_dir=tmp_path,
        seeds_dir=REPO_ROOT / "seeds",
    )


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    upgrade(settings.database_url)
    return settings


@pytest.fixture
async def db(migrated: Settings) -> AsyncIterator[AsyncSession]:
    engine = make_engine(migrated.database_url)
    factory = make_session_factory(engine)
    async with factory() as session:
        yield session
    await engine.dispose()


async def _create_role_users(database_url: str) -> None:
    engine = make_engine(database_url)
    async with make_session_factory(engine)() as session:
        for role, username in ROLE_USERS.items():
            await create_user(session, Actor.system("tests"), username, PASSWORD, role)
        await session.commit()
    await engine.dispose()


@pytest.fixture
def role_users(migrated: Settings) -> dict[str, str]:
    asyncio.run(_create_role_users(migrated.database_url))
    return dict(ROLE_USERS)


@pytest.fixture
def app(migrated: Settings) -> Litestar:
    return create_app(migrated)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app=app) as test_client:
        yield test_client


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the page embeds (GET sets the cookie; forms echo it back)."""
    page = client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"username": username, "password": password, "_csrf_token": token}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text[:500]


def post_form(client: TestClient, path: str, data: dict | None = None, files: dict | None = None, **kwargs):
    """POST a form with the CSRF token, as a browser would."""
    token = client.cookies.get("csrftoken") or csrf_token(client, "/")
    return client.post(path, data={**(data or {}), "_csrf_token": token}, files=files, follow_redirects=False, **kwargs)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    from tests.services import pg

    if not pg.available():
        require_or_skip("CONTEST_REQUIRE_SERVICES", f"PostgreSQL not reachable at {pg.ADMIN_DSN}")
    name, url = pg.create_database()
    try:
        yield url
    finally:
        pg.drop_database(name)


REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture
def redis_url() -> str:
    """Redis on 127.0.0.1:6379, on its own DB number (CONTEST_TEST_REDIS_DB, default 9) so
    test keys stay apart from a developer's data. Pub/sub channels are server-wide whatever the
    DB number: tests must tolerate foreign messages on them (they only cause extra refreshes)."""
    import redis

    db = int(os.environ.get("CONTEST_TEST_REDIS_DB", "9"))
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means the lane cannot run here
        require_or_skip("CONTEST_REQUIRE_SERVICES", f"Redis not reachable at {REDIS_HOST}:{REDIS_PORT}")
    finally:
        client.close()
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
