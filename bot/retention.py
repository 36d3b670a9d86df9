"""Draft retention: a draft (its request and text) is deleted DRAFTBOT_DRAFT_RETENTION_DAYS
after its last change, by a timer in `draftbot serve` and by `draftbot purge` (for cron).

In the server, each purge runs on the database thread (bot/storage/offloop.py) with the
server's own store, so the event loop never waits for it; other database calls wait the
milliseconds the purge holds the write lock. README.md → "What Draftbot keeps" lists every table and
how long it is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.storage import Storage, open_store
from bot.storage.offloop import off_loop

log = logging.getLogger(__name__)

# How often `draftbot serve` purges (it also purges at start). Hourly: a draft outlives its
# retention by at most an hour, and each run is one indexed delete, so more often buys
# nothing. Not a setting: tests pass `handlers.app.serve` a shorter `purge_interval`.
PURGE_INTERVAL_SECONDS = 3600.0


def cutoff(retention_days: int, now: datetime | None = None) -> str:
    """Drafts last changed before this moment (UTC ISO-8601, as stored) have expired."""
    moment = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return moment.isoformat(timespec="microseconds")


def purge(store: Storage, retention_days: int) -> int:
    """Delete expired drafts, and the Slack event ids remembered as long; return how many
    drafts. On SQLite the deleted text is also wiped from the file and its WAL."""
    purged = store.purge_drafts(cutoff(retention_days))
    if purged:
        log.info("purged %d drafts older than %d days", purged, retention_days)
    return purged


def purge_database(database_url: str, retention_days: int) -> int:
    """`purge` on a connection opened and closed here (`draftbot purge`)."""
    store = open_store(database_url)
    try:
        return purge(store, retention_days)
    finally:
        store.close()


class PurgeTimer:
    """Runs `run` on the database thread at `start` and then every `interval` seconds, until
    `stop`. A failed run is logged in one line and tried again at the next tick: it never
    stops the server."""

    def __init__(self, run: Callable[[], int], interval: float = PURGE_INTERVAL_SECONDS) -> None:
        self.run = run
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="draftbot-purge")

    async def stop(self) -> None:
        """Stop ticking. A purge already running finishes first: milliseconds, at most the
        database's busy or connect timeout."""
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await off_loop(self.run)
            except Exception as error:
                reason = " ".join(str(error).split())  # one line, whatever the driver says
                log.warning(
                    "draft purge failed (%s: %s); trying again in %g s",
                    type(error).__name__,
                    reason,
                    self.interval,
                )
            with contextlib.suppress(TimeoutError):  # the interval passed: purge again
                await asyncio.wait_for(self._stopping.wait(), self.interval)
