"""Competitors' results and award certificates (获奖证书): the rules, pure and without I/O.

- Serial numbers: 128 random bits written in Crockford's base32 (26 characters, no I/L/O/U), so
  a number read off paper and typed back (lower case, O for 0, hyphens, spaces) still finds it.
- Names on public pages are masked: 张* (two characters), 张*三 (three), 欧**明 (four).
- Certificate text comes from the organizer's template, with placeholders like ``{姓名}``;
  an unknown placeholder or a stray brace is refused with a Chinese message naming it.
- Dates are printed the way certificates print them: 二〇二六年十一月二十二日.
- Honours (荣誉称号) follow from awards through the organizer's rules.
- A republication plans what happens to the certificates already issued (``plan``): a
  certificate whose printed facts are unchanged stays valid (and is confirmed by the new
  version); one whose facts changed is superseded by a new certificate; one the new version
  no longer grants is revoked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from contest.domain.text import N_

# ---------------------------------------------------------------- serial numbers

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_BITS = 128
SERIAL_LENGTH = 26  # ceil(128 / 5)
_READ_AS = {"O": "0", "I": "1", "L": "1"}


def encode_serial(number: int) -> str:
    """``number`` (0 <= number < 2**128) as 26 Crockford base32 characters."""
    if not 0 <= number < 2**SERIAL_BITS:
        raise ValueError("serial number out of range")
    chars = []
    for _ in range(SERIAL_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(CROCKFORD[digit])
    return "".join(reversed(chars))


def normalise_serial(text: str) -> str | None:
    """The serial as stored, from what someone typed or scanned; None if it cannot be one."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper()
    cleaned = "".join(_READ_AS.get(c, c) for c in cleaned)
    if len(cleaned) != SERIAL_LENGTH or any(c not in CROCKFORD for c in cleaned):
        return None
    if CROCKFORD.index(cleaned[0]) >= 8:  # 26 x 5 = 130 bits: the first character carries 3
        return None
    return cleaned


def grouped(serial: str) -> str:
    """For print: 0K3M-8Z2Q-... in groups of four (the last group of two)."""
    return "-".join(serial[i : i + 4] for i in range(0, len(serial), 4))


# ---------------------------------------------------------------- names


