"""Competitions and items: the vocabulary (levels, classes, item lifecycle)."""

from __future__ import annotations

from decimal import Decimal

from contest.domain.lifecycle import ItemStatus
from contest.domain.text import N_, Text

LEVELS = {"world": N_("世界"), "national": N_("国家"), "provincial": N_("省"), "municipal": N_("市")}
CATEGORIES = {1: N_("一类"), 2: N_("二类")}
# The one table of an item status's label (pages, the board, the payout sources). "submitted" is
# not stored: it is derived from the marks (all in, no open disagreement; domain/lifecycle.py).
ITEM_STATUSES: dict[str, str] = {
    ItemStatus.SETUP: N_("筹备"),
    ItemStatus.SCORING: N_("评分中"),
    "submitted": N_("已提交"),
    ItemStatus.LOCKED: N_("已锁定"),
    ItemStatus.REVEALED: N_("已解密"),
    ItemStatus.PUBLISHED: N_("已公示"),
    ItemStatus.FINAL: N_("已确认"),
}
MAX_TEAM_SIZE = 3
# The hall board turns its page every this many seconds (the competition's setting; ?interval= in the
# board's address overrides it for one screen: static/js/board.js).
BOARD_INTERVAL_DEFAULT = 10
BOARD_INTERVAL_MIN = 3
BOARD_INTERVAL_MAX = 600
BOARD_INTERVAL_CHOICES = (5, 10, 20, 30, 60)  # offered as links beside 大屏 on the organizer's pages


def board_interval_problem(seconds: int | None) -> str | None:
    if seconds is None or not BOARD_INTERVAL_MIN <= seconds <= BOARD_INTERVAL_MAX:
        return N_("大屏翻页间隔应在 3 到 600 秒之间")
    return None


def competition_problems(name: str, year: int | None, level: str, category: int | None) -> dict[str, str]:
    """A message per form field (``name``, ``year``, ``level``, ``category``) that is wrong."""
    errors = {}
    if not name.strip():
        errors["name"] = N_("赛事名称不能为空")
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = N_("年度应为 2000 到 2100 之间的年份")
    if level not in LEVELS:
        errors["level"] = Text("级别「{level}」无效,应为 世界/国家/省/市", level=level)
    if category not in CATEGORIES:
        errors["category"] = N_("类别应为 一类 或 二类")
    return errors


def validate_competition(name: str, year: int | None, level: str, category: int | None) -> list[str]:
    return list(competition_problems(name, year, level, category).values())


def item_problems(name: str, skill_code: str, skill_name: str, is_team: bool, team_size: int | None) -> dict[str, str]:
    """A message per form field (``name``, ``skill_code``, ``skill_name``, ``team_size``) that is wrong."""
    errors = {}
    if not name.strip():
        errors["name"] = N_("赛项名称不能为空")
    if not skill_code.strip():
        errors["skill_code"] = N_("职业(工种)代码不能为空:它是跨赛事认定“同一项目”的依据")
    if not skill_name.strip():
        errors["skill_name"] = N_("职业(工种)名称不能为空")
    if is_team and (team_size is None or not 2 <= team_size <= MAX_TEAM_SIZE):
        errors["team_size"] = Text("团队赛项的团队人数应为 2 到 {size} 人", size=MAX_TEAM_SIZE)
    return errors


def validate_item(name: str, skill_code: str, skill_name: str, is_team: bool, team_size: int | None) -> list[str]:
    return list(item_problems(name, skill_code, skill_name, is_team, team_size).values())


def excellence_fraction_problem(fraction: Decimal) -> str | None:
    """优胜奖比例: a share of the field in [0, 1], stored with three decimals."""
    exponent = fraction.normalize().as_tuple().exponent
    if not Decimal(0) <= fraction <= Decimal(1) or (isinstance(exponent, int) and exponent < -3):
        return N_("优胜奖比例应在 0 到 1 之间、最多三位小数(如 0.5 或 50%,表示前一半)")
    return None
