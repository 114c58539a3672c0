"""What real award notices say, written as policy data only (seeds/policies/examples/): the entry's
size, the result's group, place ranges and shares of the field, honour-only tiers, honours for the
lead coach with titles naming the occupation, 排名不并列, and tax withheld at a rate."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.awards.policies import load_policy_file
from contest.domain.awards import AwardError, BatchSettings, PolicyError, compute_awards, validate_policy
from contest.domain.awards.policy import Withholding
from contest.domain.money import Money

from .builders import REPO, achievement, competition, longjiang, person
from .test_awards_policy_schema import MINIMAL

EXAMPLES = REPO / "seeds" / "policies" / "examples"
PROVINCIAL = competition("provincial", 1, year=2025, name="2025年某省职业技能大赛")
DALIAN = competition("municipal", 1, year=2021, name="第十二届大连市职业技能竞赛")


def sizes():
    return load_policy_file(EXAMPLES / "entry-sizes.toml")


def dalian():
    return load_policy_file(EXAMPLES / "dalian-12th-2021.toml")


def paid(outcome, role: str = "competitor") -> dict[str, Money]:
    return {line.recipient_name: line.amount for line in outcome.lines if line.role == role}


def team(*names: str):
    return [person(name) for name in names]


# --- entry size: individual top three, pair top two, team first place only -----------------------


@pytest.mark.parametrize(
    ("members", "place", "expected"),
    [
        (1, "第1名", {"甲": Money("8000")}),
        (1, "第3名", {"甲": Money("3000")}),
        (2, "第1名", {"甲": Money("5000"), "乙": Money("5000")}),  # per entry, split equally
        (2, "第2名", {"甲": Money("3000"), "乙": Money("3000")}),
        (2, "第3名", {}),  # a pair's third place is not paid
        (3, "第1名", {"甲": Money("5000"), "乙": Money("5000"), "丙": Money("5000")}),
        (3, "第2名", {}),  # a team's second place is not paid
    ],
)
def test_the_tier_follows_the_entry_size(members: int, place: str, expected) -> None:
    entry = achievement(PROVINCIAL, place, members=team(*"甲乙丙"[:members]))
    outcome = compute_awards(sizes(), [entry])
    assert paid(outcome) == expected
    if not expected:
        [*reasons] = {e.reason for e in outcome.excluded}
        assert "不在本政策奖励范围" in reasons[0] and (f"{members}人参赛单元" in reasons[0])


def test_a_declared_size_counts_members_the_file_does_not_list() -> None:
    """An external result naming only our member of a pair: the pair tier, and half the entry's amount."""
    ours = achievement(PROVINCIAL, "第1名", members=team("甲"))
    outcome = compute_awards(sizes(), [replace(ours, entry_size=2)])
    [line] = outcome.lines
    assert (line.tier_id, line.entitled) == ("pair-1st", Money("5000"))
    assert "平均分为 2 份" in line.notes[0]
    alone = compute_awards(sizes(), [ours])  # the same person counted alone: the individual tier
    assert alone.lines[0].tier_id == "individual-1st"


def test_the_coaching_team_of_a_team_winner() -> None:
    coaches = team("教练甲", "教练乙")
    outcome = compute_awards(sizes(), [achievement(PROVINCIAL, "第1名", members=team(*"甲乙丙"), coaches=coaches)])
    assert paid(outcome, "coach") == {"教练甲": Money("1500"), "教练乙": Money("1500")}


# --- 排名不并列 --------------------------------------------------------------------------------


def test_tied_places_are_refused_under_no_ties() -> None:
    first = achievement(PROVINCIAL, "第2名", item="焊工", id="R1")
    second = achievement(PROVINCIAL, "第2名", item="焊工", id="R2")
    with pytest.raises(AwardError) as caught:
        compute_awards(sizes(), [first, second])
    message = str(caught.value)
    assert "排名不并列" in message and "焊工" in message and "2 个第2名" in message and "R1、R2" in message
    # the same place in another item, or in another group of the item, is no tie
    other = achievement(PROVINCIAL, "第2名", item="电工", id="R3")
    grouped = replace(achievement(PROVINCIAL, "第2名", item="焊工", id="R4"), group="学生组")
    assert len(compute_awards(sizes(), [first, other, grouped]).lines) == 3
    # a policy without the rule takes ties as they are
    tolerant = replace(sizes(), rules=replace(sizes().rules, no_ties=False))
    assert len(compute_awards(tolerant, [first, second]).lines) == 2


# --- a share of the field, honour-only tiers, honours with their own condition -----------------


