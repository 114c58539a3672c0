"""Load award policies (TOML) from a file path or by id from the seeds directory."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from contest import resources
from contest.domain.awards.policy import Policy, PolicyError, validate_policy


def seeds_dir() -> Path:
    """The ``seeds/`` folder (contest.resources), or ``$CONTEST_SEEDS_DIR`` when set."""
    override = os.environ.get("CONTEST_SEEDS_DIR")
    if override:
        return Path(override)
    return resources.seeds_dir()


def policies_dir() -> Path:
    return seeds_dir() / "policies"


def load_policy_file(path: str | Path) -> Policy:
    """Parse and validate one policy file; PolicyError names the file, key and problem."""
    path = Path(path)
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(shown, [("", f"无法读取文件:{exc.strerror or exc}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(shown, [("", "文件不是 UTF-8 编码")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(shown, [("", f"TOML 语法错误:{exc}")]) from None
    return validate_policy(data, shown)


def available_policies() -> list[Path]:
    directory = policies_dir()
    return sorted(directory.glob("*.toml")) if directory.is_dir() else []


def policy_choices() -> list[tuple[str, str]]:
    """(policy id, name) of every valid policy file, for menus; a broken file is left out here
    (``contest policies check`` reports it)."""
    choices = []
    for path in available_policies():
        try:
            policy = load_policy_file(path)
        except PolicyError:
            continue
        choices.append((policy.id, policy.name))
    return choices


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system (a fuzzed form field) names no file
        return False


def load_policy(reference: str | Path) -> Policy:
    """``reference`` is a file path, or a policy id such as "jinengxingwei-weihai-2021"."""
    path = Path(reference)
    if path.suffix == ".toml" or _exists(path) or os.sep in str(reference):
        return load_policy_file(path)
    candidate = policies_dir() / f"{reference}.toml"
    if _exists(candidate):
        policy = load_policy_file(candidate)
        if policy.id == str(reference):
            return policy
    for file in available_policies():  # the id inside a file is what counts
        try:
            policy = load_policy_file(file)
        except PolicyError:
            continue
        if policy.id == str(reference):
            return policy
    known = ", ".join(p.stem for p in available_policies()) or "无"
    raise PolicyError(str(reference), [("id", f"在 {policies_dir()} 中找不到该政策;已有:{known}")])
