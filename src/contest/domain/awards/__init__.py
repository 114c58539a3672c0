"""Award engine and policy schema (pure: no I/O). See docs/policies.md and docs/awards.md.

from contest.domain.awards import compute_awards, validate_policy
policy = validate_policy(tomllib.loads(text), "seeds/policies/x.toml")
result = compute_awards(policy, achievements, BatchSettings(batch_id="2024-1"), ledger)
result.to_json()
"""

from contest.domain.awards.engine import AwardError, birth_date_from_id, compute_awards
from contest.domain.awards.inputs import (
    InputError,
    InputErrors,
    achievement_from_dict,
    achievements_from_json,
    ledger_from_json,
    settings_from_dict,
)
from contest.domain.awards.model import (
    Achievement,
    AwardResult,
    BatchSettings,
    Coach,
    Competition,
    ExcludedLine,
    HonourLine,
    InputPool,
    LedgerEntry,
    Member,
    PayerTotal,
    PayoutLine,
    Person,
    Result,
)
from contest.domain.awards.policy import (
    AmountRule,
    Eligibility,
    Policy,
    PolicyError,
    Tier,
    validate_policy,
)

__all__ = [
    "Achievement",
    "AmountRule",
    "AwardError",
    "AwardResult",
    "BatchSettings",
    "Coach",
    "Competition",
    "Eligibility",
    "ExcludedLine",
    "HonourLine",
    "InputError",
    "InputErrors",
    "InputPool",
    "LedgerEntry",
    "Member",
    "PayerTotal",
    "PayoutLine",
    "Person",
    "Policy",
    "PolicyError",
    "Result",
    "Tier",
    "achievement_from_dict",
    "achievements_from_json",
    "birth_date_from_id",
    "compute_awards",
    "ledger_from_json",
    "settings_from_dict",
    "validate_policy",
]
