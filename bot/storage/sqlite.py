"""The SQLite backend: one file, WAL mode, one connection (and one more for reports to read
on, see `_run_alongside`); the queries are in bot/storage/base.py.

Every multi-statement write (migrations, budget reservations) runs in BEGIN IMMEDIATE,
which takes the database's one write lock up front: read-check-write is atomic across
processes, and processes opening a new file together migrate it once. `self.db` is the
sqlite-utils view of the same connection, the way admins and tests look at the file; it is
made on first use, because sqlite-utils is slow to import (it loads numpy and its plugins)
and Draftbot's own queries do not need it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.storage.base import SqlStore
from bot.storage.dialects import SQLITE, Result, Run
from bot.storage.schema import is_current, log_applied, migrate

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import sqlite_utils

# How long to wait for another process's write lock: while opening (processes starting
# together take turns to migrate), then at run time, where a shorter wait keeps a worker
# thread from being held long; a usage row that cannot be written goes to the journal.
OPEN_BUSY_TIMEOUT_SECONDS = 30
BUSY_TIMEOUT_SECONDS = 2


class Store(SqlStore):
    """`bot.storage.Storage` on SQLite."""

    dialect = SQLITE

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection, autocommit unless in an explicit transaction, shared by the
        # database worker threads (bot/storage/offloop.py) one statement or transaction at
        # a time under `self.lock`.
        connection = sqlite3.connect(
            str(path),
            timeout=OPEN_BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        self.lock = threading.RLock()
        self.conn = connection
        self._reader: sqlite3.Connection | None = None  # see _run_alongside
        self._reader_lock = threading.Lock()
        self._file = connection.execute("PRAGMA database_list").fetchone()[2]  # "": in memory
        try:
            connection.execute("PRAGMA recursive_triggers=on")  # as sqlite-utils sets it
            if str(path) != ":memory:":
                _enable_wal(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten with zeros
            if not is_current(self._versions()):
                with self._transaction() as run:
                    applied = migrate(run, SQLITE)
                log_applied(applied)
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        except BaseException:
            connection.close()
            raise

    def _versions(self) -> set[int]:
        """The versions applied, read without the write lock: a database already up to date
        opens while another process is writing."""
        tables = "select 1 from sqlite_master where type = 'table' and name = 'schema_migrations'"
        if not self.conn.execute(tables).fetchall():
            return set()
        return {
            version for (version,) in self.conn.execute("select version from schema_migrations")
        }

    @cached_property
    def db(self) -> sqlite_utils.Database:
        import sqlite_utils

        with self.lock:
            return sqlite_utils.Database(self.conn)

    def _run(self, query: str, params: Sequence[Any] = ()) -> Result:
        with self.lock:
            return _execute(self.conn, query, params)

    def _run_alongside(self, query: str, params: Sequence[Any] = ()) -> Result:
        """On a second connection to the file, opened on first use and used only to read: in
        WAL mode it reads while the first one reads or writes, each on a core of its own.
        An in-memory database cannot be opened twice: `_run` there."""
        if not self._file:
            return self._run(query, params)
        with self._reader_lock:
            if self._reader is None:
                self._reader = sqlite3.connect(
                    self._file,
                    timeout=BUSY_TIMEOUT_SECONDS,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self._reader.execute("PRAGMA query_only=on")
            return _execute(self._reader, query, params)

    @contextmanager
    def _transaction(self, lock: str | None = None) -> Iterator[Run]:
        """BEGIN IMMEDIATE: the one write lock covers every `lock` a caller may name."""
        conn = self.conn

        def run(query: str, params: Sequence[Any] = ()) -> Result:
            return _execute(conn, query, params)

        with self.lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield run
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def purge_drafts(self, older_than: str) -> int:
        """Delete, then copy the WAL into the file and empty it: with secure_delete the
        freed space is zeros, so the purged text is in neither file any more."""
        purged = super().purge_drafts(older_than)
        if purged:
            busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:  # another connection kept reading for BUSY_TIMEOUT_SECONDS
                log.warning("WAL checkpoint blocked: purged text stays in the -wal file for now")
        return purged

    def close(self) -> None:
        with self.lock:  # never under a worker thread's query
            self.conn.close()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a file to WAL mode. Processes opening a new file at the same moment contend
    for that switch, which SQLite refuses at once ("database is locked") rather than
    waiting: try again for as long as the opening busy timeout."""
    deadline = time.monotonic() + OPEN_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            # What sqlite-utils' enable_wal() runs (the connection is in autocommit mode).
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=wal")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _execute(conn: sqlite3.Connection, query: str, params: Sequence[Any]) -> Result:
    cursor = conn.execute(query, params)
    try:
        rows = cursor.fetchall()
        columns = [column[0] for column in cursor.description or ()]
        return Result(rows, columns, cursor.rowcount)
    finally:
        cursor.close()
