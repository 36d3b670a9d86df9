"""PostgreSQL going away or going quiet: reconnecting, retrying only what is safe, bounded waits.

Against a real throwaway server (tests/postgres.py; skipped, saying why, without one). A
session is ended the way a restart or a fail-over ends it (`pg_terminate_backend`); a
server that stops answering is a local proxy that stops passing bytes on, as a stopped
server process (SIGSTOP) or a hung middlebox does: TCP stays up, no answer comes. The
`faults` tests wait for Draftbot's own limits, about 14 s in all.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import psycopg
import pytest
from psycopg import sql

from bot.storage import ConnectionLost, StorageTimeout, StorageUnavailable, open_store
from bot.storage.base import SqlStore
from bot.storage.postgres import (
    RESERVATION_LOCK_CLASS,
    RETRIED_CALLS,
    RETRIED_IF_ROLLED_BACK,
    SESSION_LIMITS_MS,
    PostgresStore,
)
from bot.storage.records import UsageRecord
from tests.test_reports import usage

pytest_plugins = ["tests.postgres"]

T = TypeVar("T")
LOCK_USAGE = "lock table usage in access exclusive mode"
LOCK_ALEX = f"select pg_advisory_xact_lock({RESERVATION_LOCK_CLASS}, hashtext('U0ALEX'))"


def row() -> UsageRecord:
    return usage("U0ALEX", "email", "2026-11-02")


def backend_pid(store: PostgresStore) -> int:
    return int(store._run("select pg_backend_pid()").one()[0])


def ids(store: PostgresStore) -> list[int]:
    return [r["id"] for r in store.usage_rows()]


def reserve(store: PostgresStore) -> tuple[int | None, int, int]:
    return store.reserve(
        "U0ALEX",
        300,
        limit_nano_usd=1000,
        month_start="2026-11-01T00:00:00.000000+00:00",
        month_end="2026-12-01T00:00:00.000000+00:00",
        now="2026-11-25T12:00:00.000000+00:00",
        stale_before="2026-11-25T11:45:00.000000+00:00",
    )


def eventually(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def terminate(url: str, pid: int) -> None:
    """What a server restart or a fail-over does to a session; returns once it has ended."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(%s)", [pid])
        gone = "select 1 from pg_stat_activity where pid = %s"
        eventually(lambda: not admin.execute(gone, [pid]).fetchall())


@contextmanager
def holding(url: str, lock: str) -> Iterator[psycopg.Connection[Any]]:
    """Another session holding `lock` until the block ends (the watcher is autocommit)."""
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
        holder.execute(lock)
        yield watcher
        holder.commit()


def cut_off_while_waiting(url: str, store: PostgresStore, lock: str, call: Callable[[], T]) -> T:
    """Run `call` while another session holds `lock`, end the store's session while the
    call waits for it (its statement has been sent), then release the lock."""
    pid = backend_pid(store)
    with ThreadPoolExecutor(1) as pool:
        with holding(url, lock) as watcher:
            outcome: Future[T] = pool.submit(call)
            waiting = "select 1 from pg_stat_activity where pid = %s and wait_event_type = 'Lock'"
            eventually(lambda: bool(watcher.execute(waiting, [pid]).fetchall()))
            terminate(url, pid)
        return outcome.result(timeout=10)


def with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *params.items()], quote_via=quote)  # %20, not +
    return parts._replace(query=query).geturl()


def outcome_within(limit: float, call: Callable[[], object]) -> tuple[BaseException | None, float]:
    """Run `call` in a thread: the exception it raised (None if it returned) and how long it
    took. Fails the test, rather than hanging it, if the call is still waiting after `limit`."""
    pool = ThreadPoolExecutor(1)
    started = time.monotonic()
    try:
        error = pool.submit(call).exception(timeout=limit)
    except FutureTimeout:
        pytest.fail(f"the call was still waiting after {limit} s")
    finally:
        pool.shutdown(wait=False)
    return error, time.monotonic() - started


