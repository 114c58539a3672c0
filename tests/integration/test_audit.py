"""The keyed audit chain: records carry an HMAC under a key outside the database; a changed,
deleted, re-hashed (plain hash or wrong key) or cut-off record is named; checkpoints; the CLI;
the upgrade of a database whose chain was unkeyed; the by-hand check of docs/security.md."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from contest.audit.chain import SEAL_ACTION, Checkpoint, Mac, legacy_digest, payload
from contest.audit.service import Actor, chain_head, record, verified_checkpoint, verify_chain
from contest.cli import main
from contest.db.engine import make_engine, make_session_factory
from contest.db.migrate import upgrade
from contest.db.models import AuditRecord
from contest.settings import REPO_ROOT
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.seed import seed

OTHER_KEY = "a-key-the-forger-made-up-0123456789abcdef"


def _run(url: str, work):
    async def runner():
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def _sql(url: str, *statements: str) -> None:
    async def work(db):
        for statement in statements:
            await db.execute(text(statement))
        await db.commit()

    _run(url, work)


def _verify(url: str, checkpoint: Checkpoint | None = None):
    return _run(url, lambda db: verify_chain(db, checkpoint))


def _records(url: str) -> list[AuditRecord]:
    async def work(db):
        return list((await db.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars())

    return _run(url, work)


def _append(url: str, n: int) -> None:
    """Records written the normal way (the service, in a transaction)."""

    async def work(db):
        for i in range(n):
            await record(db, Actor.system("tests"), "test.more", "thing", i, {"i": i})
        await db.commit()

    _run(url, work)


def _rewrite_from(url: str, first_id: int, sign, change: dict | None = None) -> None:
    """What a forger with database access does: edit record `first_id` and recompute every
    link and checksum from there on with `sign` (a plain hash, or a MAC under a key of his own)."""

    async def work(db):
        rows = list((await db.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars())
        prev = ""
        for rec in rows:
            if rec.id == first_id and change:
                rec.detail = change
            if rec.id >= first_id:
                rec.prev_hash = prev
                rec.hash = sign(
                    payload(prev, rec.at, rec.actor_id, rec.actor, rec.device, rec.action, rec.entity, rec.entity_id, rec.detail)
                )
            prev = rec.hash
        await db.commit()

    _run(url, work)


def test_records_carry_a_keyed_mac_and_the_chain_verifies(migrated) -> None:
    seed(migrated.database_url)
    count, problems = _verify(migrated.database_url)
    assert count >= 10 and problems == []
    records = _records(migrated.database_url)
    mac = Mac(TEST_AUDIT_KEY)
    for rec in records:
        data = payload(rec.prev_hash, rec.at, rec.actor_id, rec.actor, rec.device, rec.action, rec.entity, rec.entity_id, rec.detail)
        assert rec.hash == mac(data) != legacy_digest(data)


def test_a_changed_record_is_named(migrated) -> None:
    seed(migrated.database_url)
    _sql(migrated.database_url, 'UPDATE audit_log SET detail = \'{"seed": "forged"}\' WHERE id = 3')
    _, problems = _verify(migrated.database_url)
    assert [p.record_id for p in problems] == [3]
    assert "篡改" in problems[0].problem and "MAC" in problems[0].problem


def test_a_deleted_record_is_named_by_its_successor(migrated) -> None:
    seed(migrated.database_url)
    _sql(migrated.database_url, "DELETE FROM audit_log WHERE id = 5")
    _, problems = _verify(migrated.database_url)
    assert [p.record_id for p in problems] == [6]
    assert "记录 4" in problems[0].problem and "缺失" in problems[0].problem


def test_deleting_the_first_records_is_named(migrated) -> None:
    seed(migrated.database_url)
    _sql(migrated.database_url, "DELETE FROM audit_log WHERE id <= 2")
    _, problems = _verify(migrated.database_url)
    assert [p.record_id for p in problems] == [3] and "此前的记录缺失" in problems[0].problem


def test_a_chain_recomputed_with_a_plain_hash_is_caught(migrated) -> None:
    """The attack that beat the unkeyed chain: edit, then recompute every hash after it."""
    seed(migrated.database_url)
    _rewrite_from(migrated.database_url, 4, legacy_digest, {"seed": "forged"})
    _, problems = _verify(migrated.database_url)
    assert problems[0].record_id == 4 and "不带密钥的普通哈希" in problems[0].problem
    assert {p.record_id for p in problems} == {r.id for r in _records(migrated.database_url) if r.id >= 4}


def test_a_chain_recomputed_with_another_key_is_caught(migrated) -> None:
    seed(migrated.database_url)
    _rewrite_from(migrated.database_url, 4, Mac(OTHER_KEY), {"seed": "forged"})
    _, problems = _verify(migrated.database_url)
    assert problems[0].record_id == 4 and "MAC 不符" in problems[0].problem
    assert all(p.record_id >= 4 for p in problems)


def test_a_whole_chain_under_another_key_says_the_key_is_wrong(migrated) -> None:
    seed(migrated.database_url)
    _rewrite_from(migrated.database_url, 1, Mac(OTHER_KEY))
    _, problems = _verify(migrated.database_url)
    assert problems[0].record_id == 0 and "审计密钥不对" in problems[0].problem
    assert len(problems) == 1 + len(_records(migrated.database_url))


def _checkpoint(url: str) -> Checkpoint:
    count, problems, checkpoint = _run(url, verified_checkpoint)
    assert problems == [] and checkpoint is not None and checkpoint.records == count
    return checkpoint


def test_records_cut_off_the_end_show_against_a_checkpoint(migrated) -> None:
    seed(migrated.database_url)
    checkpoint = _checkpoint(migrated.database_url)
    last = _records(migrated.database_url)[-1]
    assert (checkpoint.last_id, checkpoint.mac) == (last.id, last.hash)
    assert _verify(migrated.database_url, checkpoint) == (checkpoint.records, [])
    _sql(migrated.database_url, f"DELETE FROM audit_log WHERE id > {last.id - 2}")
    # Without a checkpoint a clean cut cannot be seen: what is left is a valid chain.
    assert _verify(migrated.database_url)[1] == []
    _, problems = _verify(migrated.database_url, checkpoint)
    assert [p.record_id for p in problems] == [last.id]
    assert "2 条记录被删除" in problems[0].problem


def test_records_after_a_checkpoint_are_fine_but_a_replaced_one_is_not(migrated) -> None:
    seed(migrated.database_url)
    checkpoint = _checkpoint(migrated.database_url)
    _append(migrated.database_url, 3)
    assert _verify(migrated.database_url, checkpoint)[1] == []
    # A forger who cannot make a MAC deletes the tail and lets the app write new records: the
    # count is back, and the chain itself is valid, but the record at the checkpoint's place differs.
    _sql(migrated.database_url, f"DELETE FROM audit_log WHERE id >= {checkpoint.last_id}")
    _append(migrated.database_url, 1)
    assert _verify(migrated.database_url)[1] == []
    _, problems = _verify(migrated.database_url, checkpoint)
    assert len(problems) == 1 and f"检查点时第 {checkpoint.records} 条是记录 {checkpoint.last_id}" in problems[0].problem


def test_a_checkpoint_of_another_key_is_told_apart(migrated) -> None:
    seed(migrated.database_url)
    checkpoint = _checkpoint(migrated.database_url)
    foreign = Checkpoint(checkpoint.records, checkpoint.last_id, checkpoint.mac, checkpoint.at, Mac(OTHER_KEY).key_id)
    _, problems = _verify(migrated.database_url, foreign)
    assert [p.record_id for p in problems] == [0] and "另一把审计密钥" in problems[0].problem


def test_the_head_is_the_count_and_the_last_mac(migrated) -> None:
    assert _run(migrated.database_url, chain_head).records == 0
    seed(migrated.database_url)
    head = _run(migrated.database_url, chain_head)
    records = _records(migrated.database_url)
    assert (head.records, head.last_id, head.mac) == (len(records), records[-1].id, records[-1].hash)


@pytest.fixture
def cli_env(migrated, monkeypatch):
    monkeypatch.setenv("CONTEST_DATABASE_URL", migrated.database_url)
    monkeypatch.setenv("CONTEST_VAR_DIR", str(migrated.var_dir))
    return migrated


def test_cli_checkpoint_and_verify(cli_env, tmp_path: Path) -> None:
    seed(cli_env.database_url)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    printed = runner.invoke(main, ["audit", "checkpoint"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["records"] == len(_records(cli_env.database_url))
    file = tmp_path / "checkpoint.json"
    assert runner.invoke(main, ["audit", "checkpoint", "--out", str(file)]).exit_code == 0
    assert Checkpoint.from_json(file.read_text()).mac == json.loads(printed.stdout)["mac"]
    against = runner.invoke(main, ["audit", "verify", "--checkpoint", str(file)])
    assert against.exit_code == 0 and "matches the checkpoint" in against.output

    last = _records(cli_env.database_url)[-1].id
    _sql(cli_env.database_url, f"DELETE FROM audit_log WHERE id = {last}")
    assert runner.invoke(main, ["audit", "verify"]).exit_code == 0  # a cut end needs the checkpoint
    cut = runner.invoke(main, ["audit", "verify", "--checkpoint", str(file)])
    assert cut.exit_code == 1 and f"最后一条是记录 {last}" in cut.stderr

    _sql(cli_env.database_url, "UPDATE audit_log SET actor = 'someone-else' WHERE id = 2")
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1 and "记录 2 " in bad.stderr
    refused = runner.invoke(main, ["audit", "checkpoint", "--out", str(tmp_path / "no.json")])
    assert refused.exit_code == 1 and not (tmp_path / "no.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "不是有效的 JSON"),
        ('{"records": 1}', "格式不对"),
        ('{"format": "contest-audit-checkpoint/1", "records": 1}', "缺少字段"),
    ],
)
def test_cli_refuses_an_unreadable_checkpoint(cli_env, tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "bad.json"
    file.write_text(content)
    result = CliRunner().invoke(main, ["audit", "verify", "--checkpoint", str(file)])
    assert result.exit_code == 2 and message in result.output


# ---------------------------------------------------------------- upgrading an unkeyed chain


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def fresh_url(request, settings) -> str:
    return settings.database_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


def _legacy_chain(url: str, n: int) -> None:
    """Records as the code before the keyed chain wrote them (plain SHA-256), at revision 0005."""
    prev = ""
    statements = []
    for i in range(1, n + 1):
        at = datetime(2026, 5, 1, 8, 0, i, 1000 * i, tzinfo=UTC)
        detail = {"n": i, "名称": "旧记录"}
        digest = legacy_digest(payload(prev, at, None, "legacy", "cli", "test.old", "thing", str(i), detail))
        stored_at = at.replace(tzinfo=None).isoformat(sep=" ") + ("" if url.startswith("sqlite") else "+00")
        detail_json = json.dumps(detail).replace("'", "''")
        statements.append(
            "INSERT INTO audit_log (at, actor_id, actor, device, action, entity, entity_id, detail, prev_hash, hash) "
            f"VALUES ('{stored_at}', NULL, 'legacy', 'cli', 'test.old', 'thing', '{i}', '{detail_json}', '{prev}', '{digest}')"
        )
        prev = digest
    _sql(url, *statements)


def test_upgrade_seals_an_unkeyed_chain_and_keeps_its_records(fresh_url: str) -> None:
    url = fresh_url
    upgrade(url, "0005")
    _legacy_chain(url, 4)
    upgrade(url, audit_key=TEST_AUDIT_KEY)
    records = _records(url)
    assert [r.action for r in records] == ["test.old"] * 4 + [SEAL_ACTION]
    seal = records[-1]
    assert seal.detail == {"legacy_records": 4, "legacy_head": records[3].hash, "legacy_last_id": 4}
    seed(url)  # new records chain on from the seal
    assert _verify(url)[1] == []
    upgrade(url)  # nothing to seal again
    assert len([r for r in _records(url) if r.action == SEAL_ACTION]) == 1


def test_after_the_seal_old_records_are_as_safe_as_new_ones(fresh_url: str) -> None:
    url = fresh_url
    upgrade(url, "0005")
    _legacy_chain(url, 4)
    upgrade(url)
    _sql(url, "UPDATE audit_log SET entity_id = '99' WHERE id = 2")
    _, problems = _verify(url)
    assert [p.record_id for p in problems] == [2] and "旧记录" in problems[0].problem
    # Recomputing the old records' plain hashes does not help: the seal's MAC covers their head.
    _rewrite_plain_legacy(url, upto=4)
    _, problems = _verify(url)
    assert 5 in {p.record_id for p in problems} and all(p.record_id == 5 for p in problems)
    # Nor does turning the seal into an ordinary old record: without the key its MAC cannot be made.
    _sql(url, f"UPDATE audit_log SET action = 'test.old' WHERE action = '{SEAL_ACTION}'")
    assert any(p.record_id == 1 for p in _verify(url)[1])


def _rewrite_plain_legacy(url: str, upto: int) -> None:
    async def work(db):
        prev = ""
        for rec in (await db.execute(select(AuditRecord).where(AuditRecord.id <= upto).order_by(AuditRecord.id))).scalars():
            rec.prev_hash = prev
            rec.hash = legacy_digest(
                payload(prev, rec.at, rec.actor_id, rec.actor, rec.device, rec.action, rec.entity, rec.entity_id, rec.detail)
            )
            prev = rec.hash
        await db.commit()

    _run(url, work)


# ---------------------------------------------------------------- the by-hand check of docs/security.md


def test_the_documented_by_hand_check_agrees_with_verify(cli_env, tmp_path: Path) -> None:
    """docs/security.md's few lines of Python, run as written on a SQLite database."""
    doc = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    script = re.search(r"```python\n(# check_checkpoint\.py.*?)```", doc, re.S)
    assert script, "docs/security.md lost its by-hand check"
    (tmp_path / "check_checkpoint.py").write_text(script.group(1))
    seed(cli_env.database_url)
    file = tmp_path / "checkpoint.json"
    assert CliRunner().invoke(main, ["audit", "checkpoint", "--out", str(file)]).exit_code == 0
    database = cli_env.database_url.split("///", 1)[1]

    def by_hand() -> subprocess.CompletedProcess:
        env = {"AUDIT_KEY": TEST_AUDIT_KEY, "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [sys.executable, "check_checkpoint.py", database, str(file)], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    good = by_hand()
    assert good.returncode == 0 and "OK" in good.stdout, good.stdout + good.stderr
    _sql(cli_env.database_url, "UPDATE audit_log SET entity_id = 'x' WHERE id = 3")
    bad = by_hand()
    assert bad.returncode == 1 and "3" in bad.stdout


def test_the_documented_openssl_key_id_matches(tmp_path: Path) -> None:
    doc = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    line = next(line for line in doc.splitlines() if line.startswith("printf 'contest audit key id'"))
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "audit_key").write_text(TEST_AUDIT_KEY)
    result = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == Mac(TEST_AUDIT_KEY).key_id


def test_the_results_page_shows_the_current_head(app, role_users, migrated) -> None:
    from litestar.testing import TestClient

    from tests.conftest import login

    ids = seed(migrated.database_url)
    with TestClient(app=app) as client:
        login(client, "org")
        page = client.get(f"/items/{ids['item_id']}/results").text
    head = _run(migrated.database_url, chain_head)  # viewing the page wrote no record
    line = re.search(r'<p class="audit-head" id="audit-head">(.*?)</p>', page, re.S)
    assert line and "审计链校验点" in line.group(1)
    assert f"{head.records} 条记录" in line.group(1) and head.mac in line.group(1)
    assert head.key_id and f'key_id <span class="mono">{head.key_id}</span>' in line.group(1)  # what a checkpoint file needs
