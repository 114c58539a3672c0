"""Summarise a `py-spy record --format raw` profile of our server by where the time goes.

.venv/bin/python -m bench.live.profile_summary var/bench-live/profile-quick-1.raw
"""

from __future__ import annotations

import sys
from collections import Counter

# first matching rule wins; checked against the whole stack (outermost first)
CATEGORIES = [
    ("mark: audit record", ("audit/service.py",)),
    ("mark: batch checks (grouped reads)", ("load (contest/live/service.py", "_apply")),
    ("mark: batch writes", ("_write (contest/live/service.py",)),
    ("mark: batch (lock, commit, session)", ("store_marks",)),
    ("mark: socket + queue", ("_store", "judge_socket")),
    ("board: rebuild fragments (item_results)", ("item_fragment", "_fragment")),
    ("board: progress queries", ("fragments_for", "_progress")),
    ("board: snapshot on hello", ("snapshot",)),
    ("board: send to viewers", ("broadcast", "_send_slice")),
    ("auth on connect", ("authenticate_request", "user_for_token")),
    ("websocket protocol (uvicorn/websockets)", ("websockets", "uvicorn/protocols")),
    ("aiosqlite worker threads (SQLite itself)", ("_connection_worker_thread",)),
]


def main(path: str) -> None:
    total = 0
    by = Counter()
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for line in lines:
        stack, _, n = line.rstrip("\n").rpartition(" ")
        count = int(n)
        total += count
        for label, needles in CATEGORIES:
            if any(needle in stack for needle in needles):
                by[label] += count
                break
        else:
            by["other (event loop, asyncio, litestar)"] += count
    print(f"{total} samples")
    for label, count in by.most_common():
        print(f"{100 * count / total:5.1f}%  {label}")


if __name__ == "__main__":
    main(sys.argv[1])
