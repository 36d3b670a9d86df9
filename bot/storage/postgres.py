"""The PostgreSQL backend (psycopg 3): connections, transactions and locks only; the queries
are in bot/storage/base.py and the schema in bot/storage/schema.py, shared with SQLite.

Chosen by `DATABASE_URL=postgresql://…` (or Heroku's `postgres://…`), so that several
Draftbot instances can share one database:

- Migrations are applied at start-up in one transaction under an advisory lock, so
  instances starting together take turns and each version is applied once.
- Budget reservations lock per user (`pg_advisory_xact_lock`) where SQLite takes its one
  write lock: instances never overspend together, and other users' requests go ahead.
- Every wait is bounded (the limits below): a database that stops answering fails a call
  in about 12 s. A connection the server has closed (a restart, a fail-over) is replaced
  before anything of a call is sent; one lost *during* a call is replaced and the call run
  again only when that is safe (`RETRIED_CALLS`): other writes raise `ConnectionLost`.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeAlias

import psycopg
from psycopg import errors, pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.storage.base import SqlStore
from bot.storage.dialects import POSTGRES, ConnectionLost, Result, Run, StorageError, StorageTimeout
from bot.storage.schema import log_applied, migrate

log = logging.getLogger(__name__)
Conn: TypeAlias = psycopg.Connection[Any]

# Advisory lock keys. The one-key (bigint) and two-key (int, int) spaces do not overlap.
MIGRATION_LOCK = 7237954643804974964  # b"draftbot" as a big-endian integer
RESERVATION_LOCK_CLASS = 1684172660  # b"dbot"; the second key is hashtext(user_id)

# Bounded waits. A value DATABASE_URL sets wins (`?connect_timeout=10&keepalives_idle=30`,
# session settings in `&options=-c%20statement_timeout%3D30s`), and so does a session
# setting the admin gave the role or database (ALTER ROLE … SET statement_timeout = …).
CONNECT_TIMEOUT_SECONDS = 5  # TCP, TLS and log-in; libpq's own default waits for ever
SESSION_LIMITS_MS = {
    # Draftbot's slowest statement (a report's timings over a month of usage) takes well
    # under a second with a million rows a month: ten seconds is a runaway, not a busy day.
    "statement_timeout": 10_000,
    # Row locks (upserts, claims) and a user's reservation lock are held for milliseconds.
    "lock_timeout": 5_000,
    # An instance stuck inside a transaction gives its locks back.
    "idle_in_transaction_session_timeout": 60_000,
}
# Where a session setting is the admin's choice, left alone: DATABASE_URL's `options` (or
# PGOPTIONS), ALTER ROLE … SET and ALTER DATABASE … SET.
ADMIN_SOURCES = ("client", "user", "database", "database user")
# A peer gone silent (a dead host, a network partition): an idle connection is probed after
# 5 s, then every 2 s, and dropped after 3 unanswered probes (about 11 s); data sent and
# not acknowledged for 10 s drops it too (tcp_user_timeout: libpq 12+, Linux).
TCP_PARAMS = dict(keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
TCP_USER_TIMEOUT_MS = 10_000
# A server alive to TCP but not answering (a stopped process, a stalled proxy) has its
# kernel acknowledge everything, so no TCP setting notices: Draftbot stops waiting when a
# statement outlives the statement_timeout by this margin, by shutting its socket down.
DEADLINE_MARGIN_SECONDS = 2
PING_TIMEOUT_SECONDS = 5  # `select 1` on a connection left idle, and setting up a new one
# Migrations run at start-up, may rewrite a table and wait for another instance's.
MIGRATION_TIMEOUT_MS = 600_000

# The calls run once more, on a new connection, when the connection is lost while they run:
# reads, and writes that change nothing and return the same when run twice. Transactions
# lost before their COMMIT was sent were rolled back by the server, so these run again
# then too. Any other write (record_usage, save_draft, the claims, budgets) raises
# ConnectionLost(applied=None) instead: a second run could double it or change its answer.
RETRIED_CALLS = frozenset(
    {
        "usage_rows", "usage_sums", "timings", "daily_costs", "user_spend_nano_usd", "people",
        "refusals", "budget_overrides", "budget_override", "get_draft", "check_writable",
        "save_person", "release", "draft_version_tags", "draft_version",
    }
)  # fmt: skip
RETRIED_IF_ROLLED_BACK = frozenset({"reserve", "purge_drafts"})


@dataclass
class _Session:
    """One connection, and what Draftbot knows about it."""

    conn: Conn
    deadline: float | None = None  # seconds a statement may take (None: no statement_timeout)
    farewell: bool = False  # the server sent FATAL while the connection was idle

    def notice(self, diagnostic: errors.Diagnostic) -> None:
        # Between calls libpq hands an error to the notice handler: a FATAL is the server
        # ending the session (pg_terminate_backend, a shutdown) just before it closes the socket.
        if diagnostic.severity_nonlocalized in ("FATAL", "PANIC"):
            self.farewell = True


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
        self._session = self._connect()
        self._last_used = time.monotonic()
        try:
            apply_migrations(self._session.conn)
        except BaseException:
            self._session.conn.close()
            raise

    def _connect(self) -> _Session:
        session = _Session(psycopg.connect(connection_string(self._database_url), autocommit=True))
        try:
            session.conn.add_notice_handler(session.notice)
            session.deadline = _set_limits(session.conn)
        except BaseException:
            session.conn.close()
            raise
        return session

    @contextmanager
    def _connection(self) -> Iterator[_Session]:
        with self._lock:
            session = self._ready()
            try:
                yield session
            finally:
                self._last_used = time.monotonic()

    def _ready(self) -> _Session:
        """The session, on a new connection if the server has closed the old one or, after an
        idle spell, it does not answer. Nothing of the call has been sent yet, so every call
        gets this, and a usage row is not lost to a connection that died while idle."""
        session = self._session
        idle = time.monotonic() - self._last_used >= self._idle_check_seconds
        if not (_closed_by_server(session) or (idle and not _answers(session.conn))):
            return session
        session.conn.close()
        try:
            self._session = self._connect()
        except errors.ConnectionTimeout as error:
            message = f"Cannot reconnect to PostgreSQL within {CONNECT_TIMEOUT_SECONDS} s"
            raise StorageTimeout(message, applied=False) from error
        except psycopg.Error as error:
            message = f"Cannot reconnect to PostgreSQL ({type(error).__name__})"
            raise ConnectionLost(message, applied=False) from error
        log.info("Reconnected to PostgreSQL")
        return self._session

    def _run(self, query: str, params: Sequence[Any] = ()) -> Result:
        with self._connection() as session:
            return _execute(session.conn, query, params, session.deadline, applied=None)

    @contextmanager
    def _transaction(self, lock: str | None = None) -> Iterator[Run]:
        """A transaction on the connection, held by this thread until it ends. With `lock`
        (a user id), also a per-user advisory lock until commit: one user's reservations
        are checked one at a time while other users' proceed in parallel. Each statement
        after it sees every commit made before the lock was granted (READ COMMITTED)."""
        with self._connection() as session, _begin(session.conn, session.deadline) as run:
            if lock is not None:
                run(f"select pg_advisory_xact_lock({RESERVATION_LOCK_CLASS}, hashtext(?))", [lock])
            yield run

    def close(self) -> None:
        with self._lock:
            self._session.conn.close()


def _retried_once(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(call)
    def run(self: PostgresStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(self, *args, **kwargs)
        except ConnectionLost as lost:
            rolled_back = lost.applied is False and name in RETRIED_IF_ROLLED_BACK
            if name not in RETRIED_CALLS and not rolled_back:
                raise
            log.warning("PostgreSQL connection lost during %s (%s); running it again", name, lost)
        return call(self, *args, **kwargs)

    return run


for _name, _call in vars(SqlStore).items():
    if _name in RETRIED_CALLS | RETRIED_IF_ROLLED_BACK:
        setattr(PostgresStore, _name, _retried_once(_name, _call))


def connection_string(database_url: str) -> str:
    """DATABASE_URL as libpq parameters, with Draftbot's limits where it sets none."""
    params: dict[str, Any] = {"application_name": "draftbot"}
    params.update(connect_timeout=CONNECT_TIMEOUT_SECONDS, **TCP_PARAMS)
    if pq.version() >= 120000:
        params["tcp_user_timeout"] = TCP_USER_TIMEOUT_MS
    params.update(conninfo_to_dict(database_url))  # accepts postgres:// and postgresql://
    return make_conninfo("", **params)


