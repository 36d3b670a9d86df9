"""Database calls run in worker threads, so the event loop never waits on the database.

A lock held by another process, a slow disk or a PostgreSQL server that stopped answering
then delays only the drafts that need that call; acks, other people's commands and
`/healthz` go on. The backends bound each wait (SQLite's busy timeout, PostgreSQL's
timeouts), so a worker is never held for long.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Enough for the calls of a burst of drafts to overlap on PostgreSQL; SQLite runs them one
# at a time on its one connection anyway.
DATABASE_THREADS = 8
_executor = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="draftbot-db")


async def off_loop(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(*args, **kwargs)` in a database worker thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(call, *args, **kwargs))