def test_top_half_of_the_field_gets_the_honour_and_no_money() -> None:
    seventh = replace(achievement(PROVINCIAL, "第7名", members=[person("第七")]), field_size=15)
    eighth = replace(achievement(PROVINCIAL, "第8名", members=[person("第八")]), field_size=15)
    unknown = achievement(PROVINCIAL, "第5名", members=[person("无规模")])
    outcome = compute_awards(sizes(), [seventh, eighth, unknown])
    assert outcome.lines == []  # an honour-only tier is never a 0-yuan line
    assert [(h.recipient_name, h.title) for h in outcome.honours] == [("第七", "晋升相应职业技能等级")]
    reasons = {e.recipient_name: e.reason for e in outcome.excluded}
    assert set(reasons) == {"第八", "无规模"}  # 8 of 15 is outside the top half (7.5, rounded down)
    assert "未提供参赛规模" in reasons["无规模"] and "未提供参赛规模" not in reasons["第八"]


def test_an_excellence_result_in_the_file_is_an_honour_too() -> None:
    outcome = compute_awards(sizes(), [achievement(PROVINCIAL, "优胜奖", members=[person("优胜")])])
    assert outcome.lines == [] and [h.title for h in outcome.honours] == ["晋升相应职业技能等级"]


def test_an_honour_with_its_own_condition_goes_to_employees_only() -> None:
    worker = achievement(PROVINCIAL, "第1名", members=[person("职工甲", status="职工")], item="焊工")
    student = achievement(PROVINCIAL, "第1名", members=[person("学生乙", status="学生")], item="电工")
    outcome = compute_awards(sizes(), [worker, student])
    titles = {(h.recipient_name, h.title) for h in outcome.honours}
    assert ("职工甲", "推荐授予“某省技术能手”称号") in titles
    assert ("学生乙", "推荐授予“某省技术能手”称号") not in titles
    assert ("学生乙", "晋升相应职业技能等级") in titles  # the honour without a condition
    assert paid(outcome) == {"职工甲": Money("8000"), "学生乙": Money("8000")}  # money for both


# --- groups, place ranges, occupation titles, the lead coach's honour (大连 2021) ---------------


def test_groups_place_ranges_and_titles_that_name_the_occupation() -> None:
    worker = replace(achievement(DALIAN, "第1名", members=[person("职工")], item="焊接", id="D1"), group="非院校组", occupation="焊工")
    fifth = replace(achievement(DALIAN, "第5名", members=[person("第五")], item="焊接", id="D2"), group="非院校组", occupation="焊工")
    coaches = team("主教练", "助理教练")
    student = replace(
        achievement(DALIAN, "第1名", members=[person("学生")], coaches=coaches, lead=0, item="电工", id="D3", skill="6-31-01-03"),
        group="院校组",
    )
    outcome = compute_awards(dalian(), [worker, fifth, student])
    assert paid(outcome) == {"职工": Money("10000"), "第五": Money("2000"), "学生": Money("5000")}
    honours = {(h.recipient_name, h.title, h.role) for h in outcome.honours}
    assert honours == {
        ("职工", "大连市焊工技术标兵", "competitor"),
        ("第五", "大连市焊工技术优胜者", "competitor"),
        ("学生", "大连市电工技术新星", "competitor"),  # no occupation given: the item
        ("主教练", "优秀指导教师", "coach"),
    }  # the main instructor only, not his assistant
    assert paid(outcome, "coach") == {}  # a title for the coach, no money


def test_a_result_without_the_group_the_tiers_require_is_not_covered() -> None:
    outcome = compute_awards(dalian(), [achievement(DALIAN, "第1名")])
    assert outcome.lines == [] and outcome.excluded[0].status == "not_covered"
    eleventh = replace(achievement(DALIAN, "第11名"), group="非院校组")
    assert compute_awards(dalian(), [eleventh]).excluded[0].status == "not_covered"


# --- withholding: rate on individuals' lines, ROUND_HALF_UP to the fen, never on units ----------


def test_withholding_on_individual_lines_rounded_half_up() -> None:
    outcome = compute_awards(sizes(), [achievement(PROVINCIAL, "第1名", members=team(*"甲乙丙"))])
    lines = sorted(outcome.lines, key=lambda line: line.recipient_name)
    assert [line.withheld for line in lines] == [Money("1000")] * 3  # 20% of 5,000
    assert all(line.net == Money("4000") and "20%" in line.withholding for line in lines)
    assert outcome.withholds and outcome.to_dict()["lines"][0]["net"] == "4000.00"
    three_way = Withholding(Decimal("0.2"))
    assert three_way.of(Money("3333.33")) == Money("666.67")  # 666.666 -> 666.67
    assert Withholding(Decimal("0.5")).of(Money("0.01")) == Money("0.01")  # half a fen rounds up
    assert Withholding(Decimal("0.5")).of(Money("-0.01")) == Money("-0.01")  # a reversal mirrors it


