"""One writer per process: judges' marks queue here and are stored in batches, one transaction each.

Under load, marks arrive faster than one transaction per mark can take them (SQLite has a single
writer). The writer takes whatever has queued while the previous batch was being written and
stores it in one transaction with a dozen grouped queries (`service.store_marks_in`): the busier
the hall, the bigger the batches, and the cost per mark falls. A mark is acknowledged only after
its batch has committed. A quiet hall gets batches of one.

On SQLite a batch runs in a thread of its own on a plain sqlite3 connection: one hand-off to the
event loop per batch. Through aiosqlite every statement is a round trip through the event loop,
and behind a fan-out to thousands of boards each round trip waited its turn (bench/results/live.md).
On PostgreSQL the batch runs on the app's async engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from contest import metrics
from contest.db.engine import make_sync_sqlite_engine
from contest.live.service import FactsCache, Judge, MarkIn, MarkRefused, Outcome, store_marks, store_marks_in

log = logging.getLogger("contest.live")

MAX_BATCH = 200  # bounds one transaction; at 200 marks/s batches stay far below it


class MarkWriter:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], database_url: str) -> None:
        self.session_factory = session_factory
        sqlite = database_url.startswith("sqlite")
        self._sync_engine = make_sync_sqlite_engine(database_url) if sqlite else None
        # The app's session info too: the audit key travels in it.
        info = session_factory.kw.get("info")
        self._sync_sessions = sessionmaker(self._sync_engine, expire_on_commit=False, info=info) if sqlite else None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mark-writer") if sqlite else None
        # Facts kept from batch to batch while nobody else writes (service.FactsCache; SQLite only).
        self.facts = FactsCache() if sqlite else None
        self._queue: asyncio.Queue[tuple[Judge, MarkIn, asyncio.Future[Outcome]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._stopped = False
        self.transactions = 0  # batches written (or tried): marks / transactions is the batching gained

    async def submit(self, judge: Judge, mark: MarkIn) -> Outcome:
        """Store one mark with whatever else is queued; raises if its batch could not be written."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((judge, mark, outcome))
        return await outcome

    @property
    def accepting(self) -> bool:
        """Marks can be stored: not stopped (a crashed batch loop restarts on the next mark)."""
        return not self._stopped

    async def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)  # a batch being written finishes (and commits) first
        if self._sync_engine is not None:
            self._sync_engine.dispose()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._store(batch)
            except Exception as exc:  # a bug here must not leave judges waiting for ever
                log.exception("the mark writer failed")
                for _, _, future in batch:
                    _settle(future, exception=exc)

    async def _store(self, batch: list[tuple[Judge, MarkIn, asyncio.Future[Outcome]]]) -> None:
        self.transactions += 1
        started = time.perf_counter()
        try:
            outcomes = await self._write([(judge, mark) for judge, mark, _ in batch])
        except Exception as exc:  # nothing of the batch was stored (rolled back)
            if len(batch) > 1:
                # One mark's failure (say a unique key raced by another process) must not fail the
                # others: store them one by one, so only that mark gets the error.
                for one in batch:
                    await self._store([one])
                return
            log.exception("storing a mark failed")
            _settle(batch[0][2], exception=exc)
            return
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.BATCH_MARKS.observe(len(batch))
        for (_, _, future), outcome in zip(batch, outcomes, strict=True):
            metrics.MARKS.labels(outcome.code if isinstance(outcome, MarkRefused) else outcome[0].status).inc()
            _settle(future, result=outcome)

    async def _write(self, marks: list[tuple[Judge, MarkIn]]) -> list[Outcome]:
        if self._thread is not None:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._write_in_thread, marks)
        async with self.session_factory() as db:
            return await store_marks(db, marks)

    def _write_in_thread(self, marks: list[tuple[Judge, MarkIn]]) -> list[Outcome]:
        assert self._sync_sessions is not None
        with self._sync_sessions() as db:
            return store_marks_in(db, marks, self.facts)


def _settle(future: asyncio.Future[Outcome], result: Outcome | None = None, exception: Exception | None = None) -> None:
    if future.done():  # the judge's socket went away while the batch was written: its ack is not needed
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)  # type: ignore[arg-type]  # without an exception, the caller passes the outcome
