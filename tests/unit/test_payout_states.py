"""The payout batch's state table and the four-eyes rule (domain/payouts.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contest.domain.payouts import (
    EDITABLE,
    FROZEN,
    TRANSITIONS,
    BatchStatus,
    four_eyes_refusal,
    frozen_refusal,
    refusal,
    status_after_compute,
)


def test_the_path_of_a_batch() -> None:
    status = status_after_compute(BatchStatus.DRAFT, changed=False)
    assert status == BatchStatus.COMPUTED
    for step in ("submit", "approve", "pay"):
        assert refusal(step, status) is None
        target = TRANSITIONS[step].target
        assert target is not None
        status = target
    assert status == BatchStatus.PAID
    assert frozen_refusal(status) is not None


@given(st.sampled_from(list(BatchStatus)), st.sampled_from(sorted(TRANSITIONS)))
def test_a_transition_starts_only_from_its_sources(status: BatchStatus, step: str) -> None:
    problem = refusal(step, status)
    assert (problem is None) == (status in TRANSITIONS[step].sources)
    assert problem is None or "批次" in problem


def test_frozen_and_editable_split_the_statuses() -> None:
    assert set(BatchStatus) == FROZEN | EDITABLE
    assert not FROZEN & EDITABLE
    assert all(frozen_refusal(s) is None for s in EDITABLE)


@given(st.sampled_from(list(BatchStatus)), st.booleans())
def test_a_recompute_that_changed_something_undoes_the_submission(status: BatchStatus, changed: bool) -> None:
    after = status_after_compute(status, changed)
    if status == BatchStatus.DRAFT or (status == BatchStatus.SUBMITTED and changed):
        assert after == BatchStatus.COMPUTED
    else:
        assert after == status


def test_four_eyes() -> None:
    assert four_eyes_refusal(3, created_by_id=1, submitted_by_id=2) is None
    assert four_eyes_refusal(None, created_by_id=1, submitted_by_id=2) is None  # the command line has no account
    creator, submitter = four_eyes_refusal(1, 1, 2), four_eyes_refusal(2, 1, 2)
    assert creator is not None and "创建人" in creator
    assert submitter is not None and "提交人" in submitter
