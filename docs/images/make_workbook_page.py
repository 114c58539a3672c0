"""Render one printed page of the finance workbook to PNG, as LibreOffice prints it (docs/payouts.md).

    .venv/bin/python docs/images/make_workbook_page.py   # needs soffice and pdftoppm (poppler-utils)

A fictional 技能兴威 municipal batch: 9 lines (a three-person team among them), payment details for
all but one, approved, under the name a batch gets when none is typed (the policy, the year, which
batch, the day); printed (A4 landscape): the 汇总 page is saved as finance-workbook-summary.png and
the first page of the organizer's payer sheet as finance-workbook-page.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from contest.awards.policies import load_policy
from contest.domain.awards import Achievement, Competition, Member, Person, Result, compute_awards
from contest.domain.awards.model import BatchSettings
from contest.domain.idcard import check_digit
from contest.domain.money import Money
from contest.awards.finance_workbook import PayeeDetails, WorkbookInfo, payee_key, write_finance_workbook

HERE = Path(__file__).resolve().parent
KEEP = os.environ.get("KEEP_PDF", "")  # a path: keep the whole printed PDF there, to look at every page
PAGES = {"finance-workbook-summary": 1, "finance-workbook-page": 3}  # 汇总, 发放依据, then the payer's sheet
PEOPLE = [
    ("张伟", "威海技师学院"),
    ("王芳", "威海市职业中等专业学校"),
    ("李强", "威海华东数控股份有限公司"),
    ("刘洋", "威海技师学院"),
    ("陈静", "山东威高集团医用高分子制品股份有限公司"),
    ("杨磊", "威海市职业中等专业学校"),
    ("赵敏", "威海技师学院"),
    ("黄军", "三角轮胎股份有限公司"),
    ("周杰", "三角轮胎股份有限公司"),
    ("吴超", "三角轮胎股份有限公司"),
    ("徐娟", "威海职业学院"),
]
ITEMS = [("焊工", "6-18-02-04"), ("电工", "6-31-01-03"), ("数控车工", "6-18-01-01"), ("工业机器人系统运维员", "6-31-01-10")]


def person(index: int) -> Person:
    first17 = f"3710021995{(index % 12) + 1:02d}{(index % 27) + 1:02d}{index:03d}"
    name, unit = PEOPLE[index]
    return Person(id_number=first17 + check_digit(first17), name=name, unit=unit, employment_region="山东省威海市")


def main() -> None:
    policy = load_policy("jinengxingwei-weihai-2021")
    comp = Competition("2026年威海市职业技能大赛", "municipal", 2026, 1, organizer="威海市人力资源和社会保障局", date=date(2026, 10, 20))
    achievements = []
    for index in range(5):
        item, code = ITEMS[index % 3]
        achievements.append(Achievement(f"R{index:02d}", comp, item, code, Result(place=1 + index // 3), (Member(person(index)),)))
    team = tuple(Member(person(i)) for i in (7, 8, 9))
    achievements.append(Achievement("R07", comp, ITEMS[3][0], ITEMS[3][1], Result(place=1), team))
    achievements.append(Achievement("R08", comp, "焊工", "6-18-02-05", Result(place=2), (Member(person(10)),)))
    name = f"{policy.name} 2026年度第3批(2026-11-30)"  # what payouts.service.default_batch_name gives
    result = compute_awards(
        policy, achievements, BatchSettings(batch_id=name, batch_date=date(2026, 11, 30), amounts={"municipal-class1-1st": Money("3000")})
    )
    info = WorkbookInfo.for_result(result, policy)
    info.batch_name, info.batch_number, info.status, info.final = name, "#3", "已审批", True
    info.made_on, info.prepared_by, info.approved_by = date(2026, 11, 30), "王晓燕", "孙建国(财务科科长)"
    banks = ["中国工商银行威海分行营业部", "中国建设银行威海高区支行", "中国农业银行威海经区支行", "威海市商业银行文化路支行"]
    info.payees = {
        payee_key(line): PayeeDetails(line.recipient_name, banks[i % 4], f"62220202001{i:02d}2233445", f"1380631{i:04d}")
        for i, line in enumerate(result.lines)
        if line.recipient_name != "徐娟"
    }
    work = Path(tempfile.mkdtemp())
    try:
        book = work / "payouts.xlsx"
        write_finance_workbook(result, book, info=info)
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(book)], check=True, capture_output=True, timeout=180
        )
        for image, page in PAGES.items():
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "110",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(work / "payouts.pdf"),
                    str(HERE / image),
                ],
                check=True,
                timeout=60,
            )
            print(HERE / f"{image}.png")
        if KEEP:
            shutil.copy(work / "payouts.pdf", KEEP)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
