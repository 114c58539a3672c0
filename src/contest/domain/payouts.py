"""A payout batch's states and who may move it (docs/payouts.md).

draft -> computed -> submitted -> approved -> paid. A recompute that changes anything sends a
submitted batch back to computed (approve only what was submitted); approved and paid batches are
frozen. Approval needs a second person: neither the batch's creator nor its submitter (four eyes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contest.domain.text import N_


class BatchStatus(StrEnum):
    DRAFT = "draft"
    COMPUTED = "computed"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PAID = "paid"


class BatchKind(StrEnum):
    REGULAR = "regular"
    CORRECTION = "correction"  # reverses paid lines of an earlier batch and pays the right amounts


DRAFT, COMPUTED, SUBMITTED, APPROVED, PAID = BatchStatus

STATUS_LABELS: dict[str, str] = {
    DRAFT: N_("草稿"),
    COMPUTED: N_("已计算"),
    SUBMITTED: N_("待审批"),
    APPROVED: N_("已审批"),
    PAID: N_("已发放"),
}
KIND_LABELS: dict[str, str] = {BatchKind.REGULAR: N_("常规批次"), BatchKind.CORRECTION: N_("更正批次")}
FROZEN = frozenset({APPROVED, PAID})  # the lines never change again
EDITABLE = frozenset({DRAFT, COMPUTED, SUBMITTED})  # may be recomputed, amounts set, external results imported


@dataclass(frozen=True)
class BatchTransition:
    sources: frozenset[BatchStatus]  # the statuses it may start from
    target: BatchStatus | None  # None: the status stays (a permission recorded on the batch)
    refusal: str  # said when the batch is in another status


TRANSITIONS: dict[str, BatchTransition] = {
    "submit": BatchTransition(frozenset({COMPUTED}), SUBMITTED, N_("只有已计算的批次可以提交审批")),
    "approve": BatchTransition(frozenset({SUBMITTED}), APPROVED, N_("只有待审批的批次可以审批")),
    "return": BatchTransition(frozenset({SUBMITTED}), COMPUTED, N_("只有待审批的批次可以退回")),
    "pay": BatchTransition(frozenset({APPROVED}), PAID, N_("只有已审批的批次可以登记为已发放")),
    "override_results": BatchTransition(frozenset({COMPUTED, SUBMITTED}), None, N_("只有已计算或待审批的批次可以准许提前审批")),
}


def refusal(transition: str, status: str) -> str | None:
    """Why ``transition`` cannot start from ``status`` (Chinese), or None when it can."""
    rule = TRANSITIONS[transition]
    if status in rule.sources:
        return None
    if transition == "submit" and status == SUBMITTED:
        return N_("该批次已提交审批")
    return rule.refusal


def status_after_compute(status: str, changed: bool) -> BatchStatus:
    """A first computation makes a draft computed; a recompute that changed anything sends a
    submitted batch back to computed, so it is approved only as it now stands."""
    if status == DRAFT or (status == SUBMITTED and changed):
        return COMPUTED
    return BatchStatus(status)


def frozen_refusal(status: str) -> str | None:
    """Why an approved or paid batch's lines cannot be recomputed or changed, or None."""
    if status == APPROVED:
        return N_("批次已审批,发放行已冻结,不能重新计算或修改金额;如需更正请建立更正批次")
    if status == PAID:
        return N_("批次已发放,发放行已冻结,不能重新计算或修改金额;如需更正请建立更正批次")
    return None


def four_eyes_refusal(approver_id: int | None, created_by_id: int | None, submitted_by_id: int | None) -> str | None:
    """The approver must be someone else than the batch's creator and its submitter."""
    if approver_id is None or approver_id not in (created_by_id, submitted_by_id):
        return None
    if approver_id == created_by_id:
        return N_("审批人不能是本批次的创建人:须由另一名财务人员审批")
    return N_("审批人不能是本批次的提交人:须由另一名财务人员审批")
