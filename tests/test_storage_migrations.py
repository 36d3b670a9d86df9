"""One list of migrations for both backends, databases made before it upgraded in place,
and `usage_daily` and `usage_monthly` kept exact by the database itself, whoever writes to
`usage`.

tests/fixtures/ holds databases as the code before versioned migrations left them: the
SQLite schema sqlite-utils created and PostgreSQL at version 1, each with the same rows.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, cast, get_args

import numpy as np
import psycopg
import pytest
import sqlite_utils

from bot.reports import Period, build_report, dates_period, named_period
from bot.storage import GroupBy, IntArray, Storage, UsageRecord, open_store, sqlite_path
from bot.storage.base import SqlStore
from bot.storage.postgres import apply_migrations
from bot.storage.schema import MIGRATIONS, migrate
from tests.test_reports import NOW, PRICES, usage
from tests.test_storage_backends import in_threads, seed_rows

pytest_plugins = ["tests.postgres"]

FIXTURES = Path(__file__).parent / "fixtures"
ALL_VERSIONS = [m.version for m in MIGRATIONS]
GROUPINGS: tuple[GroupBy, ...] = get_args(GroupBy)
PERIODS = [
    named_period("this-month", NOW),
    named_period("last-month", NOW),
    dates_period("2026-10-15", "2026-12-15", NOW),  # days, a whole month, days
    dates_period("2026-10-01", "2026-11-30", NOW),  # a whole month, then days
    dates_period("2026-11-02", "2026-11-29", NOW),  # days within one month
]
TOKENS = (
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    "cache_creation_5m_input_tokens", "cache_creation_1h_input_tokens",
)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'draftbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def legacy_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with the schema and rows of the code before versioned migrations."""
    if request.param == "sqlite":
        path = tmp_path / "draftbot.db"
        with closing(sqlite3.connect(path)) as conn:
            conn.executescript((FIXTURES / "sqlite_before_migrations.sql").read_text())
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("postgres_url"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute((FIXTURES / "postgres_version_1.sql").read_text().encode())
    return url


def query(url: str, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Plain SQL on its own connection, as an admin or another program would run it
    (`?` placeholders on SQLite, `%s` on PostgreSQL); committed."""
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(sqlite_path(url))) as lite:
            lite.row_factory = sqlite3.Row
            rows = [dict(row) for row in lite.execute(sql, params or [])]
            lite.commit()
            return rows
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        if cursor.description is None:
            return []
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def versions(url: str) -> list[int]:
    return sorted(row["version"] for row in query(url, "select version from schema_migrations"))


def schema(url: str) -> dict[str, Any]:
    """Tables with each column's type, nullability, default and key; index definitions."""
    if url.startswith("sqlite:///"):
        names = [
            row["name"]
            for row in query(url, "select name from sqlite_master where type = 'table' order by 1")
        ]
        tables = {name: query(url, f"select * from pragma_table_info('{name}')") for name in names}
        indexes = {
            row["name"]: [c["name"] for c in query(url, f"pragma index_info('{row['name']}')")]
            for name in names
            for row in query(url, f"select * from pragma_index_list('{name}')")
        }
        triggers = query(url, "select name, sql from sqlite_master where type = 'trigger'")
        return {"tables": tables, "indexes": indexes, "triggers": sorted_rows(triggers)}
    columns = query(
        url,
        "select table_name, column_name, ordinal_position, data_type, collation_name, "
        "is_nullable, column_default, is_identity from information_schema.columns "
        "where table_schema = 'public' order by table_name, ordinal_position",
    )
    indexes = query(
        url, "select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1"
    )
    triggers = query(
        url,
        "select tgname, pg_get_triggerdef(pg_trigger.oid), prosrc from pg_trigger "
        "join pg_proc on pg_proc.oid = tgfoid where not tgisinternal",
    )
    return {"tables": columns, "indexes": indexes, "triggers": sorted_rows(triggers)}


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: list(row.values()))


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    store = open_store(database_url)
    yield store
    store.close()


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_usage_daily_and_monthly_triggers(database_url: str) -> None:
    open_store(database_url).close()
    events = ["delete", "insert", "update"]
    if database_url.startswith("sqlite:///"):
        rows = query(database_url, "select name from sqlite_master where type = 'trigger'")
        names = sorted(row["name"] for row in rows)
    else:
        rows = query(database_url, "select tgname from pg_trigger where not tgisinternal")
        names = sorted(row["tgname"] for row in rows)
        events.append("truncate")
    tables = ("usage_daily", "usage_monthly")
    assert names == sorted(f"{table}_on_{e}" for table in tables for e in events)


def test_migrations_apply_once(database_url: str) -> None:
    open_store(database_url).close()
    store = open_store(database_url)  # a restart: nothing left to do
    assert versions(database_url) == ALL_VERSIONS
    assert isinstance(store, SqlStore)
    with store._transaction() as run:
        assert migrate(run, store.dialect) == []
    store.close()
    if not database_url.startswith("sqlite:///"):
        with psycopg.connect(database_url, autocommit=True) as conn:
            assert apply_migrations(conn) == []


def test_an_up_to_date_sqlite_file_opens_while_another_process_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'draftbot.db'}"
    open_store(url).close()
    with closing(sqlite3.connect(tmp_path / "draftbot.db", isolation_level=None)) as writer:
        writer.execute("begin immediate")  # holds the write lock, as a long write would
        store = open_store(url)  # no migration to apply: does not wait for the lock
        assert store.usage_rows() == []
        writer.execute("rollback")
    store.close()


