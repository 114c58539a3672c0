"""Policy files: the seeds load, and bad files fail naming the file, the key and the problem."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from contest.awards.policies import (
    load_policy,
    load_policy_file,
    policies_dir,
    seeds_dir,
)
from contest.domain.awards import PolicyError, validate_policy

from .builders import LONGJIANG, THIRD, WEIHAI

MINIMAL = """
schema = 1
id = "mini"
name = "最小政策"
document = "某文件"
[payers.city]
name = "某市人社局"
[[tiers]]
id = "p1"
title = "第1名"
source = "第1名奖励1000元"
payer = "city"
results = ["place:1"]
competitor = { fixed = "1000" }
"""


def problems_of(text: str, file: str = "bad.toml") -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        validate_policy(tomllib.loads(text), file)
    assert caught.value.file == file
    assert file in str(caught.value)
    return caught.value.problems


def test_minimal_policy_is_valid() -> None:
    policy = validate_policy(tomllib.loads(MINIMAL), "mini.toml")
    competitor = policy.tier("p1").competitor
    assert policy.id == "mini" and competitor is not None and competitor.fixed is not None


@pytest.mark.parametrize("path", [WEIHAI, LONGJIANG, THIRD])
def test_policy_files_load_and_every_tier_quotes_its_source(path: Path) -> None:
    policy = load_policy_file(path)
    assert policy.tiers
    for tier in policy.tiers:
        assert tier.source and tier.title and tier.payer in policy.payers


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (('competitor = { fixed = "1000" }', "competitor = { fixed = 1000.5 }"), "tiers[0].competitor.fixed", "浮点"),
        (('competitor = { fixed = "1000" }', 'competitor = { fixed = "10万" }'), "tiers[0].competitor.fixed", "金额格式"),
        (('competitor = { fixed = "1000" }', 'competitor = { most = "1000" }'), "tiers[0].competitor.most", "未知的键"),
        (
            ('competitor = { fixed = "1000" }', 'competitor = { floor = "500", cap = "100", default = "100" }'),
            "tiers[0].competitor",
            "大于",
        ),
        (('competitor = { fixed = "1000" }', 'competitor = { cap = "100", default = "200" }'), "tiers[0].competitor.default", "超过上限"),
        (('competitor = { fixed = "1000" }', 'competitor = { floor = "1", cap = "9" }'), "tiers[0].competitor.default", "default"),
        (('competitor = { fixed = "1000" }', "competitor = { }"), "tiers[0].competitor", "fixed"),
        (('results = ["place:1"]', 'results = ["first"]'), "tiers[0].results[0]", "无效"),
        (('results = ["place:1"]', 'results = ["place:0"]'), "tiers[0].results[0]", "无效"),
        (('payer = "city"', 'payer = "county"'), "tiers[0].payer", "未定义的支付方"),
        (('payer = "city"', 'payer = "city"\nlevels = ["county"]'), "tiers[0].levels[0]", "无效"),
        (('payer = "city"', 'payer = "city"\nclasses = [3]'), "tiers[0].classes", "一类"),
        (('payer = "city"', 'payer = "city"\nsorce = "typo"'), "tiers[0].sorce", "未知的键"),
        (('source = "第1名奖励1000元"\n', ""), "tiers[0].source", "缺少必填项"),
        (('id = "p1"', 'id = "P 1"'), "tiers[0].id", "小写"),
        (("schema = 1", "schema = 2"), "schema", "版本"),
        (('document = "某文件"', 'document = "某文件"\n[rules]\nledger_mode = "sometimes"'), "rules.ledger_mode", "top_up"),
        (('document = "某文件"', 'document = "某文件"\n[eligibility]\nmin_age = 50\nmax_age = 40'), "eligibility.min_age", "大于"),
        (('document = "某文件"', 'document = "某文件"\n[in_force]\nfrom = "yesterday"'), "in_force.from", "日期"),
    ],
)
def test_validation_error_names_key_and_problem(change: tuple[str, str], key: str, words: str) -> None:
    old, new = change
    assert old in MINIMAL
    found = problems_of(MINIMAL.replace(old, new, 1))
    assert any(k == key and words in problem for k, problem in found), found


def test_duplicate_tier_ids_and_unknown_honour_tier() -> None:
    text = (
        MINIMAL
        + MINIMAL[MINIMAL.index("[[tiers]]") :]
        + """
[[honours]]
id = "h"
title = "荣誉"
source = "原文"
tiers = ["nope"]
"""
    )
    found = dict(problems_of(text))
    assert "重复" in found["tiers[1].id"]
    assert "未定义的档次" in found["honours[0].tiers[0]"]


def test_every_problem_is_reported_at_once() -> None:
    text = MINIMAL.replace('payer = "city"', 'payer = "nobody"').replace('"place:1"', '"place:x"')
    keys = {k for k, _ in problems_of(text)}
    assert {"tiers[0].payer", "tiers[0].results[0]"} <= keys


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    assert str(path) in str(caught.value) and "TOML" in str(caught.value)


def test_load_by_id_and_by_path() -> None:
    assert load_policy("jinengxingwei-weihai-2021").id == "jinengxingwei-weihai-2021"
    assert load_policy(str(LONGJIANG)).id == "longjisaichang-heilongjiang-2022"
    with pytest.raises(PolicyError, match="找不到"):
        load_policy("no-such-policy")


def test_seeds_dir_is_the_repository_seeds_and_can_be_overridden(tmp_path: Path, monkeypatch) -> None:
    assert seeds_dir() == Path(__file__).resolve().parents[3] / "seeds"
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "renamed.toml").write_text(MINIMAL, encoding="utf-8")
    monkeypatch.setenv("CONTEST_SEEDS_DIR", str(tmp_path))
    assert policies_dir() == tmp_path / "policies"
    assert load_policy("mini").name == "最小政策"  # found by the id inside the file
