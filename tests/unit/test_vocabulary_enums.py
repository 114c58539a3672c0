"""Statuses and roles are compared with their enums, in Python and in the templates, and each
vocabulary has one table of labels."""

from __future__ import annotations

import re
from pathlib import Path

from contest.db.models import Appeal, Certificate, PayoutBatch
from contest.domain.certificates import STATUSES as CERTIFICATE_LABELS
from contest.domain.certificates import CertificateStatus
from contest.domain.competition import ITEM_STATUSES
from contest.domain.lifecycle import ItemStatus
from contest.domain.payouts import BatchKind, BatchStatus
from contest.domain.results import AppealStatus
from contest.payouts.sources import ITEM_STATUS_LABELS
from contest.results.service import APPEAL_DECISIONS

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"

# `x.status == "final"`, `user.role in ("organizer", ...)`, `batch.kind != 'regular'`
RAW = re.compile(r"""\.(status|role|kind)\s*(==|!=|in|not in)\s*\(?\s*["'][a-z_]+["']""")
# Compared with raw strings still: vocabularies without an enum (a payout line's kind and award
# role, a payee's kind, an import's kind) and pages outside this change.
NOT_YET = {
    "base.html": ["user.role"],
    "live/_devices.html": ["judge.role"],
    "live/_live.html": ["item.status"],
    "live/console.html": ["item.status", "request.user.role"],
    "payouts/batch.html": ["s.status", "l.kind", "l.role"],
    "payouts/ledger.html": ["e.role"],
    "payouts/payees.html": ["p.kind"],
}
ENUM_PAGES = [
    "payouts/batch.html",
    "payouts/index.html",
    "results/item.html",
    "results/_papers.html",
    "desks/public_competition.html",
    "competitors/desk.html",
    "competitors/verify.html",
]


def _raw_comparisons(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = []
    for match in RAW.finditer(text):
        subject = re.search(r"[\w.]+$", text[: match.start()] + "." + match.group(1))
        found.append(subject.group(0) if subject else match.group(0))
    return found


def test_templates_compare_statuses_and_roles_with_the_enums() -> None:
    left = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        raw = [s for s in _raw_comparisons(path) if s not in NOT_YET.get(name, [])]
        if raw:
            left[name] = raw
    assert left == {}, "compare with the enums the templates get as globals (Role, ItemStatus, BatchStatus, ...)"
    for name in ENUM_PAGES:
        assert re.search(r"(Role|ItemStatus|BatchStatus|BatchKind|AppealStatus|CertificateStatus)\.[A-Z_]+", (TEMPLATES / name).read_text())


def test_the_check_sees_a_raw_comparison() -> None:
    assert RAW.search('{% if batch.status == "draft" %}')
    assert RAW.search("{% if item.status in ('published', 'final') %}")
    assert not RAW.search("{% if batch.status == BatchStatus.DRAFT %}")


def test_the_enums_are_the_stored_values() -> None:
    assert [s.value for s in AppealStatus] == ["pending", "upheld", "rejected"]
    assert [s.value for s in CertificateStatus] == ["valid", "superseded", "revoked"]
    assert set(APPEAL_DECISIONS) == {AppealStatus.UPHELD, AppealStatus.REJECTED}
    assert set(CERTIFICATE_LABELS) == set(CertificateStatus)
    # The models' defaults are the enums' values (what a new row stores).
    defaults = {
        (PayoutBatch, "status"): BatchStatus.DRAFT,
        (PayoutBatch, "kind"): BatchKind.REGULAR,
        (Appeal, "status"): AppealStatus.PENDING,
        (Certificate, "status"): CertificateStatus.VALID,
    }
    for (model, column), value in defaults.items():
        default = model.__table__.c[column].default
        assert default is not None and default.arg == value and str(default.arg) == value.value


def test_item_statuses_have_one_table_of_labels() -> None:
    assert set(ItemStatus) <= set(ITEM_STATUSES)
    assert set(ITEM_STATUSES) - set(ItemStatus) == {"submitted"}  # derived from the marks, not stored
    assert ITEM_STATUS_LABELS == ITEM_STATUSES