def test_instances_starting_together_migrate_once(database_url: str) -> None:
    def instance(_: int) -> None:
        store = open_store(database_url)  # all four find an empty database
        store.record_usage(usage("U0ALEX", "email", "2026-11-02"))
        store.close()

    in_threads(4, instance)
    assert versions(database_url) == ALL_VERSIONS
    store = open_store(database_url)
    assert len(store.usage_rows()) == 4
    store.close()


def test_a_database_from_before_migrations_upgrades_in_place(
    legacy_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    before = query(legacy_url, "select * from usage order by id")
    assert len(before) == 7
    store = open_store(legacy_url)
    try:
        assert versions(legacy_url) == ALL_VERSIONS
        assert store.usage_rows() == before  # every row, column and type as it was

        # usage_daily rebuilt from usage: the row written around Draftbot now counts, and
        # the sums of the row deleted by hand are gone.
        report = build_report(store, PRICES, named_period("this-month", NOW), "user")
        november = [row for row in before if row["created_at"].startswith("2026-11")]
        assert report.total.requests == len(november) == 6
        assert report.total.cost_nano_usd == sum(r["cost_nano_usd"] or 0 for r in november)
        total = report.total
        assert (total.failed, total.truncated, total.unpriced_requests) == (1, 1, 1)
        assert [row.key for row in report.rows] == ["U0ALEX", "U0PRIYA", "U0KIM", "U0SAM"]
        assert_reports_match_the_usage_log(store, legacy_url)

        # The other tables kept their rows, and new writes carry on after them.
        assert store.people(["U0ALEX"])["U0ALEX"]["real_name"] == "Alex Chen"
        assert store.budget_override("U0ALEX") == 25_000_000_000
        draft = store.get_draft("0123456789abcdef")
        assert draft is not None and draft["text"] == "Hi Sam,"
        assert store.claim_alert("U0ALEX", "2026-11", "user") is False
        assert store.first_time("im:D1:1700000000.000100") is False
        assert store.record_usage(usage("U0ALEX", "email", "2026-11-25")) == 8
        reservation, spent, reserved = store.reserve(
            "U0SAM",
            1000,
            limit_nano_usd=10**9,
            month_start="2026-11-01T00:00:00.000000+00:00",
            month_end="2026-12-01T00:00:00.000000+00:00",
            now="2026-11-25T12:00:00.000000+00:00",
            stale_before="2026-11-25T11:45:00.000000+00:00",
        )
        assert (reservation, spent, reserved) == (2, 0, 5000)
    finally:
        store.close()

    # The same schema as a database created new by this code.
    if legacy_url.startswith("sqlite:///"):
        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        fresh = str(request.getfixturevalue("postgres_server").create_database())
    try:
        open_store(fresh).close()
        assert schema(legacy_url) == schema(fresh)
    finally:
        if not fresh.startswith("sqlite:///"):
            request.getfixturevalue("postgres_server").drop_database(fresh)


# usage_daily, kept by triggers


class FromUsageLog:
    """The reference: a store whose sums are added up here, row by row, from `usage` read
    with plain SQL (no usage_daily, no SQL shared with bot.storage)."""

    def __init__(self, store: Storage, url: str) -> None:
        self.store, self.url = store, url

    def usage_sums(self, first_day: str, end_day: str, group_by: GroupBy) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str], Counter[str]] = {}
        for row in query(self.url, "select * from usage"):
            day = row["created_at"][:10]
            if not first_day <= day < end_day:
                continue
            by = {**group_keys(row), "day": day}
            sums = groups.setdefault((by[group_by] or "", row["model"] or ""), Counter())
            sums["requests"] += 1
            sums["failed"] += row["status"] != "ok"
            sums["truncated"] += row["stop_reason"] in (
                "max_tokens",
                "model_context_window_exceeded",
            )
            for column in TOKENS:
                sums[column] += row[column] or 0
            sums["cost_nano_usd"] += row["cost_nano_usd"] or 0
            billed = sum(row[c] or 0 for c in TOKENS[:4])
            sums["unpriced_requests"] += row["cost_nano_usd"] is None and billed > 0
        return [{"key": key, "model": model, **sums} for (key, model), sums in groups.items()]

    def timings(
        self, start: str, end: str, group_by: GroupBy, people: Any = None
    ) -> dict[str, tuple[IntArray, IntArray]]:
        values: dict[str, tuple[list[int], list[int]]] = {}
        for row in query(self.url, "select * from usage where status = 'ok' order by id"):
            if start <= row["created_at"] < end:
                day = row["created_at"][:10]
                by = group_keys(row)
                latencies, ttfts = values.setdefault(by.get(group_by, day) or "", ([], []))
                latencies.extend([row["latency_ms"]] if row["latency_ms"] is not None else [])
                ttfts.extend([row["ttft_ms"]] if row["ttft_ms"] is not None else [])
        return {
            key: (np.array(latencies, dtype=np.int64), np.array(ttfts, dtype=np.int64))
            for key, (latencies, ttfts) in values.items()
        }

    def outcome_sums(self, start: str, end: str, group_by: GroupBy) -> list[tuple[Any, ...]]:
        return self.store.outcome_sums(start, end, group_by)  # not what this test is about

    def refusals(self, start: str, end: str, group_by: GroupBy) -> list[tuple[str, str, int]]:
        counts: Counter[tuple[str, str]] = Counter()
        for row in query(self.url, "select * from usage where status = 'refused'"):
            if start <= row["created_at"] < end:
                day = row["created_at"][:10]
                by = group_keys(row)
                counts[(by.get(group_by, day) or "", row["error"] or "")] += 1
        return [(key, reason, count) for (key, reason), count in counts.items()]