# Sets each limit the admin left alone; returns each one's value and source from before.
_SET_LIMITS = """
    select name, setting, source,
        case when source <> all(?) then set_config(name, wanted.value, false) end
    from pg_settings join unnest(?::text[], ?::text[]) as wanted(name, value) using (name)
"""


def _set_limits(conn: Conn) -> float | None:
    """Apply SESSION_LIMITS_MS; return how long the client waits for a statement (None when
    the admin chose no statement_timeout, so Draftbot sets no deadline either)."""
    wanted = [list(ADMIN_SOURCES), list(SESSION_LIMITS_MS), [*map(str, SESSION_LIMITS_MS.values())]]
    rows = _execute(conn, _SET_LIMITS, wanted, PING_TIMEOUT_SECONDS, applied=False).rows
    in_force = {n: int(v) if s in ADMIN_SOURCES else SESSION_LIMITS_MS[n] for n, v, s, _ in rows}
    milliseconds = in_force.get("statement_timeout", 0)
    return milliseconds / 1000 + DEADLINE_MARGIN_SECONDS if milliseconds else None


def apply_migrations(conn: Conn) -> list[int]:
    """Apply the migrations this database lacks, in order; return the versions applied.

    Everything happens in one transaction holding an advisory lock, so instances starting
    at the same time wait for each other and then find the work done. Its limits are long,
    and for this transaction only: a migration may rewrite a large table.
    """
    with _begin(conn, MIGRATION_TIMEOUT_MS / 1000 + DEADLINE_MARGIN_SECONDS) as run:
        run(f"set local statement_timeout = {MIGRATION_TIMEOUT_MS}")
        run(f"set local lock_timeout = {MIGRATION_TIMEOUT_MS}")
        run(f"select pg_advisory_xact_lock({MIGRATION_LOCK})")
        applied = migrate(run, POSTGRES)
    log_applied(applied)
    return applied


