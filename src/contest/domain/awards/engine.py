"""The award engine: achievements + policy + batch settings + ledger -> payout lines.

Pure and deterministic: no I/O, no clock, no dict-order surprises; output is sorted, so the
same input gives byte-identical JSON. The rules applied, in order:

0. 排名不并列: under a no-ties policy, tied places are refused (AwardError);
1. in force: the competition falls within the policy's dates;
2. tier: the first tier in the file whose level/class/kind/group/entry size/result match
   (earlier = higher); an honour-only tier gives its honours and no money (no dedup);
3. amount: fixed, or the batch's choice within 最高 (cap) / 不低于 (floor); out of bounds is
   an AwardError, never a clamp;
4. team split: each member the full amount (per_person) or the entry amount split (equal /
   by_shares, remainder to the captain);
5. eligibility per member (employment region, 职工 status, age), with the reason;
6. no double award: per (person, canonical skill) only the best candidate of the batch is
   paid (highest amount for that person, then the earlier tier, then the higher level);
7. coaching team and sending unit follow the competitor's kept result;
8. ledger: top_up pays the difference over what was paid before, skip pays nothing when an
   equal or higher amount was paid before;
9. withholding: an individual's line withholds the tier's (or policy's) rate, rounded to the
   fen half up; units are never withheld from.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import Any

from contest.domain.awards.model import (
    BATCH_SUBJECT,
    Achievement,
    AwardResult,
    BatchSettings,
    Competition,
    ExcludedLine,
    HonourLine,
    LedgerEntry,
    PayoutLine,
    Person,
    Result,
    ledger_skill,
)
from contest.domain.awards.policy import (
    LEVEL_LABELS,
    LEVEL_RANK,
    Eligibility,
    Honour,
    Policy,
    Tier,
)
from contest.domain.money import Money, split
from contest.domain.text import N_


class AwardError(ValueError):
    """Settings or inputs the engine refuses (e.g. an amount outside its cap or floor)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("无法计算奖励:\n" + "\n".join(problems))


_ROLES_IN_SETTINGS = ("competitor", "coach_team", "unit")
_SETTING_ROLES = {"competitor": N_("选手"), "coach_team": N_("教练团队"), "unit": "选送单位"}
_HONOUR_ONLY = "honour_only"  # an honour-only tier's claim for an eligible member


@dataclass(slots=True)
class _Candidate:
    """One member's claim on one achievement, before the no-double-award rule."""

    achievement: Achievement
    member_index: int
    tier: Tier
    amount: Money
    kept: bool = True


def compute_awards(
    policy: Policy,
    achievements: Sequence[Achievement],
    settings: BatchSettings | None = None,
    ledger: Iterable[LedgerEntry] = (),
) -> AwardResult:
    """Apply ``policy`` to ``achievements`` for one payout batch. See the module docstring."""
    # A big batch allocates hundreds of thousands of small objects and no reference cycles;
    # the cyclic GC would rescan the growing heap again and again (half the run time at
    # 100,000 achievements) and find nothing to free. Pause it for the run only.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Engine(policy, settings or BatchSettings(), ledger).run(achievements)
    finally:
        if was_enabled:
            gc.enable()


