"""The `policies` and `awards` click groups, run with CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from contest.awards.cli import awards_group, policies_group
from contest.awards.results_io import read_results

from .builders import LONGJIANG, REPO

SAMPLES = REPO / "seeds" / "awards"
ID_NUMBER = re.compile(r"\d{17}[\dX]")


def test_policies_check_ok_and_bad(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(policies_group, ["check", str(LONGJIANG)])
    assert ok.exit_code == 0, ok.output
    assert "longjisaichang-heilongjiang-2022" in ok.output and "provincial-class1-3rd" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text(
        LONGJIANG.read_text(encoding="utf-8").replace('competitor = { fixed = "5000" }', "competitor = { fixed = 5000.0 }"),
        encoding="utf-8",
    )
    failed = runner.invoke(policies_group, ["check", str(bad)])
    assert failed.exit_code == 1
    assert str(bad) in failed.output and "tiers[8].competitor.fixed" in failed.output and "浮点" in failed.output


def test_compute_writes_workbook_and_json_from_the_sample(tmp_path: Path) -> None:
    out, js, ledger_out = tmp_path / "payouts.xlsx", tmp_path / "payouts.json", tmp_path / "ledger.json"
    result = CliRunner().invoke(
        awards_group,
        [
            "compute",
            "--policy",
            "longjisaichang-heilongjiang-2022",
            "--results",
            str(SAMPLES / "sample-results.xlsx"),
            "--ledger",
            str(SAMPLES / "heilongjiang-ledger.json"),
            "--out",
            str(out),
            "--json",
            str(js),
            "--ledger-out",
            str(ledger_out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert not ID_NUMBER.search(result.output)  # never print ID numbers
    assert "计算奖金" in result.stderr and "awards" not in result.stderr  # the progress label, in Chinese, on stderr
    assert not re.search(r"[A-Za-z]{3,}", result.stderr.replace("JSON", ""))  # no English steps
    assert "计算奖金" not in result.stdout  # the summary on stdout stays clean for scripts
    data = json.loads(js.read_text(encoding="utf-8"))
    assert "合计" in result.output and data["total_capital"] in result.output
    book = load_workbook(out)
    assert book.sheetnames[0] == "汇总" and "黑龙江省人力资源和社会保障厅" in book.sheetnames
    # the out-of-province winner and the superseded provincial result are listed with reasons
    statuses = {e["status"] for e in data["excluded"]}
    assert {"ineligible", "superseded", "not_covered"} <= statuses
    # the ledger now holds the earlier entry and this batch's payouts
    entries = json.loads(ledger_out.read_text(encoding="utf-8"))["entries"]
    assert len(entries) == 1 + len(data["lines"])
    # the same run against the new ledger pays nothing more
    again = CliRunner().invoke(
        awards_group,
        [
            "compute",
            "--policy",
            str(LONGJIANG),
            "--results",
            str(SAMPLES / "sample-results.json"),
            "--ledger",
            str(ledger_out),
            "--out",
            str(tmp_path / "again.xlsx"),
            "--json",
            str(tmp_path / "a.json"),
        ],
    )
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))["lines"] == []


def test_compute_with_settings_and_out_of_bound_amount(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        awards_group,
        [
            "compute",
            "--policy",
            "jinengxingwei-weihai-2021",
            "--results",
            str(SAMPLES / "sample-results.json"),
            "--settings",
            str(SAMPLES / "weihai-2024-settings.toml"),
            "--out",
            str(tmp_path / "w.xlsx"),
            "--json",
            str(tmp_path / "w.json"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    lines = json.loads((tmp_path / "w.json").read_text(encoding="utf-8"))["lines"]
    assert {line["amount"] for line in lines if line["achievement_id"] == "R008" and line["role"] == "competitor"} == {"80000.00"}
    settings = tmp_path / "s.toml"
    settings.write_text('[amounts]\n"municipal-class1-1st" = "1999"\n', encoding="utf-8")
    bad = runner.invoke(
        awards_group,
        [
            "compute",
            "--policy",
            "jinengxingwei-weihai-2021",
            "--results",
            str(SAMPLES / "sample-results.json"),
            "--settings",
            str(settings),
            "--out",
            str(tmp_path / "x.xlsx"),
        ],
    )
    assert bad.exit_code == 1 and "低于下限" in bad.output
    assert not (tmp_path / "x.xlsx").exists()


def test_compute_reports_bad_rows_without_writing(tmp_path: Path) -> None:
    data = json.loads((SAMPLES / "sample-results.json").read_text(encoding="utf-8"))
    data["achievements"][0]["result"] = "冠军"
    results = tmp_path / "r.json"
    results.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bad = CliRunner().invoke(
        awards_group, ["compute", "--policy", "jinengxingwei-weihai-2021", "--results", str(results), "--out", str(tmp_path / "o.xlsx")]
    )
    assert bad.exit_code == 1 and "achievements[0].result" in bad.output
    assert not (tmp_path / "o.xlsx").exists()


def test_template_command(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(awards_group, ["template", "--out", str(out)])
    assert result.exit_code == 0 and out.exists()
    assert read_results(out) == []
