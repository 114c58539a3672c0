"""Read the ledger of earlier payouts and the batch settings file."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from pathlib import Path

from contest.domain.awards.inputs import (
    InputError,
    InputErrors,
    ledger_from_json,
    settings_from_dict,
)
from contest.domain.awards.model import AwardResult, BatchSettings, LedgerEntry
from contest.domain.text import Text


def _load(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputErrors([InputError(Text("无法读取文件:{problem}", problem=str(exc.strerror or exc)), str(path))]) from None
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputErrors([InputError(Text("文件格式错误:{problem}", problem=str(exc)), str(path))]) from None


def _prefixed(exc: InputErrors, path: Path) -> InputErrors:
    return InputErrors([InputError(e.message, f"{path}: {e.where}") for e in exc.errors])


def read_ledger(paths: Iterable[str | Path]) -> list[LedgerEntry]:
    """Entries from one or more files: a list of entries, {"entries": [...]}, or an earlier
    payouts JSON written by `awards compute --json` (its ledger_entries)."""
    entries: list[LedgerEntry] = []
    for raw in paths:
        path = Path(raw)
        try:
            entries.extend(ledger_from_json(_load(path)))
        except InputErrors as exc:
            raise _prefixed(exc, path) from None
    return entries


def write_ledger(result: AwardResult, path: str | Path, earlier: Iterable[LedgerEntry] = ()) -> None:
    """The ledger after this batch: earlier entries followed by this batch's payouts."""
    entries = [e.to_json() for e in earlier] + [e.to_json() for e in result.ledger_entries()]
    Path(path).write_text(json.dumps({"entries": entries}, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def read_settings(path: str | Path | None) -> BatchSettings:
    """Batch settings from .toml or .json; none given: the policy defaults."""
    if path is None:
        return BatchSettings()
    path = Path(path)
    data = _load(path)
    if not isinstance(data, dict):
        raise InputErrors([InputError("批次设置应为表/对象", str(path))])
    try:
        return settings_from_dict(data)
    except InputErrors as exc:
        raise _prefixed(exc, path) from None