def group_keys(row: dict[str, Any]) -> dict[str, str]:
    """A usage row's keys in a report by person, kind, model and channel (direct messages
    are one row, "D"; drafts from the terminal, with no channel, another, "")."""
    channel = row["channel_id"] or ""
    return {
        "user": row["user_id"],
        "kind": row["kind"],
        "model": row["model"],
        "channel": "D" if channel.startswith("D") else channel,
    }


CHANNELS = ("C0SUPPORT", "D0ALEX", None, "G0PRIVATE", "D0SAM", "C0SUPPORT")


def in_channels(records: list[UsageRecord]) -> list[UsageRecord]:
    """The records spread over channels, DMs and none (the terminal)."""
    return [replace(r, channel_id=CHANNELS[n % len(CHANNELS)]) for n, r in enumerate(records)]


def assert_reports_match_the_usage_log(store: Storage, url: str) -> None:
    """Every period and grouping: the report (from usage_daily and usage_monthly, timings by
    the store's queries) equals one added up here from the rows of usage."""
    reference = cast(Storage, FromUsageLog(store, url))
    for period in PERIODS:
        for group_by in GROUPINGS:
            actual = build_report(store, PRICES, period, group_by)
            expected = build_report(reference, PRICES, period, group_by)
            assert actual == replace(expected, generated_at=actual.generated_at), (period, group_by)
    assert query(url, "select * from usage_daily where requests <= 0") == []
    assert query(url, "select * from usage_monthly where requests <= 0") == []


