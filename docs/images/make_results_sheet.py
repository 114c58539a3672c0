"""Render the first page of a 成绩公示表 to PNG, as contest.papers.pdf prints it (docs/papers.md).

    .venv/bin/python docs/images/make_results_sheet.py   # needs pdftoppm (poppler-utils)

A fictional municipal item, published as v2 after a revision, 24 entries; the context has the shape
contest.results.papers.results_sheet builds from a published version.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from contest.papers import pdf

APPEAL_CONTACT = "大赛仲裁组:赛场一号楼 201 室,电话 0631-5201234"

HERE = Path(__file__).resolve().parent
NAMES = "张伟 王芳 李强 刘洋 陈静 杨磊 赵敏 黄军 周杰 吴超 徐娟 孙浩 马丽 朱晓东 胡斌 郭刚 何静怡 高翔 林涛 罗敏 郑凯".split()
UNITS = ["威海技师学院", "威海市职业中等专业学校", "威海华东数控股份有限公司", "三角轮胎股份有限公司", "威海职业学院"]
AWARDS = ["一等奖"] + ["二等奖"] * 2 + ["三等奖"] * 3 + ["优胜奖"] * 6


def context() -> dict:
    rows = []
    for i, name in enumerate(NAMES):
        theory = 92 - i * 1.15
        practical = 95.5 - i * 1.35
        rows.append(
            {
                "place": i + 1,
                "station": (i * 7) % 24 + 1,
                "names": name,
                "unit": UNITS[i % len(UNITS)],
                "scores": {"theory": f"{theory:.2f}", "practical": f"{practical:.2f}"},
                "total": f"{theory * 0.2 + practical * 0.8:.2f}",
                "award": AWARDS[i] if i < len(AWARDS) else "",
            }
        )
    section = {
        "item": "焊工",
        "skill_code": "6-18-02-04",
        "version": 2,
        "revised": True,
        "reason": "工位 15 实操评分项 P2 录入错误,经裁判长复核更正",
        "published_at": "2026-11-22 16:30",
        "deadline": "2026-11-22 18:30",
        "final": False,
        "components": [{"kind": "theory", "name": "理论", "weight": "20"}, {"kind": "practical", "name": "实操", "weight": "80"}],
        "rows": rows,
        "awards": [("一等奖", 1), ("二等奖", 2), ("三等奖", 3), ("优胜奖", 6)],
        "checkpoint": {
            "records": 1843,
            "last_id": 1843,
            "mac": "9f2c4be07a1d5e3388c0f61b2a7d94e5c3b8a0f17d6e2c4b9a85f3e1d07c6b2a",
            "at": "2026-11-22 16:30",
        },
    }
    return {
        "competition": {
            "name": "2026年威海市职业技能大赛",
            "organizer": "威海市人力资源和社会保障局",
            "appeal_hours": 2,
            "appeal_contact": APPEAL_CONTACT,
        },
        "sections": [section],
        "printed_at": "2026-11-22 16:32",
    }


def main() -> None:
    content = pdf.render_pdf("papers/results_sheet.html", context())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sheet.pdf"
        path.write_bytes(content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile", str(path), str(HERE / "results-sheet")], check=True
        )
    print(HERE / "results-sheet.png")


if __name__ == "__main__":
    main()
