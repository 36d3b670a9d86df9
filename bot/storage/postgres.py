"""The PostgreSQL backend (psycopg 3): connections, transactions and locks only; the queries
are in bot/storage/base.py and the schema in bot/storage/schema.py, shared with SQLite.

Chosen by `DATABASE_URL=postgresql://…` (or Heroku's `postgres://…`), so that several
Draftbot instances can share one database:

- Migrations are applied at start-up in one transaction under an advisory lock, so
  instances starting together take turns and each version is applied once.
- Budget reservations lock per user (`pg_advisory_xact_lock`) where SQLite takes its one
  write lock: instances never overspend together, and other users' requests go ahead.
- A connection found dead after being idle is replaced before use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.storage.base import SqlStore
from bot.storage.dialects import POSTGRES, Result, Run
from bot.storage.schema import log_applied, migrate

# Advisory lock keys. The one-key (bigint) and two-key (int, int) spaces do not overlap.
MIGRATION_LOCK = 7237954643804974964  # b"draftbot" as a big-endian integer
RESERVATION_LOCK_CLASS = 1684172660  # b"dbot"; the second key is hashtext(user_id)


class PostgresStore(SqlStore):
    """`bot.storage.Storage` on PostgreSQL.

    One connection in autocommit mode, guarded by a lock (Draftbot calls its store from the
    event loop's thread); multi-statement work runs in explicit transactions.
    """

    dialect = POSTGRES

    def __init__(self, database_url: str, *, idle_check_seconds: float = 30.0) -> None:
        self._database_url = database_url  # holds the password: never log it
        self._idle_check_seconds = idle_check_seconds
        self._lock = threading.RLock()
        self._conn = self._connect()
        self._last_used = time.monotonic()
        try:
            apply_migrations(self._conn)
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        params = conninfo_to_dict(self._database_url)  # accepts postgres:// and postgresql://
        params.setdefault("application_name", "draftbot")
        params.setdefault("connect_timeout", 10)
        return psycopg.connect(make_conninfo("", **params), autocommit=True)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with self._lock:
            if not self._usable():
                self._conn.close()
                self._conn = self._connect()
            try:
                yield self._conn
            finally:
                self._last_used = time.monotonic()

    def _usable(self) -> bool:
        """False when the connection is known to be lost, or was idle long enough to have been
        dropped (a server restart, a fail-over, an idle timeout) and does not answer now.
        Checking first means a usage row is not lost to a connection that died while idle;
        a connection lost mid-call fails that call, and the next call reconnects."""
        if self._conn.broken or self._conn.closed:
            return False
        if time.monotonic() - self._last_used < self._idle_check_seconds:
            return True
        try:
            self._conn.execute("select 1")
        except psycopg.Error:
            return False
        return True

    def _run(self, query: str, params: Sequence[Any] = ()) -> Result:
        with self._connection() as conn:
            return _execute(conn, query, params)

    @contextmanager
    def _transaction(self, lock: str | None = None) -> Iterator[Run]:
        """A transaction on the connection, held by this thread until it ends. With `lock`
        (a user id), also a per-user advisory lock until commit: one user's reservations
        are checked one at a time while other users' proceed in parallel. Each statement
        after it sees every commit made before the lock was granted (READ COMMITTED)."""
        with self._connection() as conn, conn.transaction():

            def run(query: str, params: Sequence[Any] = ()) -> Result:
                return _execute(conn, query, params)

            if lock is not None:
                run(f"select pg_advisory_xact_lock({RESERVATION_LOCK_CLASS}, hashtext(?))", [lock])
            yield run

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def apply_migrations(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply the migrations this database lacks, in order; return the versions applied.

    Everything happens in one transaction holding an advisory lock, so instances starting
    at the same time wait for each other and then find the work done.
    """

    def run(query: str, params: Sequence[Any] = ()) -> Result:
        return _execute(conn, query, params)

    with conn.transaction():
        run(f"select pg_advisory_xact_lock({MIGRATION_LOCK})")
        applied = migrate(run, POSTGRES)
    log_applied(applied)
    return applied


def _execute(conn: psycopg.Connection[Any], query: str, params: Sequence[Any]) -> Result:
    cursor = conn.execute(POSTGRES.placeholders(query), list(params))
    if cursor.description is None:  # not a query: no rows to fetch
        return Result([], [], cursor.rowcount)
    columns = [column.name for column in cursor.description]
    return Result(cursor.fetchall(), columns, cursor.rowcount)