def test_no_withholding_unless_the_policy_says_so_and_never_from_a_unit() -> None:
    plain = compute_awards(longjiang(), [achievement(PROVINCIAL, "第1名")])
    assert not plain.withholds and "withheld" not in plain.to_dict()["lines"][0]
    weihai_like = load_policy_file(REPO / "seeds" / "policies" / "jinengxingwei-weihai-2021.toml")
    taxed = replace(weihai_like, withholding=Withholding(Decimal("0.2"), "测试"))
    selection = competition("national", 1, ("worldskills_china_selection",), year=2024)
    outcome = compute_awards(taxed, [achievement(selection, "第1名")])
    by_role = {line.role: line for line in outcome.lines}
    assert by_role["competitor"].withheld == Money("20000") and by_role["unit"].withheld == Money("0")


@given(st.integers(-(10**10), 10**10), st.decimals(min_value=0, max_value=Decimal("0.99"), places=4))
def test_withholding_is_exact_and_never_more_than_the_amount(fen: int, rate: Decimal) -> None:
    amount = Money.from_fen(fen)
    withheld = Withholding(rate).of(amount)
    assert abs(withheld.fen) <= abs(fen) and (withheld.fen == 0 or (withheld.fen > 0) == (fen > 0))
    assert withheld + (amount - withheld) == amount
    assert Withholding(rate).of(-amount) == -withheld  # a reversal withholds exactly the opposite
    exact = Decimal(fen) * rate
    assert abs(Decimal(withheld.fen) - exact) <= Decimal("0.5")


# --- the schema says what is wrong -------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('results = ["place:1"]', 'results = ["place:1"]\nentry = "pair"\nmin_members = 2', "只能写一种"),
        ('results = ["place:1"]', 'results = ["place:1"]\nentry = "trio"', "取值 'trio' 无效"),
        ('results = ["place:1"]', 'results = ["place:1"]\nmin_members = 3\nmax_members = 2', "大于 max_members"),
        ('results = ["place:1"]', 'results = ["place:5-2"]', "从小到大"),
        ('results = ["place:1"]', 'results = ["share:3/2"]', "不超过 1"),
        ('results = ["place:1"]', 'results = ["share:half"]', "无效"),
        ('competitor = { fixed = "1000" }', 'honour_only = true\ncompetitor = { fixed = "1000" }', "不能写金额"),
        ('competitor = { fixed = "1000" }', "honour_only = true", "没有任何 [[honours]] 指向它"),
        ('competitor = { fixed = "1000" }', 'competitor = { fixed = "1000" }\nwithholding = { rate = "120%" }', "小于 100%"),
        ('competitor = { fixed = "1000" }', 'competitor = { fixed = "1000" }\nwithholding = { rate = 0.2 }', "应为字符串"),
    ],
)
def test_bad_new_keys_name_the_key_and_the_problem(old: str, new: str, words: str) -> None:
    text = MINIMAL.replace(old, new)
    with pytest.raises(PolicyError) as caught:
        validate_policy(tomllib.loads(text), "bad.toml")
    assert any(words in problem for _, problem in caught.value.problems), caught.value.problems


def test_an_honour_title_may_only_name_known_fields() -> None:
    text = MINIMAL + '[[honours]]\nid = "h"\ntitle = "{skill}技术能手"\nsource = "s"\n'
    with pytest.raises(PolicyError) as caught:
        validate_policy(tomllib.loads(text), "bad.toml")
    assert caught.value.problems == [("honours[0].title", caught.value.problems[0][1])]
    assert "{occupation}" in caught.value.problems[0][1]


def test_the_examples_load_and_every_tier_quotes_its_source() -> None:
    for path in sorted(EXAMPLES.glob("*.toml")):
        policy = load_policy_file(path)
        assert all(tier.source and tier.title_en for tier in policy.tiers), path
        assert policy.name_en, path


def test_examples_are_not_offered_as_policies_to_pay_from() -> None:
    from contest.awards.policies import policy_choices

    ids = {policy_id for policy_id, _ in policy_choices()}
    assert ids == {"jinengxingwei-weihai-2021", "longjisaichang-heilongjiang-2022"}


def test_settings_for_an_honour_only_tier_are_refused_by_title() -> None:
    with pytest.raises(AwardError, match="“优胜奖·选手”: 该档只授予荣誉称号"):
        compute_awards(sizes(), [], BatchSettings(amounts={"excellence": Money("1")}))