def mask_name(name: str) -> str:
    """张三 -> 张*, 张小三 -> 张*三, 欧阳小明 -> 欧**明; one character -> *."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ---------------------------------------------------------------- dates

_DIGITS = "〇一二三四五六七八九"


def _small_number(n: int) -> str:
    """1..31 in Chinese: 一, 十, 十一, 二十, 二十二, 三十一."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def chinese_date(day: date) -> str:
    """2026-11-22 -> 二〇二六年十一月二十二日 (the year digit by digit, as certificates write it)."""
    year = "".join(_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{_small_number(day.month)}月{_small_number(day.day)}日"


# ---------------------------------------------------------------- certificate text

# placeholder -> the content field it prints
PLACEHOLDERS: dict[str, str] = {
    "姓名": "name",
    "单位": "unit",
    "团队": "team",
    "赛事": "competition",
    "赛项": "item",
    "奖项": "award",
    "荣誉": "honour",
}
DEFAULT_TITLE = "荣誉证书"
DEFAULT_AWARD_BODY = "{姓名} 同志：\n在{赛事}{赛项}赛项中成绩优异，荣获{奖项}。\n特发此证，以资鼓励。"
DEFAULT_HONOUR_BODY = "{姓名} 同志：\n在{赛事}{赛项}赛项中荣获{奖项}，被授予“{荣誉}”称号。\n特发此证，以资鼓励。"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class TemplateError(ValueError):
    """A certificate template that cannot be used; the message is Chinese and names the problem."""


@dataclass(frozen=True)
class Piece:
    text: str
    filled: bool  # a placeholder's value (printed in bold), or the template's own words


def parse_body(text: str, label: str = "证书正文", allowed: Iterable[str] = PLACEHOLDERS) -> list[list[tuple[str, str | None]]]:
    """The template as paragraphs of (literal text, placeholder field or None) parts.

    TemplateError for an unknown placeholder, a brace without its partner, or an empty text.
    """
    allowed = set(allowed)
    if not text.strip():
        raise TemplateError(f"{label}不能为空")
    paragraphs = []
    for line in text.replace("\r\n", "\n").split("\n"):
        parts: list[tuple[str, str | None]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(line):
            _literal(line[position : match.start()], label, parts)
            name = match.group(1).strip()
            if name not in allowed:
                known = "、".join("{" + p + "}" for p in PLACEHOLDERS if p in allowed)
                raise TemplateError(f"{label}中的「{{{match.group(1)}}}」不是可用的占位符;可用:{known}")
            parts.append(("", PLACEHOLDERS[name]))
            position = match.end()
        _literal(line[position:], label, parts)
        if parts:
            paragraphs.append(parts)
    return paragraphs


def _literal(text: str, label: str, parts: list[tuple[str, str | None]]) -> None:
    if "{" in text or "}" in text:
        raise TemplateError(f"{label}中有不成对的花括号:占位符应写成 {{姓名}} 这样")
    if text:
        parts.append((text, None))


def fill(paragraphs: Sequence[Sequence[tuple[str, str | None]]], values: Mapping[str, str]) -> list[list[Piece]]:
    """The paragraphs with each placeholder replaced by its value (empty values leave nothing)."""
    filled = []
    for parts in paragraphs:
        pieces = [Piece(values.get(name, ""), True) if name else Piece(text, False) for text, name in parts]
        filled.append([p for p in pieces if p.text])
    return filled


def check_templates(title: str, award_body: str, honour_body: str) -> list[str]:
    """Every problem of a certificate template, in Chinese (empty: usable)."""
    return list(template_problems(title, award_body, honour_body).values())


def template_problems(title: str, award_body: str, honour_body: str) -> dict[str, str]:
    """The problems by part ("title", "award_body", "honour_body"), for a form to show each
    beside its field."""
    problems = {}
    if not title.strip():
        problems["title"] = N_("证书标题不能为空")
    for key, text, label, allowed in (
        ("award_body", award_body, "获奖证书正文", [p for p in PLACEHOLDERS if p != "荣誉"]),
        ("honour_body", honour_body, "荣誉证书正文", list(PLACEHOLDERS)),
    ):
        try:
            parse_body(text, label, allowed)
        except TemplateError as exc:
            problems[key] = str(exc)
    return problems


# ---------------------------------------------------------------- honours

AWARD_CODES = ("first", "second", "third", "excellence")


@dataclass(frozen=True)
class HonourRule:
    """荣誉称号 granted to every competitor with one of ``awards`` (e.g. 技术能手 for 1st-3rd)."""

    title: str
    awards: frozenset[str]


def honours_for(award: str | None, rules: Iterable[HonourRule]) -> list[str]:
    """The honour titles an award earns, in the rules' order, each once."""
    titles: list[str] = []
    for rule in rules:
        if award is not None and award in rule.awards and rule.title not in titles:
            titles.append(rule.title)
    return titles


# ---------------------------------------------------------------- the second factor

FACTORS = {"id_last4": N_("证件号码后四位"), "access_code": N_("查询码")}
ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read off paper without doubt
ACCESS_CODE_LENGTH = 8  # 31^8: about 40 bits


def normalise_code(text: str) -> str:
    return re.sub(r"[\s\-]", "", text or "").upper()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def id_tail_matches(id_number: str, typed: str) -> bool:
    """The last four characters of the 证件号码, case-insensitive (a final X may be typed x)."""
    typed = normalise_code(typed)
    return len(typed) == 4 and len(id_number or "") >= 4 and id_number.upper()[-4:] == typed


def normalise_name(text: str) -> str:
    """A typed name as compared with the roster: spaces around it (full-width too) do not count."""
    return (text or "").strip()


# ---------------------------------------------------------------- republication


class CertificateStatus(StrEnum):
    """A certificate's status (Certificate.status holds the value): valid until a republication
    supersedes it (the results changed) or revokes it (the entry lost its award)."""

    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


STATUSES = {
    CertificateStatus.VALID: N_("有效"),
    CertificateStatus.SUPERSEDED: N_("已被更正后的证书取代"),
    CertificateStatus.REVOKED: N_("已撤销"),
}
CONTENT_FIELDS = ("name", "unit", "team", "competition", "item", "award", "honour")


@dataclass(frozen=True)
class Content:
    """What a certificate states: any change of these makes it a different certificate."""

    name: str
    unit: str
    team: str
    competition: str
    item: str
    award: str
    honour: str = ""

    @property
    def kind(self) -> str:
        return "honour" if self.honour else "award"


@dataclass(frozen=True)
class Wanted:
    """A certificate the new version grants: one per person and award, and per person and honour."""

    person_id: int
    content: Content

    @property
    def slot(self) -> tuple[int, str]:
        return (self.person_id, f"honour:{self.content.honour}" if self.content.honour else "award")


@dataclass(frozen=True)
class Existing:
    """A valid certificate of the item from an earlier version."""

    certificate_id: int
    person_id: int
    content: Content

    @property
    def slot(self) -> tuple[int, str]:
        return (self.person_id, f"honour:{self.content.honour}" if self.content.honour else "award")


@dataclass
class Plan:
    keep: list[int] = field(default_factory=list)  # valid certificates the new version confirms unchanged
    replace: list[tuple[int, Wanted]] = field(default_factory=list)  # (superseded certificate, its successor)
    revoke: list[int] = field(default_factory=list)  # no longer granted
    issue: list[Wanted] = field(default_factory=list)  # newly granted


def plan(existing: Iterable[Existing], wanted: Iterable[Wanted]) -> Plan:
    """What a new result version does to the item's valid certificates.

    A slot is a person's award, or a person's honour with a given title. Every valid certificate
    ends in exactly one of keep / replace / revoke; every wanted slot is covered by exactly one
    kept or new certificate. Two valid certificates in one slot (never made by this function)
    are treated as the first kept or replaced and the others revoked.
    """
    result = Plan()
    wanted_by_slot: dict[tuple[int, str], Wanted] = {}
    for want in wanted:
        wanted_by_slot.setdefault(want.slot, want)
    covered: set[tuple[int, str]] = set()
    for old in sorted(existing, key=lambda e: e.certificate_id):
        wanted_now = wanted_by_slot.get(old.slot)
        if wanted_now is None or old.slot in covered:
            result.revoke.append(old.certificate_id)
        elif wanted_now.content == old.content:
            result.keep.append(old.certificate_id)
            covered.add(old.slot)
        else:
            result.replace.append((old.certificate_id, wanted_now))
            covered.add(old.slot)
    result.issue = [want for slot, want in wanted_by_slot.items() if slot not in covered]
    return result