class StallingProxy:
    """A TCP proxy in front of the server that can stop passing bytes on: connections stay
    up and its kernel acknowledges what Draftbot sends, but nothing comes back until
    `resume()`, when the bytes held meanwhile go on (as after SIGCONT)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname or parts.hostname.startswith("/"):
            pytest.skip("the stalling proxy needs a PostgreSQL server on TCP")
        self._target = (parts.hostname, parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        user, at, _ = parts.netloc.rpartition("@")
        netloc = f"{user}{at}127.0.0.1:{self._listener.getsockname()[1]}"
        self.url = parts._replace(netloc=netloc).geturl()
        self._flowing = threading.Event()
        self._flowing.set()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(self._target)
            except OSError:
                return
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._listener.close()
        for sock in self._sockets:
            sock.close()
        self._flowing.set()


# A session the server ended


def test_a_session_the_server_ended_is_replaced_before_the_next_call(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresStore(postgres_url)
    first = store.record_usage(row())
    old = backend_pid(store)
    terminate(postgres_url, old)
    assert ids(store) == [first]  # the next read, on a new connection
    new = backend_pid(store)
    assert new != old
    terminate(postgres_url, new)
    second = store.record_usage(row())  # the next write: nothing had been sent, so it is safe
    assert ids(store) == [first, second]  # one row per call
    assert "running it again" not in caplog.text  # replaced before use, not retried
    store.close()


def test_a_read_cut_off_mid_statement_runs_again_on_a_new_connection(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    first = store.record_usage(row())
    assert cut_off_while_waiting(postgres_url, store, LOCK_USAGE, lambda: ids(store)) == [first]
    store.close()


def test_a_usage_row_cut_off_mid_statement_is_reported_not_written_twice(
    postgres_url: str,
) -> None:
    store = PostgresStore(postgres_url)
    first = store.record_usage(row())
    with pytest.raises(ConnectionLost) as lost:
        cut_off_while_waiting(postgres_url, store, LOCK_USAGE, lambda: store.record_usage(row()))
    assert lost.value.applied is None  # sent: the caller cannot know, and must keep the row
    third = store.record_usage(row())  # and the store works again
    assert ids(store) == [first, third]  # the cut-off insert was not retried behind its back
    store.close()


def test_a_reservation_cut_off_before_commit_runs_again(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    reservation, spent, reserved = cut_off_while_waiting(
        postgres_url, store, LOCK_ALEX, lambda: reserve(store)
    )
    assert reservation is not None and (spent, reserved) == (0, 0)
    assert store._run("select id from reservations").rows == [(reservation,)]  # exactly one
    store.close()


def test_only_storage_calls_are_retried_and_never_a_usage_row() -> None:
    assert set(dir(SqlStore)) >= RETRIED_CALLS | RETRIED_IF_ROLLED_BACK  # inherited too
    assert {"record_usage", "save_draft", "claim_draft", "first_time"}.isdisjoint(RETRIED_CALLS)


# Limits


def test_limits_set_by_the_admin_win_and_a_lock_wait_is_bounded(postgres_url: str) -> None:
    database = sql.Identifier(urlsplit(postgres_url).path.lstrip("/"))
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("alter database {} set idle_in_transaction_session_timeout = 7000").format(
                database
            )
        )
    store = PostgresStore(
        with_params(postgres_url, keepalives_idle="30", options="-c lock_timeout=300")
    )
    in_force = "select name, setting from pg_settings where name = any(?)"
    assert dict(store._run(in_force, [list(SESSION_LIMITS_MS)]).rows) == {
        "statement_timeout": str(SESSION_LIMITS_MS["statement_timeout"]),  # Draftbot's
        "lock_timeout": "300",  # DATABASE_URL's
        "idle_in_transaction_session_timeout": "7000",  # the database's
    }
    libpq = store._session.conn.info.get_parameters()
    assert libpq["keepalives_idle"] == "30"  # DATABASE_URL's
    assert (libpq["keepalives_count"], libpq["connect_timeout"]) == ("3", "5")  # Draftbot's
    pid = backend_pid(store)
    with holding(postgres_url, LOCK_ALEX):
        started = time.monotonic()
        with pytest.raises(StorageTimeout) as timeout:
            reserve(store)
        assert time.monotonic() - started < 2
    assert timeout.value.applied is False  # the server cancelled it: nothing was written
    assert reserve(store)[0] is not None and backend_pid(store) == pid  # same connection
    store.close()


# A server that stops answering


@pytest.mark.faults
def test_a_server_that_stops_answering_fails_the_call_in_bounded_time(postgres_url: str) -> None:
    with StallingProxy(postgres_url) as proxy:
        store = PostgresStore(proxy.url)
        first = store.record_usage(row())
        proxy.stall()
        error, seconds = outcome_within(25, lambda: store.record_usage(row()))
        assert isinstance(error, StorageTimeout), error
        # The server's statement_timeout gets its chance first; then Draftbot gives up.
        assert SESSION_LIMITS_MS["statement_timeout"] / 1000 <= seconds < 20
        assert error.applied is None  # sent: it may yet be committed
        proxy.resume()
        third = store.record_usage(row())  # on a new connection
        # The stalled insert, held by the proxy, reaches the server after all: applied=None
        # was the honest answer, and retrying it would have written it twice.
        eventually(lambda: len(ids(store)) == 3)
        assert ids(store)[0] == first and third in ids(store)
        store.close()


@pytest.mark.faults
def test_opening_a_server_that_does_not_answer_gives_up_after_connect_timeout(
    postgres_url: str,
) -> None:
    with StallingProxy(postgres_url) as proxy:
        proxy.stall()
        url = with_params(proxy.url, connect_timeout="2")  # DATABASE_URL's value wins
        error, seconds = outcome_within(25, lambda: open_store(url))
        assert isinstance(error, StorageUnavailable), error
        assert 2 <= seconds < 4
