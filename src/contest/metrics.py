"""What an operator watches on competition day, as Prometheus metrics (served at /metrics).

Counted where it happens: the mark writer counts its batches and the marks' outcomes, the judges'
socket times each mark from its message to its acknowledgement, the sockets count connected
tablets and boards, and the error responses count their codes. The standard client library does
the exposition. Several processes serve (the judge process and its board processes, or several
workers): `contest serve` gives them one empty directory in ``PROMETHEUS_MULTIPROC_DIR`` (the
library's multiprocess mode; an operator's own is kept), and /metrics adds up every process.
Without it (the app made in-process, as in the tests), /metrics shows this process alone.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

MARKS = Counter("contest_marks", "Judges' marks answered by the mark writer, by outcome (stored, duplicate or a refusal code)", ["outcome"])
ACK_SECONDS = Histogram(
    "contest_mark_ack_seconds",
    "From a judge's mark message to its acknowledgement on the socket",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BATCH_MARKS = Histogram("contest_writer_batch_marks", "Marks per transaction of the mark writer", buckets=(1, 2, 5, 10, 20, 50, 100, 200))
BATCH_SECONDS = Histogram(
    "contest_writer_batch_seconds", "Time to store one batch of marks", buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
)
TABLETS = Gauge("contest_connected_tablets", "Judges' tablets connected now", multiprocess_mode="livesum")
BOARDS = Gauge("contest_connected_boards", "Boards and public pages connected now", multiprocess_mode="livesum")
ERRORS = Counter("contest_errors", "Error answers to clients, by code (pages, API and the judges' socket)", ["code"])


def exposition() -> tuple[bytes, str]:
    """The metrics of this process, or of every process in multiprocess mode; and the content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