@contextmanager
def _begin(conn: Conn, timeout: float | None) -> Iterator[Run]:
    """BEGIN … COMMIT on an autocommit connection. A connection lost before COMMIT is sent
    raises ConnectionLost(applied=False): the server has rolled the transaction back."""

    def run(query: str, params: Sequence[Any] = ()) -> Result:
        return _execute(conn, query, params, timeout, applied=False)

    run("begin")
    try:
        yield run
    except BaseException:
        try:
            run("rollback")
        except (psycopg.Error, StorageError):
            conn.close()  # the transaction ends with the connection
        raise
    _execute(conn, "commit", (), timeout, applied=None)


def _execute(
    conn: Conn, query: str, params: Sequence[Any], timeout: float | None, *, applied: bool | None
) -> Result:
    """One statement, given up on after `timeout` seconds. A lost connection or a time-out
    raises a StorageError saying whether the statement may have been `applied`."""
    with _watched(conn, timeout, applied=applied):
        cursor = conn.execute(POSTGRES.placeholders(query), list(params))
        if cursor.description is None:  # not a query: no rows to fetch
            return Result([], [], cursor.rowcount)
        columns = [column.name for column in cursor.description]
        return Result(cursor.fetchall(), columns, cursor.rowcount)


@contextmanager
def _watched(conn: Conn, timeout: float | None, *, applied: bool | None) -> Iterator[None]:
    token = None
    try:
        token = DEADLINES.arm(conn, timeout)
        yield
    except psycopg.Error as error:
        if DEADLINES.disarm(token):
            conn.close()
            message = f"PostgreSQL did not answer within {timeout:g} s; the connection was dropped"
            raise StorageTimeout(message, applied=applied) from error
        if conn.closed or (error.sqlstate or "").startswith("57P"):  # admin or crash shutdown
            conn.close()
            message = f"The connection to PostgreSQL was lost ({type(error).__name__})"
            raise ConnectionLost(message, applied=applied) from error
        if isinstance(error, errors.QueryCanceled | errors.LockNotAvailable):
            reason = str(error).partition("\n")[0] or type(error).__name__
            message = f"PostgreSQL cancelled a statement: {reason}"
            raise StorageTimeout(message, applied=False) from error
        raise
    finally:
        DEADLINES.disarm(token)


def _answers(conn: Conn) -> bool:
    try:
        _execute(conn, "select 1", (), PING_TIMEOUT_SECONDS, applied=False)
    except (psycopg.Error, StorageError):
        return False
    return True


def _closed_by_server(session: _Session) -> bool:
    """True when the connection is closed, or the server has closed it: its goodbye (a FATAL
    message, then end-of-file) waits in the socket. Reads what has arrived; sends nothing."""
    conn = session.conn
    try:
        for _ in range(3):  # the message, then end-of-file
            if session.farewell or conn.closed or not _readable(conn.fileno()):
                break
            conn.pgconn.consume_input()
            conn.pgconn.is_busy()  # parses what was read: a FATAL goes to `notice`
    except (psycopg.Error, OSError, ValueError):
        return True
    return session.farewell or conn.closed


def _readable(fd: int) -> bool:
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Deadlines:
    """One thread for every connection: shuts down the socket of a statement past its
    deadline, which wakes the thread waiting on it ("server closed the connection"). The
    socket stays open until psycopg closes it, so its number is not reused meanwhile."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, int]] = {}  # token: (deadline, socket)
        self._expired: set[int] = set()
        self._tokens = itertools.count()
        self._wakes_at = math.inf  # when the thread looks next (inf: when notified)
        self._thread = threading.Thread(target=self._watch, name="pg-deadlines", daemon=True)

    def arm(self, conn: Conn, seconds: float | None) -> int | None:
        if seconds is None:
            return None
        deadline = time.monotonic() + seconds
        with self._cond:
            token = next(self._tokens)
            self._armed[token] = (deadline, conn.fileno())
            if not self._thread.is_alive():
                self._thread.start()
            if deadline < self._wakes_at:
                self._cond.notify()
        return token

    def disarm(self, token: int | None) -> bool:
        """Stop watching; True if the deadline had passed and the socket was shut down."""
        if token is None:
            return False
        with self._cond:
            self._armed.pop(token, None)
            if token in self._expired:
                self._expired.remove(token)
                return True
            return False

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for token, (deadline, fd) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        self._expired.add(token)
                        _shut_down(fd)
                self._wakes_at = min((d for d, _ in self._armed.values()), default=math.inf)
                self._cond.wait(None if self._wakes_at == math.inf else self._wakes_at - now)


def _shut_down(fd: int) -> None:
    with suppress(OSError), socket.socket(fileno=os.dup(fd)) as duplicate:  # libpq closes fd
        duplicate.shutdown(socket.SHUT_RDWR)


DEADLINES = _Deadlines()
