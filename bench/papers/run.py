"""Benchmark: certificates (获奖证书) to PDF through contest.papers.pdf, as the organizer's batch
download and a competitor's single download render them (seal image and one QR code a page).

    .venv/bin/python bench/papers/run.py [--n 300]

Prints the time of one certificate cold (fonts loaded on first use) and warm, and of batches.
"""

from __future__ import annotations

import argparse
import platform
import secrets
import time
from datetime import date

from contest.competitors import certificates
from contest.competitors.seal import clean_seal
from contest.competitors.service import default_settings
from contest.db.models import Certificate, Competition
from contest.domain.certificates import encode_serial
from contest.papers import pdf


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    n = parser.parse_args().n
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
