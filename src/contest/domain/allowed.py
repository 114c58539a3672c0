"""Is an action allowed now, and if not, why: one rule that the page (a disabled button with the
reason beside it) and the server (the refusal) both read, so a button never offers what the server
then refuses (docs/organizer.md). A payout batch's transitions and four eyes are in payouts.py.

Each function returns the refusal in Chinese, or None when the action may go ahead.
"""

from __future__ import annotations

from datetime import datetime

from contest.domain.lifecycle import PUBLISHED, SETUP
from contest.domain.payouts import DRAFT
from contest.domain.results import appeal_deadline, appeal_window_open
from contest.domain.text import N_, Text


def scheme_edit(status: str) -> str | None:
    return None if status == SETUP else N_("评分已开始,评分方案不能再修改")


def draw(status: str, entries: int) -> str | None:
    if status != SETUP:
        return N_("评分已开始,不能重新抽签")
    if entries == 0:
        return N_("该赛项还没有参赛单元,无法抽签")
    return None


def judge_removal(status: str) -> str | None:
    return None if status == SETUP else N_("评分已开始,不能移除裁判")


def finalize_check(
    status: str, now: datetime, published_at: datetime | None, appeal_hours: int, pending_appeals: int
) -> tuple[str, str] | None:
    """确认最终成绩: published, the appeal window closed, every appeal decided; else (code, why)."""
    if status != PUBLISHED:
        return "bad_state", N_("只有已公示的赛项可以确认最终成绩")
    if published_at is not None and appeal_window_open(now, published_at, appeal_hours):
        deadline = appeal_deadline(published_at, appeal_hours).astimezone().strftime("%Y-%m-%d %H:%M")
        return "appeal_window_open", Text("申诉期至 {deadline} 结束,之后才能确认最终成绩", deadline=deadline)
    if pending_appeals:
        return "appeal_pending", N_("还有申诉未作出仲裁结论,不能确认最终成绩")
    return None


def finalize(status: str, now: datetime, published_at: datetime | None, appeal_hours: int, pending_appeals: int) -> str | None:
    found = finalize_check(status, now, published_at, appeal_hours, pending_appeals)
    return found[1] if found else None


# ---------------------------------------------------------------- deleting drafts


def delete_competition(items: int) -> str | None:
    """A competition can be deleted while it has no items: delete its (draft) items first."""
    if items:
        return Text("该赛事还有 {items} 个赛项,请先删除赛项", items=items)
    return None


def delete_item(status: str, entries: int, marks: int, versions: int) -> str | None:
    """An item can be deleted while nothing depends on it: in setup, no entries, marks or results.
    Its scheme and judge assignments go with it."""
    if status != SETUP:
        return N_("只有筹备中的赛项可以删除")
    if versions:
        return N_("该赛项已有公示成绩,不能删除")
    if marks:
        return Text("该赛项已有 {marks} 个分数,不能删除", marks=marks)
    if entries:
        return Text("该赛项已有 {entries} 个参赛单元,不能删除:参赛名单来自导入", entries=entries)
    return None


def delete_batch(status: str) -> str | None:
    """A payout batch can be deleted while it is a draft (never computed: no lines, nothing paid)."""
    return None if status == DRAFT else N_("只有草稿(尚未计算)的发放批次可以删除")
