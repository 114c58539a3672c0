"""Certificate rules (contest.domain.certificates): serials, masking, dates, templates, honours, and
what a republication does to the certificates already issued."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.competitors import links
from contest.competitors.seal import MAX_SEAL_BYTES, SealRejected, clean_seal
from contest.domain import certificates as rules
from contest.domain.certificates import Content, Existing, HonourRule, Wanted, plan


@given(st.integers(0, 2**128 - 1))
def test_serials_round_trip_through_what_people_type(number: int) -> None:
    serial = rules.encode_serial(number)
    assert len(serial) == 26 and set(serial) <= set(rules.CROCKFORD)
    assert rules.normalise_serial(serial) == serial
    typed = rules.grouped(serial).lower().replace("0", "o").replace("1", "l")
    assert rules.normalise_serial(typed) == serial
    assert rules.normalise_serial(" " + rules.grouped(serial) + " ") == serial


@pytest.mark.parametrize("text", ["", "ABC", "U" * 26, "Z" + "0" * 25, "0" * 27, "<script>", "0" * 25 + "!"])
def test_what_cannot_be_a_serial_is_refused(text: str) -> None:
    assert rules.normalise_serial(text) is None


def test_serials_are_out_of_range_checked() -> None:
    with pytest.raises(ValueError):
        rules.encode_serial(2**128)
    with pytest.raises(ValueError):
        rules.encode_serial(-1)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("买买提·艾力", "买****力"), ("李", "*"), ("", ""), (" 王五 ", "王*")],
)
def test_names_are_masked_keeping_the_first_and_last_character(name: str, masked: str) -> None:
    assert rules.mask_name(name) == masked


@given(st.text(min_size=3, max_size=30).filter(lambda s: s.strip() == s))
def test_a_masked_name_hides_all_but_two_characters(name: str) -> None:
    masked = rules.mask_name(name)
    assert len(masked) == len(name) and masked.count("*") >= len(name) - 2 and masked[0] == name[0] and masked[-1] == name[-1]


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 11, 22), "二〇二六年十一月二十二日"),
        (date(2025, 1, 1), "二〇二五年一月一日"),
        (date(2030, 10, 10), "二〇三〇年十月十日"),
        (date(2026, 12, 31), "二〇二六年十二月三十一日"),
        (date(2026, 2, 20), "二〇二六年二月二十日"),
    ],
)
def test_dates_print_in_chinese_numerals(day: date, text: str) -> None:
    assert rules.chinese_date(day) == text


def test_a_template_fills_its_placeholders_and_keeps_its_own_words() -> None:
    paragraphs = rules.parse_body(rules.DEFAULT_AWARD_BODY)
    values = {"name": "张三", "competition": "2026年市赛", "item": "焊工", "award": "一等奖", "unit": "甲单位", "team": "", "honour": ""}
    filled = rules.fill(paragraphs, values)
    text = ["".join(p.text for p in paragraph) for paragraph in filled]
    assert text == ["张三 同志：", "在2026年市赛焊工赛项中成绩优异，荣获一等奖。", "特发此证，以资鼓励。"]
    assert [p.text for p in filled[1] if p.filled] == ["2026年市赛", "焊工", "一等奖"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{姓名}同志,荣获{名次}", "「{名次}」不是可用的占位符"),
        ("{姓名 同志", "不成对的花括号"),
        ("姓名} 同志", "不成对的花括号"),
        ("", "不能为空"),
        ("{{姓名}}", "不成对的花括号"),
    ],
)
def test_a_bad_template_is_refused_naming_the_problem(body: str, message: str) -> None:
    with pytest.raises(rules.TemplateError, match=message):
        rules.parse_body(body)


def test_the_award_text_may_not_print_an_honour() -> None:
    problems = rules.check_templates("荣誉证书", "{姓名}荣获{荣誉}", rules.DEFAULT_HONOUR_BODY)
    assert problems and "「{荣誉}」不是可用的占位符" in problems[0]
    assert rules.check_templates(" ", rules.DEFAULT_AWARD_BODY, rules.DEFAULT_HONOUR_BODY) == ["证书标题不能为空"]


def test_honours_follow_awards() -> None:
    expert = HonourRule("威海市技术能手", frozenset({"first", "second", "third"}))
    star = HonourRule("岗位明星", frozenset({"first"}))
    assert rules.honours_for("first", [expert, star]) == ["威海市技术能手", "岗位明星"]
    assert rules.honours_for("third", [expert, star]) == ["威海市技术能手"]
    assert rules.honours_for("excellence", [expert, star]) == []
    assert rules.honours_for(None, [expert]) == []


@pytest.mark.parametrize(("typed", "ok"), [("1234", True), (" 1234 ", True), ("123", False), ("12345", False), ("4321", False)])
def test_the_id_number_tail(typed: str, ok: bool) -> None:
    assert rules.id_tail_matches("371002199001011234", typed) is ok


def test_a_final_x_may_be_typed_in_lower_case() -> None:
    assert rules.id_tail_matches("37100219900101123X", "123x")


# ---------------------------------------------------------------- republication


def content(name: str, award: str, honour: str = "") -> Content:
    return Content(name, "甲单位", "", "2026年市赛", "焊工", award, honour)


def test_unchanged_certificates_stay_changed_ones_are_replaced_lost_ones_revoked() -> None:
    existing = [
        Existing(1, 10, content("甲", "一等奖")),
        Existing(2, 11, content("乙", "二等奖")),
        Existing(3, 12, content("丙", "三等奖")),
        Existing(4, 10, content("甲", "一等奖", "技术能手")),
    ]
    wanted = [
        Wanted(10, content("甲", "一等奖")),
        Wanted(11, content("乙", "三等奖")),
        Wanted(13, content("丁", "二等奖")),
    ]
    result = plan(existing, wanted)
    assert result.keep == [1]
    assert result.replace == [(2, wanted[1])]
    assert sorted(result.revoke) == [3, 4]
    assert result.issue == [wanted[2]]


slots = st.tuples(st.integers(1, 4), st.sampled_from(["一等奖", "二等奖", "三等奖"]), st.sampled_from(["", "技术能手", "岗位明星"]))


@given(st.lists(slots, max_size=8), st.lists(slots, max_size=8))
def test_every_certificate_is_accounted_for_once_and_every_slot_covered_once(before, after) -> None:
    existing = [Existing(i + 1, person, content(str(person), award, honour)) for i, (person, award, honour) in enumerate(before)]
    wanted = [Wanted(person, content(str(person), award, honour)) for person, award, honour in after]
    result = plan(existing, wanted)
    ended = result.keep + [old for old, _ in result.replace] + result.revoke
    assert sorted(ended) == sorted(e.certificate_id for e in existing)
    # Afterwards: exactly one valid certificate per wanted slot, with the wanted content.
    valid = {e.slot: e.content for e in existing if e.certificate_id in result.keep}
    for _, want in result.replace:
        assert want.slot not in valid
        valid[want.slot] = want.content
    for want in result.issue:
        assert want.slot not in valid
        valid[want.slot] = want.content
    first_wanted: dict[Any, Any] = {}
    for w in wanted:
        first_wanted.setdefault(w.slot, w.content)
    assert valid == first_wanted
    # Republishing the same version again changes nothing.
    again = plan([Existing(i, slot[0], c) for i, (slot, c) in enumerate(valid.items())], wanted)
    assert not again.replace and not again.revoke and not again.issue


# ---------------------------------------------------------------- download links


def test_download_links_are_signed_and_expire() -> None:
    token = links.sign("k" * 32, "SERIAL", now=1000)
    assert links.valid("k" * 32, "SERIAL", token, now=1000 + links.LINK_SECONDS - 1)
    assert not links.valid("k" * 32, "SERIAL", token, now=1000 + links.LINK_SECONDS + 1)
    assert not links.valid("k" * 32, "OTHER", token, now=1000)
    assert not links.valid("x" * 32, "SERIAL", token, now=1000)
    expires, mac = token.split(".")
    assert not links.valid("k" * 32, "SERIAL", f"{int(expires) + 9999}.{mac}", now=1000)
    for junk in ("", ".", "abc", "1.2", "９９９９.x", f"{expires}.{mac[:-1]}"):
        assert not links.valid("k" * 32, "SERIAL", junk, now=1000)


# ---------------------------------------------------------------- the seal image


def picture(kind: str, size: tuple[int, int] = (60, 60), colour: tuple[int, ...] = (200, 20, 20)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste(colour, (10, 10, 50, 50))
    image.save(buffer, format=kind)
    return buffer.getvalue()


def test_a_seal_is_re_encoded_as_png_with_its_white_background_cleared() -> None:
    from PIL import Image

    for kind in ("PNG", "JPEG"):
        png = clean_seal(picture(kind))
        assert png.startswith(b"\x89PNG")
        with Image.open(io.BytesIO(png)) as image:
            assert image.mode == "RGBA"
            assert image.getpixel((2, 2))[3] == 0  # type: ignore[index]  # RGBA: a tuple  # the white corner is transparent
            assert image.getpixel((30, 30))[3] == 255 and image.getpixel((30, 30))[0] > 150  # type: ignore[index]  # RGBA: a tuple  # the red is kept


def test_a_big_seal_is_scaled_down() -> None:
    from PIL import Image

    with Image.open(io.BytesIO(clean_seal(picture("PNG", (2400, 1200))))) as image:
        assert max(image.size) == 800


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "是空的"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "PNG 或 JPEG"),
        (b"<html><script>alert(1)</script></html>", "PNG 或 JPEG"),
        (b"GIF89a" + b"\0" * 100, "PNG 或 JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "已损坏"),
        (b"\xff\xd8\xff" + b"<html>" * 50, "已损坏"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_SEAL_BYTES, "过大"),
    ],
    ids=["empty", "svg", "html", "gif", "damaged png", "html behind a jpeg header", "too large"],
)
def test_what_is_not_a_png_or_jpeg_is_refused(content: bytes, message: str) -> None:
    with pytest.raises(SealRejected, match=message):
        clean_seal(content)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    # A 6000 x 6000 PNG of one colour is a few kB; decoded it would be 144 MB.
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (6000, 6000), 255).save(buffer, format="PNG")
    assert len(buffer.getvalue()) < MAX_SEAL_BYTES
    with pytest.raises(SealRejected, match="尺寸过大"):
        clean_seal(buffer.getvalue())


def test_every_member_of_a_team_gets_the_award_and_each_honour() -> None:
    from contest.competitors.certificates import wanted_of

    rows: list[dict[str, Any]] = [
        {
            "award": "一等奖",
            "unit": "甲单位",
            "team": "甲队",
            "people": [{"id": 1, "name": "张三"}, {"id": 2, "name": "李四"}],
            "honours": ["技术能手"],
        },
        {"award": "", "unit": "乙单位", "team": "乙队", "people": [{"id": 3, "name": "王五"}], "honours": []},
        {"award": "优胜奖", "unit": "丙单位"},  # a row published before members were kept: nothing to issue
    ]
    wanted = wanted_of(rows, "2026年市赛", "工业机器人系统运维")
    assert sorted((w.person_id, w.content.name, w.content.award, w.content.honour, w.content.team) for w in wanted) == [
        (1, "张三", "一等奖", "", "甲队"),
        (1, "张三", "一等奖", "技术能手", "甲队"),
        (2, "李四", "一等奖", "", "甲队"),
        (2, "李四", "一等奖", "技术能手", "甲队"),
    ]