class _Engine:
    def __init__(self, policy: Policy, settings: BatchSettings, ledger: Iterable[LedgerEntry]) -> None:
        self.policy = policy
        self.settings = settings
        self.ledger_mode = settings.ledger_mode or policy.rules.ledger_mode
        self.unit_mode = settings.unit_subsidy_mode or policy.rules.unit_subsidy_mode
        self.problems: list[str] = []
        self.tier_amounts = self._resolve_tier_amounts()
        self._check_settings_needs()
        self.prior: dict[tuple[str, str, str, str], list[LedgerEntry]] = {}
        for entry in ledger:
            if entry.policy_id == policy.id:  # each policy keeps its own ledger
                self.prior.setdefault(entry.key, []).append(entry)
        self.lines: list[PayoutLine] = []
        self.excluded: list[ExcludedLine] = []
        self.honours: list[HonourLine] = []
        self._match_cache: dict[tuple[Any, ...], Tier | None] = {}
        self._withholding: dict[str, tuple[Any, str]] = {}
        self._eligibility_cache: dict[tuple[int, str, str], str | None] = {}
        self._basis: dict[tuple[str, str], str] = {}
        self._unit_claims: list[tuple[str, Achievement, Tier, str]] = []
        self._reasons: dict[tuple[object, ...], tuple[None, _Why, _Why]] = {}
        self._out_of_force: dict[int, tuple[None, _Why, _Why] | None] = {}
        self._whys: dict[_Why, _Why] = {}  # one shared (status, reason, role, tier_id) each
        self._labels: dict[Result, str] = {}

    # --- settings --------------------------------------------------------------------
    def _resolve_tier_amounts(self) -> dict[tuple[str, str], Money]:
        amounts: dict[tuple[str, str], Money] = {}
        for tier in self.policy.tiers:
            for role in _ROLES_IN_SETTINGS:
                rule = tier.rule_for(role)
                if rule is not None:
                    amounts[(tier.id, role)] = rule.default_amount()
        for key in sorted(self.settings.amounts):
            amount = self.settings.amounts[key]
            tier_id, _, role = key.partition(".")
            role = role or "competitor"
            try:
                tier = self.policy.tier(tier_id)
            except KeyError:
                self.problems.append(f"金额设置 {key}: 政策“{self.policy.name}”中没有档次 {tier_id!r}")
                continue
            if role not in _ROLES_IN_SETTINGS:
                self.problems.append(f"金额设置 {key}: 奖励对象 {role!r} 无效;可用 {tier_id}、{tier_id}.coach_team、{tier_id}.unit")
                continue
            where = f"金额设置“{tier.title}·{_SETTING_ROLES[role]}”"
            if tier.honour_only:
                self.problems.append(f"{where}: 该档只授予荣誉称号,不发奖金")
                continue
            if role == "coach_team" and tier.coach_same_as_competitor:
                self.problems.append(f"{where}: 该档教练团队与选手同等标准,金额随选手,不能单独设定")
                continue
            rule = tier.rule_for(role)
            if rule is None:
                self.problems.append(f"{where}: 该档不奖励{_SETTING_ROLES[role]}")
                continue
            problem = rule.check(amount)
            if problem:
                self.problems.append(f"{where}: {problem}")
                continue
            amounts[(tier_id, role)] = amount
        return amounts

    def _check_settings_needs(self) -> None:
        needs_batch_date = any(
            e.age_on == "batch_date" and (e.min_age is not None or e.max_age is not None)
            for e in [self.policy.eligibility] + [t.eligibility for t in self.policy.tiers if t.eligibility]
        )
        if needs_batch_date and self.settings.batch_date is None:
            self.problems.append("批次日期: 政策按批次日期计算年龄,须设置批次日期")

    # --- helpers ---------------------------------------------------------------------
    def _match(self, achievement: Achievement) -> Tier | None:
        comp = achievement.competition
        key = (
            comp.level,
            comp.competition_class,
            comp.kinds,
            achievement.result,
            achievement.group,
            achievement.size,
            achievement.field_size,
        )
        try:
            return self._match_cache[key]
        except KeyError:
            pass
        found = self._match_cache[key] = self.policy.find_tier(achievement)
        return found

    def _in_force(self, comp: Competition) -> str | None:
        start, end = self.policy.in_force_from, self.policy.in_force_until
        if comp.date is not None:
            if start and comp.date < start:
                return f"比赛日期 {comp.date.isoformat()} 早于政策施行日期 {start.isoformat()}"
            if end and comp.date > end:
                return f"比赛日期 {comp.date.isoformat()} 晚于政策截止日期 {end.isoformat()}"
            return None
        # only the year is known: in force when the year overlaps the policy's dates
        if start and comp.year < start.year:
            return f"比赛年份 {comp.year} 早于政策施行日期 {start.isoformat()}"
        if end and comp.year > end.year:
            return f"比赛年份 {comp.year} 晚于政策截止日期 {end.isoformat()}"
        return None

    def _ineligible(self, tier: Tier, person: Person, comp: Competition) -> str | None:
        return self._check_eligibility(self.policy.eligibility_for(tier), person, comp)

    def _check_eligibility(self, rule: Eligibility, person: Person, comp: Competition) -> str | None:
        if rule.is_open:
            return None
        has_age = rule.min_age is not None or rule.max_age is not None
        if not has_age:
            key = (id(rule), person.employment_region, person.employee_status)
            if key in self._eligibility_cache:
                return self._eligibility_cache[key]
        reasons: list[str] = []
        if rule.employment_regions:
            region = person.employment_region
            wanted = "、".join(rule.employment_regions)
            if not region:
                reasons.append(f"就业地区未填写,无法确认(政策要求在 {wanted} 就业)")
            elif not any(region.startswith(prefix) for prefix in rule.employment_regions):
                reasons.append(f"就业地区为 {region},不在 {wanted}")
        if rule.employee_statuses:
            status = person.employee_status
            wanted = "、".join(rule.employee_statuses)
            if status not in rule.employee_statuses:
                reasons.append(f"职工身份为 {status or '(未填写)'},政策只奖励 {wanted}")
        if has_age:
            reasons.extend(self._age_problem(rule, person, comp))
        reason = None
        if reasons:
            reason = ";".join(reasons) + (f"(依据:“{rule.source}”)" if rule.source else "")
        if not has_age:
            self._eligibility_cache[key] = reason
        return reason

    def _age_problem(self, rule: Eligibility, person: Person, comp: Competition) -> list[str]:
        birth = person.birth_date or birth_date_from_id(person.id_number)
        if birth is None:
            return ["出生日期未填写且无法从证件号码推算,无法确认年龄"]
        if rule.age_on == "batch_date":
            on = self.settings.batch_date
            assert on is not None  # checked in _check_settings_needs
            when = f"批次日期 {on.isoformat()}"
        else:
            on = comp.date or date(comp.year, 12, 31)
            when = f"比赛日期 {on.isoformat()}" if comp.date else f"比赛年度末 {on.isoformat()}"
        age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        if rule.min_age is not None and age < rule.min_age:
            return [f"{when}时年龄 {age} 岁,低于 {rule.min_age} 岁"]
        if rule.max_age is not None and age > rule.max_age:
            return [f"{when}时年龄 {age} 岁,超过 {rule.max_age} 岁"]
        return []

    def _payer(self, tier: Tier, comp: Competition) -> tuple[str, str | None]:
        payer = self.policy.payers[tier.payer]
        if payer.from_competition == "organizer":
            if comp.organizer:
                return comp.organizer, None
            return f"{payer.name}(主办单位未填写)", "赛事主办单位未填写,请补充后再付款"
        return payer.name, None

    def _basis_text(self, tier: Tier, role: str) -> str:
        key = (tier.id, role)
        text = self._basis.get(key)
        if text is None:
            rule = tier.rule_for(role)
            assert rule is not None
            who = {"competitor": N_("选手"), "coach_team": N_("教练团队"), "unit": "选送单位"}[role]
            same = "(与获奖选手同等标准)" if role == "coach_team" and tier.coach_same_as_competitor else ""
            text = f"{self.policy.document}:{tier.title},{who}{rule.describe()}{same}{_QUOTE_MARK}{tier.source}”"
            self._basis[key] = text
        return text

    def _exclude(
        self, status: str, reason: str, role: str, person: Person, achievement: Achievement, tier: Tier | None, amount: Money | None
    ) -> None:
        why = (status, reason, role, tier.id if tier else "")
        self.excluded.append(ExcludedLine.shared(self._whys.setdefault(why, why), person, achievement, amount))

    def _pay(
        self,
        role: str,
        recipient: Person,
        achievement: Achievement,
        tier: Tier,
        entitled: Money,
        subject_id: str,
        basis_role: str,
        notes: list[str],
    ) -> None:
        """Emit a payout line for ``entitled``, less what the ledger says was paid before."""
        comp = achievement.competition
        person_id, name, unit = recipient.id_number, recipient.name, recipient.unit
        if entitled.fen == 0:
            self._exclude("zero_amount", "本批次设定金额为 0 元,不发放", role, recipient, achievement, tier, entitled)
            return
        amount = entitled
        earlier = self.prior.get((person_id, role, ledger_skill(subject_id, achievement.skill_code), subject_id))
        if earlier:
            paid = Money.from_fen(sum(e.amount.fen for e in earlier))
            history = ";".join(
                f"{e.paid_on.isoformat() if e.paid_on else '日期不详'} 批次 {e.batch_id or '不详'} 发放 {e.amount.format()} 元"
                for e in sorted(earlier, key=lambda e: (e.paid_on or date.min, e.batch_id, e.amount.fen))
            )
            if paid >= entitled:
                self._exclude(
                    "already_paid",
                    f"此前已发放 {paid.format()} 元({history}),不低于本次应发 {entitled.format()} 元,不重复奖励({self.ledger_mode})",
                    role,
                    recipient,
                    achievement,
                    tier,
                    entitled,
                )
                return
            if self.ledger_mode == "top_up":
                amount = entitled - paid
                notes = [*notes, (f"本次应发 {entitled.format()} 元,此前已发 {paid.format()} 元({history}),补发差额 {amount.format()} 元")]
            else:
                notes = [*notes, (f"此前已发放较低奖励 {paid.format()} 元({history});skip 模式不抵扣,按本次标准全额发放")]
        payer, payer_note = self._payer(tier, comp)
        if payer_note:
            notes = [*notes, payer_note]
        line = PayoutLine(
            payer=payer,
            role=role,
            recipient_id=person_id,
            recipient_name=name,
            recipient_unit=unit,
            amount=amount,
            entitled=entitled,
            tier_id=tier.id,
            basis=self._basis_text(tier, basis_role),
            achievement_id=achievement.id,
            competition=comp.name,
            item=achievement.item,
            skill_code=achievement.skill_code,
            result=self._label(achievement.result),
            subject_id=subject_id,
            notes=tuple(notes),
        )
        if role != "unit":  # 个人所得税: withheld from individuals only, never from a sending unit
            rule, words = self._withholding_of(tier)
            if rule is not None:
                line.withheld, line.withholding = rule.of(amount), words
        self.lines.append(line)

    def _withholding_of(self, tier: Tier) -> tuple[Any, str]:
        found = self._withholding.get(tier.id)
        if found is None:
            rule = self.policy.withholding_for(tier)
            found = self._withholding[tier.id] = (rule, rule.describe()) if rule.rate > 0 else (None, "")
        return found

    # --- the run ---------------------------------------------------------------------
    def run(self, achievements: Sequence[Achievement]) -> AwardResult:
        self._check_ids(achievements)
        if self.policy.rules.no_ties:
            self._check_no_ties(achievements)
        # in id order, so excluded lines come out sorted without one big sort (whose key list
        # alone was the largest allocation of a 100,000-achievement run)
        ordered = sorted(achievements, key=_achievement_id)
        # per achievement, in that order: (tier, claim for each member), or a shared (None,
        # competitor's why, coach's why) when no tier applies (see _not_covered); released one
        # by one as lines are emitted, so the working set shrinks while the result grows (the
        # run's peak is at its end)
        entries: list[tuple[Any, ...] | None] = []
        # skill -> person -> the one candidate, or a list once a second one turns up (nested
        # rather than keyed by (person, skill): no key tuple per candidate)
        candidates: dict[str, dict[str, _Candidate | list[_Candidate]]] = {}
        for achievement in ordered:
            entry = self._claims(achievement)
            entries.append(entry)
            if entry[0] is None or entry[0].honour_only:  # honours only: no money, no dedup
                continue
            by_person = candidates.get(achievement.skill_code)
            if by_person is None:
                by_person = candidates[achievement.skill_code] = {}
            for claim in entry:
                if type(claim) is _Candidate:
                    person_id = achievement.members[claim.member_index].person.id_number
                    found = by_person.get(person_id)
                    if found is None:
                        by_person[person_id] = claim
                    elif type(found) is list:
                        found.append(claim)
                    else:
                        by_person[person_id] = [found, claim]  # type: ignore[list-item]  # one claim, or a list once a second comes
        if self.problems:
            raise AwardError(self.problems)

        winners: dict[tuple[str, str], _Candidate] = {}
        if self.policy.rules.dedup != "none":
            for skill_code, by_person in candidates.items():
                for person_id, group in by_person.items():
                    if type(group) is not list:
                        continue
                    group.sort(key=_candidate_rank)
                    winners[(person_id, skill_code)] = group[0]
                    for other in group[1:]:
                        other.kept = False
        del candidates

        excluded, lines = self.excluded, self.lines
        for index, achievement in enumerate(ordered):
            claims = entries[index]
            entries[index] = None  # its candidates are no longer needed once emitted
            assert claims is not None
            entry = claims
            start, first_line = len(excluded), len(lines)
            tier = entry[0]
            if tier is None:
                _, competitor_why, coach_why = entry
                for member in achievement.members:
                    excluded.append(ExcludedLine.shared(competitor_why, member.person, achievement))
                for coach in achievement.coaches:
                    excluded.append(ExcludedLine.shared(coach_why, coach.person, achievement))
            else:
                self._emit(achievement, tier, entry, winners)
            if len(excluded) - start > 1:
                excluded[start:] = sorted(excluded[start:], key=ExcludedLine.sort_key)
            if len(lines) - first_line > 1:
                lines[first_line:] = sorted(lines[first_line:], key=PayoutLine.sort_key)
        del entries, ordered
        start, first_line = len(excluded), len(lines)
        self._emit_units()
        if len(excluded) > start:  # unit lines decided last: merge them into place
            late = sorted(excluded[start:], key=ExcludedLine.sort_key)
            del excluded[start:]
            self.excluded = list(heapq.merge(excluded, late, key=ExcludedLine.sort_key))
        # Lines are in (achievement, role, recipient) order; sorting by payer alone (stable)
        # gives the full sort_key order without building a key tuple per line at the run's
        # peak. Unit lines came last: merged into place.
        late_lines = sorted(lines[first_line:], key=PayoutLine.sort_key)
        del lines[first_line:]
        lines.sort(key=_payer)
        if late_lines:
            self.lines = list(heapq.merge(lines, late_lines, key=PayoutLine.sort_key))
        # honours are already in order: achievements in id order, each one's sorted in _emit
        return AwardResult(
            policy_id=self.policy.id,
            policy_name=self.policy.name,
            batch_id=self.settings.batch_id,
            batch_date=self.settings.batch_date,
            ledger_mode=self.ledger_mode,
            unit_subsidy_mode=self.unit_mode,
            lines=self.lines,
            excluded=self.excluded,
            honours=self.honours,
        )

    def _check_no_ties(self, achievements: Sequence[Achievement]) -> None:
        """排名不并列: two results with the same place in one item (and group) are refused."""
        places: dict[tuple[Any, ...], list[str]] = {}
        for achievement in achievements:
            place = achievement.result.place
            if place is not None:
                comp = achievement.competition
                key = (comp.name, comp.year, achievement.item, achievement.group, place)
                places.setdefault(key, []).append(achievement.id)
        rule = self.policy.rules.source
        for (name, _year, item, group, place), ids in sorted(places.items(), key=lambda kv: kv[1][0]):
            if len(ids) > 1:
                self.problems.append(
                    f"排名不并列:{name}·{item}{f'({group})' if group else ''}有 {len(ids)} 个第{place}名"
                    f"(成绩编号 {'、'.join(sorted(ids))});本政策规定排名不并列,请由组织方确定名次后再计算"
                    + (f"(依据:“{rule}”)" if rule else "")
                )

    def _check_ids(self, achievements: Sequence[Achievement]) -> None:
        """Duplicate ids, and per-achievement amounts for ids not in the batch (the set of ids
        is dropped before the run builds anything)."""
        seen: set[str] = set()
        for achievement in achievements:
            if achievement.id in seen:
                self.problems.append(f"成绩编号 {achievement.id!r} 重复")
            seen.add(achievement.id)
        for achievement_id in sorted(set(self.settings.achievement_amounts) - seen):
            self.problems.append(f"成绩编号 {achievement_id} 的金额设置: 本批次没有这个成绩编号")

    def _claims(self, achievement: Achievement) -> tuple[Any, ...]:
        """The tier, then each member's claim: a candidate, or the reason the member is
        ineligible. No tier: a shared (None, competitor's why, coach's why): the (status, reason,
        role, tier_id) of their excluded lines."""
        comp = achievement.competition
        out_of_force = self._in_force_cached(comp)
        tier = None if out_of_force else self._match(achievement)
        if tier is None:
            if achievement.id in self.settings.achievement_amounts:
                self.problems.append(f"成绩编号 {achievement.id} 的金额设置: 该成绩不在奖励范围,不能设定金额")
            if out_of_force:
                return out_of_force
            return self._not_covered(achievement)
        if tier.honour_only:
            if achievement.id in self.settings.achievement_amounts:
                self.problems.append(f"成绩编号 {achievement.id} 的金额设置: 该成绩只授予荣誉称号,不发奖金")
            return (tier, *(self._ineligible(tier, member.person, comp) or _HONOUR_ONLY for member in achievement.members))

        amount = self.tier_amounts[(tier.id, "competitor")]
        override = self.settings.achievement_amounts.get(achievement.id)
        if override is not None:
            assert tier.competitor is not None  # honour-only tiers returned above
            problem = tier.competitor.check(override)
            if problem:
                self.problems.append(f"成绩编号 {achievement.id} 的金额设置: {problem}")
            amount = override
        shares = self._member_amounts(achievement, amount)
        return (
            tier,
            *(
                self._ineligible(tier, member.person, comp) or _Candidate(achievement, index, tier, shares[index])
                for index, member in enumerate(achievement.members)
            ),
        )

    def _in_force_cached(self, comp: Competition) -> tuple[None, _Why, _Why] | None:
        """The no-tier entry for out_of_force, shared by the competition's achievements, or None."""
        key = id(comp)  # competitions live as long as the run's achievements
        try:
            return self._out_of_force[key]
        except KeyError:
            pass
        reason = self._in_force(comp)
        found = _no_tier("out_of_force", reason) if reason else None
        self._out_of_force[key] = found
        return found

    def _not_covered(self, achievement: Achievement) -> tuple[None, _Why, _Why]:
        comp, result = achievement.competition, achievement.result
        key = (comp.name, comp.level, comp.competition_class, result, achievement.group, achievement.size, achievement.field_size)
        found = self._reasons.get(key)
        if found is None:  # one shared reason per distinct case keeps big batches small
            label = self._label(result)
            what = _describe_competition(comp)
            if achievement.group:
                what += f"·{achievement.group}"
            if achievement.size > 1:
                what += f"·{achievement.size}人参赛单元"
            reason = f"{comp.name}({what})的“{label}”不在本政策奖励范围"
            if achievement.field_size is None and result.place is not None and any(t.needs_field_size() for t in self.policy.tiers):
                reason += "(未提供参赛规模,按参赛单元数比例确定的名次无法判断)"
            found = _no_tier("not_covered", reason)
            self._reasons[key] = found
        return found

    def _label(self, result: Result) -> str:
        """``result.label``, one shared string per distinct result (it is on every line)."""
        label = self._labels.get(result)
        if label is None:
            label = self._labels[result] = result.label
        return label

    def _member_amounts(self, achievement: Achievement, amount: Money) -> list[Money]:
        members = achievement.members
        size = max(achievement.size, len(members))
        if size == 1 or self.policy.rules.team_split == "per_person":
            return [amount] * len(members)
        if self.policy.rules.team_split == "by_shares" and members[0].share is not None:
            return split(amount, [m.share for m in members])  # type: ignore[misc]  # shares all given: inputs check it
        # equal parts of the whole entry; members not listed (an external result naming only
        # ours) keep their parts out of this batch
        return split(amount, size)[: len(members)]

    def _emit(self, achievement: Achievement, tier: Tier, entry: tuple[Any, ...], winners: dict[tuple[str, str], _Candidate]) -> None:
        """``entry``: the tier, then each member's claim (see _claims)."""
        if tier.honour_only:  # a title, no money: honours for the eligible members and coaches
            self._grant_honours(achievement, tier, [i for i, c in enumerate(entry[1:]) if c is _HONOUR_ONLY])
            return
        kept_members: list[int] = []
        first_reason = ""
        team_note = self._team_note(achievement)
        for index, member in enumerate(achievement.members):
            person = member.person
            claim = entry[index + 1]
            if type(claim) is str:
                self._exclude("ineligible", claim, "competitor", person, achievement, tier, self._would_be(achievement, tier, index))
                first_reason = first_reason or claim
                continue
            assert type(claim) is _Candidate
            if not claim.kept:
                best = winners[(person.id_number, achievement.skill_code)]
                reason = self._superseded_reason(achievement, best)
                self._exclude("superseded", reason, "competitor", person, achievement, tier, claim.amount)
                first_reason = first_reason or reason
                continue
            kept_members.append(index)
            notes = [team_note] if team_note else []
            self._pay("competitor", person, achievement, tier, claim.amount, person.id_number, "competitor", notes)
        self._grant_honours(achievement, tier, kept_members)

        subject = "+".join(sorted(m.person.id_number for m in achievement.members))
        coach_rule = tier.rule_for("coach_team")
        if coach_rule is not None and achievement.coaches:
            self._emit_coaches(achievement, tier, kept_members, first_reason, subject)
        if tier.unit is not None and kept_members:
            self._collect_units(achievement, tier, kept_members)

    def _grant_honours(self, achievement: Achievement, tier: Tier, kept_members: list[int]) -> None:
        """The tier's honours for the kept members, or for the coach(es) of a kept result."""
        if not kept_members or not self.policy.honours:
            return
        honours = self.honours
        first = len(honours)
        label = self._label(achievement.result)
        coaches = _lead_first(achievement.coaches)
        for honour in self.policy.honours:
            if honour.tiers and tier.id not in honour.tiers:
                continue
            if honour.to == "competitor":
                people = [(achievement.members[i].person, "competitor") for i in kept_members]
            elif honour.to == "lead_coach":
                people = [(coaches[0].person, "coach")] if coaches else []
            else:
                people = [(c.person, "coach") for c in coaches]
            title = honour.title_for(achievement)
            for person, role in people:
                if honour.eligibility is not None and self._honour_refused(honour, person, achievement):
                    continue
                honours.append(
                    HonourLine(
                        honour_id=honour.id,
                        title=title,
                        source=honour.source,
                        recipient_id=person.id_number,
                        recipient_name=person.name,
                        recipient_unit=person.unit,
                        achievement_id=achievement.id,
                        competition=achievement.competition.name,
                        item=achievement.item,
                        result=label,
                        tier_id=tier.id,
                        role=role,
                    )
                )
        if len(honours) - first > 1:  # achievements come in id order: this keeps all in order
            honours[first:] = sorted(honours[first:], key=HonourLine.sort_key)

    def _honour_refused(self, honour: Honour, person: Person, achievement: Achievement) -> bool:
        assert honour.eligibility is not None
        return self._check_eligibility(honour.eligibility, person, achievement.competition) is not None

    def _would_be(self, achievement: Achievement, tier: Tier, index: int) -> Money:
        amount = self.settings.achievement_amounts.get(achievement.id, self.tier_amounts[(tier.id, "competitor")])
        return self._member_amounts(achievement, amount)[index]

    def _team_note(self, achievement: Achievement) -> str:
        if not achievement.is_team:
            return ""
        split_rule = self.policy.rules.team_split
        n = achievement.size
        listed = len(achievement.members)
        if split_rule == "per_person":
            return f"团体项目({n}人),每名成员按标准全额奖励"
        if split_rule == "by_shares" and achievement.members[0].share is not None:
            ratio = ":".join(_share_text(m.share) for m in achievement.members)
            return f"团体项目({n}人),按份额 {ratio} 分配本参赛单元奖励,余数归队长"
        if listed < n:
            return f"团体项目({n}人),本参赛单元奖励平均分为 {n} 份,本批次列出 {listed} 人,各得其份"
        return f"团体项目({n}人),本参赛单元奖励平均分配,余数归队长"

    def _superseded_reason(self, achievement: Achievement, best: _Candidate) -> str:
        win = best.achievement
        rule = self.policy.rules.source
        return (
            f"同一技能({achievement.skill_code})按最高成绩奖励,不重复奖励:本批次按 "
            f"{win.competition.name}·{win.item}·{self._label(win.result)}"
            f"({best.amount.format()} 元,成绩编号 {win.id})奖励" + (f"(依据:“{rule}”)" if rule else "")
        )

    def _emit_coaches(self, achievement: Achievement, tier: Tier, kept_members: list[int], member_reason: str, subject: str) -> None:
        coaches = _lead_first(achievement.coaches)  # the lead takes the fen left over
        if not kept_members:
            reason = f"教练团队随获奖选手奖励,选手本项成绩未予奖励:{member_reason}"
            for coach in coaches:
                self._exclude("follows_competitor", reason, "coach", coach.person, achievement, tier, None)
            return
        if tier.coach_same_as_competitor:
            team_amount = self.settings.achievement_amounts.get(achievement.id, self.tier_amounts[(tier.id, "competitor")])
        else:
            team_amount = self.tier_amounts[(tier.id, "coach_team")]
        mode = self.policy.rules.coach_split
        n = len(coaches)
        if mode == "per_person":
            amounts = [team_amount] * n
            note = f"教练团队 {n} 人,每人按标准全额奖励"
        elif mode == "by_shares" and coaches[0].share is not None:
            amounts = split(team_amount, [c.share for c in coaches])
            ratio = ":".join(_share_text(c.share) for c in coaches)
            note = f"教练团队共 {team_amount.format()} 元,{n} 人按份额 {ratio} 分配,余数归牵头教练 {coaches[0].person.name}"
        else:
            amounts = split(team_amount, n)
            note = (f"教练团队共 {team_amount.format()} 元,{n} 人平均分配,余数归牵头教练 {coaches[0].person.name}") if n > 1 else ""
        for coach, amount in zip(coaches, amounts, strict=True):
            self._pay("coach", coach.person, achievement, tier, amount, subject, "coach_team", [note] if note else [])

    def _collect_units(self, achievement: Achievement, tier: Tier, kept_members: list[int]) -> None:
        by_unit: dict[str, list[str]] = {}
        for index in kept_members:
            person = achievement.members[index].person
            by_unit.setdefault(person.unit, []).append(person.id_number)
        for unit, ids in by_unit.items():
            if not unit:
                self._exclude(
                    "ineligible",
                    "选送单位未填写,无法发放单位补助",
                    "unit",
                    _unit(""),
                    achievement,
                    tier,
                    self.tier_amounts[(tier.id, "unit")],
                )
                continue
            self._unit_claims.append((unit, achievement, tier, "+".join(sorted(ids))))

    def _emit_units(self) -> None:
        claims = self._unit_claims
        if self.unit_mode == "once_per_unit":
            # once per unit per batch: the highest subsidy, then the earliest tier, then the id
            claims.sort(key=lambda c: (c[0], -self.tier_amounts[(c[2].id, "unit")].fen, c[2].order, c[1].id))
            done: dict[str, tuple[Achievement, Tier]] = {}
            for unit, achievement, tier, _ids in claims:
                amount = self.tier_amounts[(tier.id, "unit")]
                if unit in done:
                    first = done[unit][0]
                    self._exclude(
                        "superseded",
                        f"单位补助按“每单位每批次一次”发放,本批次已随成绩编号 {first.id}({first.competition.name}·{first.item})补助",
                        "unit",
                        _unit(unit),
                        achievement,
                        tier,
                        amount,
                    )
                    continue
                done[unit] = (achievement, tier)
                self._pay(
                    "unit",
                    _unit(unit),
                    achievement,
                    tier,
                    amount,
                    f"{BATCH_SUBJECT}{self.settings.batch_id}",
                    "unit",
                    ["单位补助每单位每批次一次"],
                )
        else:
            for unit, achievement, tier, ids in claims:
                self._pay("unit", _unit(unit), achievement, tier, self.tier_amounts[(tier.id, "unit")], ids, "unit", [])