def keys(store: Storage, period: Period = PERIODS[0]) -> list[str]:
    return [row.key for row in build_report(store, PRICES, period, "user").rows]


def insert_around_the_store(url: str, records: list[Any]) -> None:
    """As an admin or a script would: sqlite-utils on SQLite, plain INSERT and COPY on
    PostgreSQL."""
    rows = [asdict(record) for record in records]
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            sqlite_utils.Database(conn)["usage"].insert_all(rows)
        return
    columns = list(rows[0])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"insert into usage ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})",
            [rows[0][c] for c in columns],
        )
        with conn.cursor().copy(f"copy usage ({', '.join(columns)}) from stdin") as copy:
            for row in rows[1:]:
                copy.write_row([row[c] for c in columns])


def mark(url: str) -> str:
    """The placeholder of the url's driver."""
    return "?" if url.startswith("sqlite:///") else "%s"


def test_rows_written_around_the_store_are_in_the_reports(
    store: Storage, database_url: str
) -> None:
    for row in in_channels(seed_rows()):
        store.record_usage(row)
    insert_around_the_store(
        database_url,
        in_channels(
            [
                usage("U0ADMIN", "email", "2026-11-04", cache_write=4000),
                usage("U0ADMIN", "code", "2026-11-30", stop_reason="max_tokens"),
                usage("U0ADMIN", "general", "2026-11-12", model="claude-made-up-1"),
                usage("U0ALEX", "email", "2026-11-02", cache_read=4000, status="error"),
                usage("U0ADMIN", "email", "2026-10-20"),  # last month
                replace(  # turned away before any model call (bot/access.py)
                    usage("U0KIM", "email", "2026-11-06", input_tokens=0, output_tokens=0),
                    status="refused",
                    error="guest",
                ),
            ]
        ),
    )
    assert "U0ADMIN" in keys(store) and "U0ADMIN" in keys(store, PERIODS[1])
    assert_reports_match_the_usage_log(store, database_url)

    # Deleted and corrected by hand: the reports follow.
    m = mark(database_url)
    query(database_url, f"delete from usage where user_id = {m}", ["U0ADMIN"])
    query(database_url, f"delete from usage where user_id = {m} and status = 'error'", ["U0ALEX"])
    query(
        database_url,
        f"update usage set cost_nano_usd = cost_nano_usd * 2, created_at = {m} where user_id = {m}",
        ["2026-11-29T08:00:00.000000+00:00", "U0SAM"],
    )
    assert "U0ADMIN" not in keys(store) and "U0ADMIN" not in keys(store, PERIODS[1])
    assert_reports_match_the_usage_log(store, database_url)

    # Everything deleted (PostgreSQL: TRUNCATE, which fires no delete trigger).
    if database_url.startswith("sqlite:///"):
        query(database_url, "delete from usage")
    else:
        query(database_url, "truncate usage")
    assert keys(store) == [] and query(database_url, "select * from usage_daily") == []
    assert query(database_url, "select * from usage_monthly") == []
    store.record_usage(usage("U0ALEX", "email", "2026-11-02"))
    assert keys(store) == ["U0ALEX"]
    assert_reports_match_the_usage_log(store, database_url)
