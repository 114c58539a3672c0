"""Click groups `policies` and `awards`; the main `contest` CLI registers them.

    contest policies check FILE
    contest awards compute --policy FILE|ID --results FILE.xlsx|FILE.json [--ledger FILE]...
                           [--settings FILE] --out payouts.xlsx [--json payouts.json]
                           [--ledger-out ledger.json]
    contest awards template --out FILE.xlsx

Output never shows 证件号码 (only the finance workbook holds them); problems are printed in
Chinese and the command exits with status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

# Nothing else at module level: `contest --version` and `--help` register these groups and must
# not load openpyxl (and numpy through it) or the award engine; each command imports its own.
# `contest awards compute` never loads SQLAlchemy or the web stack (tests/unit/test_cli_startup.py).


class _Failed(click.ClickException):
    def show(self, file: object = None) -> None:
        click.echo(self.message, err=True)


@click.group(name="policies")
def policies_group() -> None:
    """Award policy files (seeds/policies/*.toml)."""


@policies_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check_policy(file: Path) -> None:
    """Validate a policy FILE and print its tiers."""
    from contest.awards.policies import load_policy_file
    from contest.domain.awards.policy import (
        DEDUP_LABELS,
        HONOUR_TO_LABELS,
        LEDGER_MODE_LABELS,
        SPLIT_LABELS,
        UNIT_MODE_LABELS,
        PolicyError,
        tier_scope,
    )

    try:
        policy = load_policy_file(file)
    except PolicyError as exc:
        raise _Failed(str(exc)) from None
    click.echo(f"政策文件有效:{policy.id}  {policy.name}")
    click.echo(f"  依据:{policy.document}")
    since = policy.in_force_from.isoformat() if policy.in_force_from else "不限"
    until = policy.in_force_until.isoformat() if policy.in_force_until else "不限"
    rules = policy.rules
    click.echo(
        f"  有效期:{since} 至 {until};不重复奖励:{DEDUP_LABELS[rules.dedup]};"
        f"台账模式:{LEDGER_MODE_LABELS[rules.ledger_mode]}" + (";排名不并列" if rules.no_ties else "")
    )
    click.echo(
        f"  团体分配:{SPLIT_LABELS[rules.team_split]};教练分配:{SPLIT_LABELS[rules.coach_split]};"
        f"单位补助:{UNIT_MODE_LABELS[rules.unit_subsidy_mode]}"
    )
    if policy.withholding.rate:
        click.echo(f"  代扣个税:{policy.withholding.describe()}")
    for tier in policy.tiers:
        if tier.competitor is None:
            parts = ["只授予荣誉,不发奖金"]
        else:
            parts = [f"选手 {tier.competitor.describe()}"]
            coach = tier.rule_for("coach_team")
            if coach is not None:
                parts.append("教练团队 " + ("同选手" if tier.coach_same_as_competitor else coach.describe()))
            if tier.unit is not None:
                parts.append(f"单位 {tier.unit.describe()}")
            if tier.withholding is not None:
                parts.append(tier.withholding.describe() if tier.withholding.rate else "不代扣个税")
        click.echo(f"  - {tier.id}: {tier.title} [{tier_scope(tier)}] {';'.join(parts)};支付方 {policy.payers[tier.payer].name}")
    for honour in policy.honours:
        to = "" if honour.to == "competitor" else f"(授予{HONOUR_TO_LABELS[honour.to]})"
        click.echo(f"  * 非现金:{honour.title}{to}")


@click.group(name="awards")
def awards_group() -> None:
    """Compute award payouts and write the finance workbook."""


@awards_group.command("compute")
@click.option("--policy", "policy_ref", required=True, help="政策文件路径或政策 id")
@click.option("--results", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="成绩文件 .xlsx(模板)或 .json")
@click.option(
    "--ledger",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="以往发放台账(可多次;也可直接用以往的 --json 输出)",
)
@click.option("--settings", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="批次设置 .toml 或 .json")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出的财务工作簿 .xlsx")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="同时输出 JSON 结果")
@click.option("--ledger-out", type=click.Path(dir_okay=False, path_type=Path), help="输出更新后的台账(以往台账 + 本批次)")
def compute(
    policy_ref: str,
    results: Path,
    ledger: tuple[Path, ...],
    settings: Path | None,
    out: Path,
    json_out: Path | None,
    ledger_out: Path | None,
) -> None:
    """Compute one payout batch."""
    from collections import Counter
    from dataclasses import replace
    from datetime import date

    from contest.awards.finance_workbook import STATUS_LABELS, WorkbookInfo, write_finance_workbook
    from contest.awards.ledger_io import read_ledger, read_settings, write_ledger
    from contest.awards.policies import load_policy
    from contest.awards.results_io import read_results
    from contest.domain.awards.engine import AwardError, compute_awards
    from contest.domain.awards.inputs import InputErrors
    from contest.domain.awards.policy import PolicyError
    from contest.domain.money import to_chinese_capital

    # A big results file takes seconds to read and its workbook seconds to write: say where it is
    # (on stderr, so the summary on stdout stays clean for scripts).
    with click.progressbar(length=5, label="计算奖金", item_show_func=lambda step: step, file=sys.stderr) as progress:
        try:
            policy = load_policy(policy_ref)
            progress.update(1, "读取成绩")
            achievements = read_results(results)
            batch = read_settings(settings)
            if not batch.batch_id:  # a name and a date the workbook can show, never "(未命名)"
                today = batch.batch_date or date.today()
                batch = replace(batch, batch_id=f"{policy.name} {today.isoformat()}", batch_date=today)
            earlier = read_ledger(ledger)
            progress.update(1, "计算")
            result = compute_awards(policy, achievements, batch, earlier)
        except (PolicyError, InputErrors, AwardError) as exc:
            raise _Failed(str(exc)) from None
        progress.update(1, "写入工作簿")
        write_finance_workbook(result, out, info=WorkbookInfo.for_result(result, policy))
        progress.update(1, "写入 JSON 与台账")
        if json_out is not None:
            json_out.write_text(result.to_json(), encoding="utf-8")
        if ledger_out is not None:
            write_ledger(result, ledger_out, earlier)
        progress.update(1, "完成")
    click.echo(f"政策:{policy.name};成绩 {len(achievements)} 条;批次 {batch.batch_id}")
    for total in result.payer_totals():
        click.echo(f"  {total.payer}: {total.lines} 笔,{total.total.format()} 元({to_chinese_capital(total.total)})")
    click.echo(f"合计:{len(result.lines)} 笔,{result.total.format()} 元({to_chinese_capital(result.total)})")
    if result.excluded:
        counts = Counter(line.status for line in result.excluded)
        detail = ",".join(f"{STATUS_LABELS.get(k, k)} {v}" for k, v in sorted(counts.items()))
        click.echo(f"未发放 {len(result.excluded)} 条({detail}),原因见工作簿“未发放”表")
    if result.honours:
        click.echo(f"非现金奖励 {len(result.honours)} 条")
    click.echo(f"已写入:{out}" + (f"、{json_out}" if json_out else "") + (f"、{ledger_out}" if ledger_out else ""))


@awards_group.command("template")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出的空白成绩模板 .xlsx")
def template(out: Path) -> None:
    """Write the blank results template (Chinese headers)."""
    from contest.awards.results_io import write_template

    write_template(out)
    click.echo(f"已写入成绩模板:{out}")
