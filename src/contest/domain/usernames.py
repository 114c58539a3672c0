"""Usernames: one spelling per account, and no account that reads like another.

A username is normalised (NFKC, then case-folded) before it is stored or looked up, so `ORG`,
`Org` and the full-width `ＯＲＧ` are all `org`. New usernames must then be 2-32 characters of
ASCII letters, digits and `.` `_` `-`, starting and ending with a letter or digit: printable on a
judge's sign-in sheet, safe in any page or file name, and with no letter from another script that
looks like a Latin one (Cyrillic `о` beside Latin `o`). Within that set, `skeleton` folds the
characters that still look alike (`0`/`o`, `1`/`l`/`i`, `rn`/`m`, the three separators) so an
account that reads like an existing one can be refused.
"""

from __future__ import annotations

import re
import unicodedata

from contest.domain.text import N_, Text

MIN_LENGTH, MAX_LENGTH = 2, 32
_SAFE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$")
_ALLOWED = N_("英文字母、数字和「.」「_」「-」")

# Letters of other scripts that read as a Latin letter (after case folding), for the message.
_LOOKS_LATIN = {
    # Cyrillic
    "а": "a", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "о": "o",
    "р": "p", "ԛ": "q", "ѕ": "s", "ԝ": "w", "х": "x", "у": "y", "с": "c", "ԁ": "d", "ь": "b",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ϲ": "c", "ϳ": "j", "ω": "w",
    # Armenian, Latin extensions
    "օ": "o", "ս": "u", "հ": "h", "ց": "g", "ı": "i", "ɩ": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g",
}  # fmt: skip
_SCRIPTS = {"CYRILLIC": N_("西里尔"), "GREEK": N_("希腊"), "ARMENIAN": N_("亚美尼亚"), "LATIN": N_("拉丁扩展")}

# Folded by `skeleton`: what still reads alike inside the safe set.
_SKELETON_PAIRS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("_", "-"), (".", "-"))


class UsernameError(ValueError):
    """A username that cannot be used; the message is Chinese and names the problem."""


def normalise(raw: object) -> str:
    """The one spelling of a username: NFKC, case-folded, outer spaces removed. Used for sign-in
    and look-ups too, so a differently-cased or full-width spelling finds the account."""
    text = "" if raw is None else str(raw)
    # Case folding can undo NFKC (and the other way round): fold, then normalise again.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def _describe(char: str) -> str:
    if char == " ":
        return Text("空格")
    if not char.isprintable() or char.isspace():
        return f"U+{ord(char):04X}"
    return char


def validate(raw: object) -> str:
    """The normalised username, or UsernameError saying what is wrong (in Chinese)."""
    name = normalise(raw)
    if not name:
        raise UsernameError(N_("用户名不能为空"))
    for char in name:
        if "a" <= char <= "z" or "0" <= char <= "9" or char in "._-":
            continue
        looks_like = _LOOKS_LATIN.get(char)
        if looks_like:
            script = Text(_SCRIPTS.get(unicodedata.name(char, "").split(" ")[0], N_("其他文字")))
            raise UsernameError(
                Text(
                    "用户名中的「{char}」是{script}字母,与英文字母「{looks_like}」形似,不能使用;用户名只能由{allowed}组成",
                    char=char,
                    script=script,
                    looks_like=looks_like,
                    allowed=Text(_ALLOWED),
                )
            )
        raise UsernameError(Text("用户名不能包含「{char}」;只能由{allowed}组成", char=_describe(char), allowed=Text(_ALLOWED)))
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise UsernameError(Text("用户名应为 {low}-{high} 个字符,实际 {length} 个", low=MIN_LENGTH, high=MAX_LENGTH, length=len(name)))
    if not _SAFE.match(name):
        raise UsernameError(N_("用户名须以英文字母或数字开头和结尾"))
    return name


def latinised(name: str) -> str | None:
    """The Latin username a name with other-script look-alikes reads as (`оrg` -> `org`), or None."""
    folded = "".join(_LOOKS_LATIN.get(char, char) for char in normalise(name))
    return folded if folded != normalise(name) and _SAFE.match(folded) else None


def skeleton(name: str) -> str:
    """What a (normalised) username looks like: two usernames with one skeleton read alike."""
    folded = normalise(name)
    for seen, same_as in _SKELETON_PAIRS:
        folded = folded.replace(seen, same_as)
    return folded
