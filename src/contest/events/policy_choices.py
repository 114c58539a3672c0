"""The award policies an organizer can attach to a competition: the files in seeds/policies."""

from __future__ import annotations

import tomllib

from contest.settings import Settings


def available_policies(settings: Settings | None = None) -> list[tuple[str, str]]:
    """(policy id, display name) for each policy file; the id is the file name without .toml."""
    folder = (settings or Settings.from_env()).seeds_dir / "policies"
    choices = []
    for path in sorted(folder.glob("*.toml")):
        name = path.stem
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            meta = data.get("policy", data)
            name = str(meta.get("name") or meta.get("title") or path.stem)
        except (OSError, tomllib.TOMLDecodeError):
            pass  # a broken file is reported by `contest policies check`, not by this menu
        choices.append((path.stem, name))
    return choices
