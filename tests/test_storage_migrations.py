"""One list of migrations for both backends, and databases made before it upgraded in place.

tests/fixtures/ holds databases as the code before versioned migrations left them: the
SQLite schema sqlite-utils created and PostgreSQL at version 1, each with the same rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.reports import build_report, named_period
from bot.storage import Storage, open_store, sqlite_path
from bot.storage.base import SqlStore
from bot.storage.postgres import apply_migrations
from bot.storage.schema import MIGRATIONS, migrate
from tests.test_reports import NOW, PRICES, usage
from tests.test_storage_backends import in_threads

pytest_plugins = ["tests.postgres"]

FIXTURES = Path(__file__).parent / "fixtures"
ALL_VERSIONS = [m.version for m in MIGRATIONS]


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
        return {"tables": tables, "indexes": indexes}
    columns = query(
        url,
        "select table_name, column_name, ordinal_position, data_type, collation_name, "
        "is_nullable, column_default, is_identity from information_schema.columns "
        "where table_schema = 'public' order by table_name, ordinal_position",
    )
    indexes = query(
        url, "select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1"
    )
    return {"tables": columns, "indexes": indexes}


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    store = open_store(database_url)
    yield store
    store.close()


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


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
    assert len(before) == 6
    store = open_store(legacy_url)
    try:
        assert versions(legacy_url) == ALL_VERSIONS
        assert store.usage_rows() == before  # every row, column and type as it was

        report = build_report(store, PRICES, named_period("this-month", NOW), "user")
        november = [row for row in before if row["created_at"].startswith("2026-11")]
        assert report.total.requests == len(november) == 5
        assert report.total.cost_nano_usd == sum(r["cost_nano_usd"] or 0 for r in november)
        total = report.total
        assert (total.failed, total.truncated, total.unpriced_requests) == (1, 1, 1)
        assert [row.key for row in report.rows] == ["U0ALEX", "U0KIM", "U0SAM"]

        # The other tables kept their rows, and new writes carry on after them.
        assert store.people(["U0ALEX"])["U0ALEX"]["real_name"] == "Alex Chen"
        assert store.budget_override("U0ALEX") == 25_000_000_000
        draft = store.get_draft("0123456789abcdef")
        assert draft is not None and draft["text"] == "Hi Sam,"
        assert store.claim_alert("U0ALEX", "2026-11", "user") is False
        assert store.first_time("im:D1:1700000000.000100") is False
        assert store.record_usage(usage("U0ALEX", "email", "2026-11-25")) == 7
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