_achievement_id = attrgetter("id")
_payer = attrgetter("payer")
_Why = tuple[str, str, str, str]  # an excluded line's (status, reason, role, tier_id)


def _lead_first(coaches: Sequence[Any]) -> list[Any]:
    """The coaches with the lead coach (主要指导教师; default the first listed) first."""
    ordered = list(coaches)
    if ordered:
        lead_index = next((i for i, c in enumerate(ordered) if c.lead), 0)
        ordered.insert(0, ordered.pop(lead_index))
    return ordered


def _no_tier(status: str, reason: str) -> tuple[None, _Why, _Why]:
    return (None, (status, reason, "competitor", ""), (status, reason, "coach", ""))


def _unit(name: str) -> Person:
    """A sending unit as a recipient: its name is its id."""
    return Person(id_number=name, name=name, unit=name)


def _candidate_rank(candidate: _Candidate) -> tuple[int, int, int, str]:
    """Best first: most money for this person, then the higher tier in the file, then level."""
    comp = candidate.achievement.competition
    return (-candidate.amount.fen, candidate.tier.order, -LEVEL_RANK[comp.level], candidate.achievement.id)


def _share_text(share: object) -> str:
    text = str(share)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _describe_competition(comp: Competition) -> str:
    klass = {1: N_("一类"), 2: N_("二类")}.get(comp.competition_class or 0, "")
    return f"{LEVEL_LABELS[comp.level]}{klass}"


def birth_date_from_id(id_number: str) -> date | None:
    """The birth date in an 18-digit resident ID (digits 7-14), or None."""
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return None
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


_QUOTE_MARK = "。原文:“"


def basis_parts(basis: str, document: str = "") -> tuple[str, str]:
    """A line's basis (see _Engine._basis_text) as (the tier and its amount rule, the quoted
    clause), without the policy document that printed forms show once in their title."""
    if document and basis.startswith(f"{document}:"):
        basis = basis[len(document) + 1 :]
    rule, mark, quote = basis.partition(_QUOTE_MARK)
    return rule, quote[:-1] if mark and quote.endswith("”") else quote
