"""Payout batches: from published results to approved payout lists and the ledger (docs/payouts.md)."""
