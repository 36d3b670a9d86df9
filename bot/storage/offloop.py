"""Database calls run off the event loop, so the loop never waits on the database.

A lock held by another process, a slow disk or a PostgreSQL server that stopped answering
then delays only the drafts that need that call; acks, other people's commands and
`/healthz` go on. Calls run one at a time on one worker thread (each backend has a single
connection, used under a lock, anyway), and the backends bound each wait (SQLite's busy
timeout, PostgreSQL's timeouts).

Writes fail fast for a moment after a write failed (`write_off_loop`), instead of each
waiting out the same lock in turn: the usage journal keeps what could not be written, and
the next write after the pause finds out whether the database is back.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.storage.dialects import StorageError

P = ParamSpec("P")
T = TypeVar("T")

WRITE_PAUSE_SECONDS = 2.0  # after a failed write, how long other writes fail at once
_executor = ThreadPoolExecutor(1, thread_name_prefix="draftbot-db")


class DatabaseUnavailable(Exception):
    """A write was not tried: another write failed moments ago."""


# When a write last failed, by the object writing (a store, the budgets, the sessions), so
# one database's trouble never pauses another's writes (several services in one process).
_failed_at: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()


async def off_loop(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(*args, **kwargs)` on the database thread (reads, and probes such as a replay)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(call, *args, **kwargs))


async def write_off_loop(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A write on the database thread, failing at once just after another write failed."""
    owner = getattr(call, "__self__", call)
    return await off_loop(_guarded, owner, functools.partial(call, *args, **kwargs))


def is_database_error(error: BaseException) -> bool:
    """Did the database (not Draftbot) fail: locked, full, read-only, unreachable?"""
    module = type(error).__module__.split(".")[0]
    known = (sqlite3.Error, DatabaseUnavailable, StorageError)
    return isinstance(error, known) or module == "psycopg"


def _guarded(owner: object, write: Callable[[], T]) -> T:
    # Runs on the database thread, so the check sees the outcome of the writes before it.
    failed_at = _failed_at.get(owner)
    if failed_at is not None and time.monotonic() - failed_at < WRITE_PAUSE_SECONDS:
        raise DatabaseUnavailable("a write failed moments ago")
    try:
        result = write()
    except Exception as error:
        if is_database_error(error):  # not, say, a draft someone else owns
            _failed_at[owner] = time.monotonic()
        raise
    _failed_at.pop(owner, None)
    return result
