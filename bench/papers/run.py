"""Benchmark: certificates (获奖证书) to PDF through contest.papers.pdf, as the organizer's batch
download and a competitor's single download render them (seal image and one QR code a page).

    .venv/bin/python bench/papers/run.py [--n 300]
    .venv/bin/python bench/papers/run.py --sheets [--n 300] [--judges 5]

Prints the time of one certificate cold (fonts loaded on first use) and warm, and of batches.
With --sheets: the 成绩公示表 and the 评分汇总表 (contest.results.papers) of one item of n entries,
a panel of `judges` and five criteria (three judged by the whole panel), page counts included.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import time
from datetime import date
from pathlib import Path

from contest.competitors import certificates
from contest.competitors.seal import clean_seal
from contest.competitors.service import default_settings
from contest.db.models import Certificate, Competition
from contest.domain.certificates import encode_serial
from contest.papers import pdf

APPEAL_CONTACT = "大赛仲裁组:赛场一号楼 201 室,电话 0631-5201234"


def seal() -> bytes:
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 580, 580), outline=(200, 20, 20), width=22)
    draw.regular_polygon((300, 300, 80), 5, fill=(200, 20, 20))
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return clean_seal(buffer.getvalue())


def results_sheet_context(n: int) -> dict:
    rows = [
        {
            "place": i + 1,
            "station": i + 1,
            "names": f"选手{i + 1:03d}",
            "unit": "某某职业技术学院" if i % 2 else "某某集团有限公司第二分公司",
            "scores": {"theory": f"{90 - i * 0.1:.2f}", "practical": f"{92 - i * 0.1:.2f}"},
            "total": f"{91 - i * 0.1:.2f}",
            "award": "一等奖" if i == 0 else "",
        }
        for i in range(n)
    ]
    section = {
        "item": "焊工",
        "skill_code": "6-18-02-04",
        "version": 1,
        "revised": False,
        "reason": "",
        "published_at": "2026-11-22 16:00",
        "deadline": "2026-11-22 18:00",
        "final": False,
        "components": [{"kind": "theory", "name": "理论", "weight": "20"}, {"kind": "practical", "name": "实操", "weight": "80"}],
        "rows": rows,
        "awards": [("一等奖", 1)],
        "checkpoint": {"records": 9000, "last_id": 9000, "mac": "ab" * 32, "at": "2026-11-22 16:00"},
    }
    competition = {
        "name": "2026年威海市职业技能大赛",
        "organizer": "威海市人力资源和社会保障局",
        "appeal_hours": 2,
        "appeal_contact": APPEAL_CONTACT,
    }
    return {"competition": competition, "sections": [section], "printed_at": "2026-11-22 16:05"}


def score_sheet_context(n: int, judges: int) -> dict:
    seats = [str(s) for s in range(1, judges + 1)]
    criteria = [
        ("T1", "理论知识", "100", "单人评分", 1),
        ("A1", "焊缝外观", "30", "单人评分", 1),
        ("B1", "工艺规范", "30", "去掉最高最低分后平均", judges),
        ("B2", "安全文明生产", "20", "平均分", judges),
        ("B3", "作品完成度", "20", "中位数", judges),
    ]
    stations = []
    for i in range(n):
        lines = []
        for code, name, top, aggregation, panel in criteria:
            marks = [
                {"value": f"{int(top) * 0.8 + (i + s) % 5:.1f}" if s < panel else "", "dropped": panel >= 5 and s in (0, judges - 1)}
                for s in range(judges)
            ]
            lines.append(
                {"code": code, "name": name, "max": top, "marks": marks, "value": f"{int(top) * 0.8 + 1:.2f}", "aggregation": aggregation}
            )
        stations.append(
            {
                "station": i + 1,
                "names": f"选手{i + 1:03d}",
                "lines": lines,
                "components": ["88.00", "90.50"],
                "total": "90.00",
                "place": i + 1,
                "complete": True,
            }
        )
    return {
        "competition": {
            "name": "2026年威海市职业技能大赛",
            "organizer": "威海市人力资源和社会保障局",
            "appeal_hours": 2,
            "appeal_contact": APPEAL_CONTACT,
        },
        "item": {
            "name": "焊工",
            "skill_code": "6-18-02-04",
            "status": "revealed",
            "locked": True,
            "locked_at": "2026-11-22 15:00",
            "locked_by": "裁判长甲",
        },
        "names_visible": True,
        "seats": seats,
        "components": [{"name": "理论", "weight": "20"}, {"name": "实操", "weight": "80"}],
        "criteria": [
            {"code": c[0], "name": c[1], "component": "理论" if c[0] == "T1" else "实操", "max": c[2], "aggregation": c[3]}
            for c in criteria
        ],
        "stations": stations,
        "judges": [{"seat": s, "name": f"裁判{s}", "role": "裁判", "unit": "某某技师学院"} for s in range(1, judges + 1)],
        "marks": n * (2 + 3 * judges),
        "expected": n * (2 + 3 * judges),
        "checkpoint": {"records": 9000, "last_id": 9000, "mac": "ab" * 32, "at": "2026-11-22 15:00"},
        "printed_at": "2026-11-22 16:05",
    }


def sheets(n: int, judges: int) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    print(f"Python {platform.python_version()}, {platform.machine()}")
    print("| paper | entries | render | pages | PDF size |")
    print("|---|---|---|---|---|")
    for label, template, build, count in (
        ("成绩公示表 (cold)", "papers/results_sheet.html", results_sheet_context, 30),
        ("成绩公示表", "papers/results_sheet.html", results_sheet_context, 30),
        ("成绩公示表", "papers/results_sheet.html", results_sheet_context, n),
        (f"评分汇总表, {judges} judges", "papers/score_sheet.html", lambda k: score_sheet_context(k, judges), 30),
        (f"评分汇总表, {judges} judges", "papers/score_sheet.html", lambda k: score_sheet_context(k, judges), n),
    ):
        context = build(count)
        started = time.perf_counter()
        content = pdf.render_pdf(template, context)
        elapsed = time.perf_counter() - started
        pages = len(PdfReader(BytesIO(content)).pages)
        print(f"| {label} | {count} | {elapsed:.2f} s | {pages} | {len(content) / 1024:.0f} KiB |")
    # The same 300-entry score sheet through the server's path (contest.papers.cache): the first
    # request renders and keeps it, a repeat reads it back.
    import asyncio
    import tempfile

    from contest.papers import cache

    context = score_sheet_context(n, judges)
    with tempfile.TemporaryDirectory() as folder:
        for label in ("kept: first request", "kept: repeat"):
            started = time.perf_counter()
            content = asyncio.run(cache.render_cached(Path(folder), "papers/score_sheet.html", context))
            elapsed = time.perf_counter() - started
            print(f"| 评分汇总表, {judges} judges, {label} | {n} | {elapsed:.3f} s | | {len(content) / 1024:.0f} KiB |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--sheets", action="store_true")
    parser.add_argument("--judges", type=int, default=5)
    args = parser.parse_args()
    n = args.n
    if args.sheets:
        sheets(n, args.judges)
        return
    competition = Competition(id=1, name="2026年威海市职业技能大赛", organizer="威海市人力资源和社会保障局", end_date=date(2026, 11, 22))
    settings = default_settings(competition)
    settings.seal_png = seal()
    issued = [
        Certificate(
            serial=encode_serial(secrets.randbits(128)),
            version=1,
            confirmed_version=1,
            kind="award",
            name=f"选手{i}",
            unit="某某职业技术学院",
            team="",
            competition=competition.name,
            item="焊工",
            award="一等奖",
            honour="",
            status="valid",
        )
        for i in range(n)
    ]
    print(f"Python {platform.python_version()}, {platform.machine()}")
    print("| certificates | render | per page | PDF size |")
    print("|---|---|---|---|")
    for label, count in (("1 (cold)", 1), ("1 (warm)", 1), ("30", 30), (str(n), n)):
        paper = certificates.paper(settings, competition, issued[:count], "https://contest.example.cn")
        started = time.perf_counter()
        content = pdf.render_pdf("papers/certificate.html", paper.context, paper.assets)
        elapsed = time.perf_counter() - started
        print(f"| {label} | {elapsed:.2f} s | {elapsed / count * 1000:.0f} ms | {len(content) / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
