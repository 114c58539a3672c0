"""Award computation with I/O: policy files, results files (Excel/JSON), ledger, CLI.

The rules live in contest.domain.awards; this package only reads and writes.
"""
