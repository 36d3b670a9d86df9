"""SQLite and PostgreSQL: one `Storage` interface, the same schema, the same numbers.

Every test taking `store` or `database_url` runs once per backend; the PostgreSQL runs are
skipped, with the reason shown, when no server is available (see tests/postgres.py).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar, get_args

import numpy as np
import psycopg
import pytest
import sqlite_utils

from bot.budgets import Budgets, OverBudget
from bot.report_formats import to_json
from bot.reports import build_report, dates_period, named_period
from bot.storage import Storage, open_store
from bot.storage.dialects import ConnectionLost
from bot.storage.journal import UsageJournal
from bot.storage.postgres import PostgresStore
from bot.storage.records import USAGE_COLUMNS, GroupBy, UsageRecord, utc_now_iso
from tests.test_reports import NOW, PRICES, usage

pytest_plugins = ["tests.postgres"]

T = TypeVar("T")
MODEL = "claude-sonnet-4-6"
GROUPINGS: tuple[GroupBy, ...] = get_args(GroupBy)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'draftbot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Storage]:
    store = open_store(database_url)
    yield store
    store.close()


def seed_rows() -> list[UsageRecord]:
    """tests/test_reports.py's month, plus rows that catch backend differences: string
    order ("Bob" < "U0…" < "alice" byte-wise, not alphabetically), a missing first-token
    time, the last microsecond of the month and the first of the next."""
    return [
        usage("U0ALEX", "email", "2026-11-02", cache_write=4000, latency_ms=900),
        usage("U0ALEX", "email", "2026-11-02", cache_read=4000, latency_ms=1100),
        usage("U0ALEX", "code", "2026-11-03", cache_read=4500, stop_reason="max_tokens"),
        usage("U0SAM", "email", "2026-11-03", cache_read=4000, latency_ms=3000, ttft_ms=900),
        usage("U0SAM", "summary", "2026-11-20", status="error", output_tokens=0, input_tokens=0),
        usage("U0KIM", "general", "2026-11-24", model="claude-made-up-1", input_tokens=50),
        usage("U0ALEX", "email", "2026-10-31", cache_write=4000),  # last month
        usage("alice", "email", "2026-11-05", latency_ms=700, ttft_ms=200),
        usage("Bob", "code", "2026-11-05", model="claude-haiku-4-5", output_tokens=900),
        replace(usage("Bob", "message", "2026-11-06", latency_ms=1300), ttft_ms=None),
        replace(
            usage("alice", "summary", "2026-11-30", cache_read=4100),
            created_at="2026-11-30T23:59:59.999999+00:00",
        ),
        replace(
            usage("alice", "summary", "2026-12-01"),
            created_at="2026-12-01T00:00:00.000000+00:00",
        ),
    ]


def seeded(database_url: str) -> Storage:
    store = open_store(database_url)
    for row in seed_rows():
        store.record_usage(row)
    return store


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(0)` … `work(count - 1)` at the same moment, each in its own thread."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T:
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return [future.result() for future in [pool.submit(start, i) for i in range(count)]]


# The usage log


def test_usage_rows_come_back_as_written(store: Storage) -> None:
    written = usage("U0ALEX", "email", "2026-11-02", cache_write=4000, ttft_ms=250)
    first = store.record_usage(written)
    second = store.record_usage(
        UsageRecord(user_id="U0SAM", source="cli", kind="code", model=MODEL, status="error")
    )
    assert second > first

    rows = store.usage_rows()
    assert [row["id"] for row in rows] == [first, second]
    assert list(rows[0]) == list(USAGE_COLUMNS)  # the same public columns, in the same order
    assert rows[0] == {"id": first, **asdict(written)}
    assert isinstance(rows[0]["cost_usd"], float) and isinstance(rows[0]["cost_nano_usd"], int)
    assert rows[1]["cost_usd"] is None and rows[1]["latency_ms"] is None
    # Written now, in the format whose string order is time order.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", rows[1]["created_at"])
    assert store.usage_rows(user_id="U0SAM", status="error") == [rows[1]]
    assert store.usage_rows(user_id="nobody") == []


def test_usage_daily_keeps_the_sums_of_the_usage_log(store: Storage) -> None:
    for row in seed_rows():
        store.record_usage(row)
    sums = {(r["key"], r["model"]): r for r in store.usage_sums("2026-11-01", "2026-12-01", "user")}
    alex = sums[("U0ALEX", MODEL)]
    assert (alex["requests"], alex["failed"], alex["truncated"]) == (3, 0, 1)
    assert alex["cache_read_input_tokens"] == 8500
    sam = sums[("U0SAM", MODEL)]
    assert (sam["requests"], sam["failed"]) == (2, 1)
    assert sums[("U0KIM", "claude-made-up-1")]["unpriced_requests"] == 1
    expected_cost = sum(r.cost_nano_usd or 0 for r in seed_rows() if r.created_at[:7] == "2026-11")
    assert sum(r["cost_nano_usd"] for r in sums.values()) == expected_cost
    # Integers, never Decimal (PostgreSQL's sum of bigint is numeric).
    counts = [v for r in sums.values() for k, v in r.items() if k not in ("key", "model")]
    assert all(type(v) is int for v in counts)
    days = store.daily_costs("2026-11-01", "2026-12-01", "user")
    assert days == sorted(days) and days[0][:2] == ("2026-11-02", "U0ALEX")
    assert sum(cost for _, _, cost in days) == expected_cost


def test_timings_are_int64_arrays_of_successful_requests(store: Storage) -> None:
    for row in seed_rows():
        store.record_usage(row)
    timings = store.timings(
        "2026-11-01T00:00:00.000000+00:00", "2026-12-01T00:00:00.000000+00:00", "user"
    )
    latencies, ttfts = timings["U0SAM"]
    assert latencies.dtype == np.int64 and ttfts.dtype == np.int64
    assert latencies.tolist() == [3000]  # the failed request has no timing
    bob_latencies, bob_ttfts = timings["Bob"]
    assert sorted(bob_latencies.tolist()) == [1000, 1300] and bob_ttfts.tolist() == [300]
    assert "U0ALEX" in timings and len(timings["U0ALEX"][0]) == 3


def test_month_spend_counts_only_that_month(store: Storage) -> None:
    for row in seed_rows():
        store.record_usage(row)
    start, end = named_period("this-month", NOW).iso_bounds()
    spent, requests = store.user_spend_nano_usd("alice", start, end)
    alice = [r for r in seed_rows() if r.user_id == "alice" and r.created_at < end]
    assert requests == 2  # the 1 December row belongs to next month
    assert spent == sum(r.cost_nano_usd or 0 for r in alice)
    assert store.user_spend_nano_usd("nobody", start, end) == (0, 0)


def test_reports_are_identical_on_both_backends(tmp_path: Path, postgres_url: str) -> None:
    sqlite = seeded(f"sqlite:///{tmp_path / 'draftbot.db'}")
    postgres = seeded(postgres_url)
    try:
        periods = [
            named_period("this-month", NOW),
            named_period("last-month", NOW),
            dates_period("2026-10-15", "2026-12-15", NOW),
        ]
        for period in periods:
            first_day, end_day = period.day_bounds()
            for group_by in GROUPINGS:
                expected = build_report(sqlite, PRICES, period, group_by)
                actual = replace(
                    build_report(postgres, PRICES, period, group_by),
                    generated_at=expected.generated_at,
                )
                assert actual == expected
                assert to_json(actual) == to_json(expected)
                daily = postgres.daily_costs(first_day, end_day, group_by)
                assert daily == sqlite.daily_costs(first_day, end_day, group_by)
        # The numbers tests/test_reports.py checks by hand, plus the rows added here.
        month = build_report(postgres, PRICES, periods[0], "user")
        assert month.total.requests == 6 + 4
        total = month.total
        assert (total.failed, total.truncated, total.unpriced_requests) == (1, 1, 1)
        assert month.rows[0].key == "U0ALEX"
        by_day = build_report(postgres, PRICES, periods[0], "day")
        assert by_day.rows[0].cost.usd == Decimal("0.0228")
        assert by_day.rows[-1].key == "2026-11-30"
    finally:
        sqlite.close()
        postgres.close()


def test_both_backends_have_the_same_tables_columns_and_indexes(
    tmp_path: Path, postgres_url: str
) -> None:
    path = tmp_path / "draftbot.db"
    open_store(f"sqlite:///{path}").close()
    open_store(postgres_url).close()
    lite = sqlite_utils.Database(sqlite3.connect(path))
    sqlite_tables = {t.name: [c.name for c in t.columns] for t in lite.tables}
    sqlite_indexes = {i.name for t in lite.tables for i in t.indexes if i.origin == "c"}
    with psycopg.connect(postgres_url) as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'public' order by table_name, ordinal_position"
        ).fetchall()
        indexes = conn.execute(
            "select indexname from pg_indexes where schemaname = 'public' "
            "and indexname not like '%\\_pkey'"
        ).fetchall()
    postgres_tables: dict[str, list[str]] = {}
    for table, column in columns:
        postgres_tables.setdefault(table, []).append(column)
    assert postgres_tables.pop("schema_migrations") == ["version", "applied_at"]
    assert sqlite_tables.pop("schema_migrations") == ["version", "applied_at"]
    assert postgres_tables == sqlite_tables
    assert set(sqlite_tables) == {
        "usage", "usage_daily", "people", "budgets", "reservations", "budget_alerts",
        "drafts", "handled_events", "usage_replays", "admin_changes", "usage_monthly",
        "draft_versions", "channel_settings", "access_overrides", "draft_events", "draft_outcomes",
    }  # fmt: skip
    assert {name for (name,) in indexes} == sqlite_indexes == {
        "idx_usage_period_timings", "idx_usage_user_id_created_at", "idx_drafts_updated_at",
        "idx_usage_ok_by_user", "idx_draft_events_draft", "idx_draft_events_user",
        "idx_draft_outcomes_created",
    }  # fmt: skip


# People and budgets


def test_people_are_upserted(store: Storage) -> None:
    assert store.people([]) == {}
    store.save_person("U0ALEX", "alex", "Alex")
    store.save_person("U0ALEX", "alex.chen", "Alex Chen")
    store.save_person("U0SAM", "", "")
    people = store.people(["U0ALEX", "U0SAM", "U0NOBODY"])
    assert set(people) == {"U0ALEX", "U0SAM"}
    assert people["U0ALEX"]["display_name"] == "alex.chen"
    assert people["U0ALEX"]["real_name"] == "Alex Chen"
    assert set(people["U0ALEX"]) == {"user_id", "display_name", "real_name", "updated_at"}


def test_budget_overrides(store: Storage) -> None:
    assert store.budget_override("U0ALEX") is None
    store.set_budget("alice", 5_000_000_000, "cli")
    store.set_budget("U0ALEX", 25_000_000_000, "UADMIN1")
    store.set_budget("U0ALEX", 30_000_000_000, "cli")
    assert store.budget_override("U0ALEX") == 30_000_000_000
    overrides = store.budget_overrides()
    assert [row["user_id"] for row in overrides] == ["U0ALEX", "alice"]  # byte order
    assert overrides[0]["set_by"] == "cli" and overrides[0]["set_at"][:2] == "20"
    assert store.remove_budget("U0ALEX") is True
    assert store.remove_budget("U0ALEX") is False
    assert store.budget_override("U0ALEX") is None


def test_every_budget_change_is_in_the_audit_log(store: Storage) -> None:
    store.set_budget("U0ALEX", 25_000_000_000, "UADMIN1")
    store.set_budget("U0ALEX", 30_000_000_000, "cli")
    assert store.remove_budget("U0ALEX", removed_by="UADMIN2") is True
    assert store.remove_budget("U0ALEX", removed_by="UADMIN2") is False  # nothing changed
    changes = [
        (row["actor"], row["setting"], row["subject"], row["old_value"], row["new_value"])
        for row in store.admin_changes()
    ]
    assert changes == [  # newest first
        ("UADMIN2", "budget", "U0ALEX", "30000000000", None),
        ("cli", "budget", "U0ALEX", "25000000000", "30000000000"),
        ("UADMIN1", "budget", "U0ALEX", None, "25000000000"),
    ]
    assert len(store.admin_changes(limit=1)) == 1


def test_reservations_fit_the_limit_and_are_released(store: Storage) -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    store.record_usage(replace(usage("U0ALEX", "email", "2026-11-02"), cost_nano_usd=400))
    store.record_usage(replace(usage("U0ALEX", "email", "2026-10-31"), cost_nano_usd=10**6))

    def reserve(nano_usd: int, at: datetime = now) -> tuple[int | None, int, int]:
        return store.reserve(
            "U0ALEX",
            nano_usd,
            limit_nano_usd=1000,
            month_start="2026-11-01T00:00:00.000000+00:00",
            month_end="2026-12-01T00:00:00.000000+00:00",
            now=at.isoformat(timespec="microseconds"),
            stale_before=(at - timedelta(minutes=15)).isoformat(timespec="microseconds"),
        )

    first, spent, reserved = reserve(300)
    assert first is not None and (spent, reserved) == (400, 0)
    assert reserve(301) == (None, 400, 300)  # 400 + 300 + 301 > 1000
    second, _, reserved = reserve(300)  # exactly at the limit fits
    assert second is not None and second != first and reserved == 300
    store.release(first)
    third, _, reserved = reserve(300)
    assert third is not None and reserved == 300
    # Sixteen minutes later, unreleased reservations count as left by a crashed process.
    later, _, reserved = reserve(600, now + timedelta(minutes=16))
    assert later is not None and reserved == 0


def test_stale_reservations_are_ignored_by_budgets(store: Storage) -> None:
    clock = [datetime(2026, 11, 25, 12, tzinfo=UTC)]
    budgets = Budgets(store, PRICES, None, clock=lambda: clock[0])
    budgets.set_limit("U0ALEX", Decimal(1), set_by="test")
    assert budgets.reserve("U0ALEX", MODEL, 10_000, 50_000) is not None
    with pytest.raises(OverBudget):
        budgets.reserve("U0ALEX", MODEL, 10_000, 50_000)
    clock[0] += timedelta(minutes=16)
    assert budgets.reserve("U0ALEX", MODEL, 10_000, 50_000) is not None


def test_a_burst_from_many_instances_never_overspends(database_url: str) -> None:
    """Eight "instances" (each its own connection) reserve for one user at once."""
    prompt_chars, max_tokens = 12_000, 1_500
    worst = PRICES.worst_case_cost(MODEL, prompt_chars // 3 + 1, max_tokens)
    assert worst is not None
    setup = open_store(database_url)
    setup.set_budget("U0ALEX", worst.nano_usd * 3, "test")

    def instance(work: Callable[[Budgets, Storage], T]) -> Callable[[int], T]:
        def run(_: int) -> T:
            store = open_store(database_url)
            try:
                return work(Budgets(store, PRICES, None), store)
            finally:
                store.close()

        return run

    def hold(budgets: Budgets, _: Storage) -> list[int | None]:
        granted = []
        for _ in range(3):
            with contextlib.suppress(OverBudget):
                granted.append(budgets.reserve("U0ALEX", MODEL, prompt_chars, max_tokens))
        return granted

    for _ in range(4):  # rounds: the race is at the start, when nothing is reserved yet
        held = [r for granted in in_threads(8, instance(hold)) for r in granted]
        assert len(held) == 3  # 24 attempts, room for exactly three worst cases at a time
        for reservation in held:
            setup.release(reservation)

    def draft(budgets: Budgets, store: Storage) -> int:
        """Reserve, spend 60 % of the worst case, release; until the budget says no."""
        drafts = 0
        while True:
            try:
                reservation = budgets.reserve("U0ALEX", MODEL, prompt_chars, max_tokens)
            except OverBudget:
                return drafts
            cost = worst.nano_usd * 6 // 10
            store.record_usage(
                UsageRecord("U0ALEX", "test", "email", MODEL, "ok", cost_nano_usd=cost)
            )
            budgets.release(reservation)
            drafts += 1

    drafts = sum(in_threads(8, instance(draft)))
    status = Budgets(setup, PRICES, None).status("U0ALEX")
    assert drafts == status.drafts >= 3
    assert status.spent_nano_usd <= worst.nano_usd * 3 + worst.nano_usd
    setup.close()


# Drafts, alerts and retried events: exactly once, whichever instance gets there first


def test_a_draft_is_claimed_once(store: Storage) -> None:
    store.save_draft({"id": "d1", "user_id": "U0ALEX", "kind": "email", "text": "Hello"})
    draft = store.get_draft("d1")
    assert draft is not None
    assert (draft["status"], draft["text"], draft["team_id"]) == ("ready", "Hello", None)
    assert draft["created_at"] == draft["updated_at"]
    assert store.get_draft("missing") is None

    assert store.claim_draft("d1") is True
    assert store.claim_draft("d1") is False  # a double click
    store.update_draft("d1", status="ready", text="Hi")
    assert store.claim_draft("d1", to="posted") is True
    updated = store.get_draft("d1")
    assert updated is not None and (updated["status"], updated["text"]) == ("posted", "Hi")
    assert updated["updated_at"] > draft["updated_at"]
    with pytest.raises((LookupError, sqlite_utils.db.NotFoundError)):
        store.update_draft("missing", status="ready")


def test_claims_in_parallel_have_one_winner(database_url: str) -> None:
    setup = open_store(database_url)
    setup.save_draft({"id": "d1", "user_id": "U0ALEX"})

    def attempt(_: int) -> tuple[bool, bool, bool]:
        store = open_store(database_url)
        try:
            return (
                store.claim_draft("d1"),
                store.claim_alert("U0ALEX", "2026-11", "admins"),
                store.first_time("im:D1:1700000000.000100"),
            )
        finally:
            store.close()

    results = in_threads(6, attempt)
    assert [sum(column) for column in zip(*results, strict=True)] == [1, 1, 1]
    setup.close()


def test_purging_old_drafts(store: Storage) -> None:
    store.save_draft({"id": "old", "user_id": "U0ALEX"})
    assert store.first_time("event-1")
    cutoff = datetime.now(UTC).isoformat(timespec="microseconds")
    store.save_draft({"id": "new", "user_id": "U0ALEX"})
    assert store.purge_drafts(cutoff) == 1
    assert store.get_draft("old") is None and store.get_draft("new") is not None
    assert store.first_time("event-1")  # forgotten along with the old drafts


def test_alerts_and_events_happen_once(store: Storage) -> None:
    assert store.claim_alert("U0ALEX", "2026-11", "user") is True
    assert store.claim_alert("U0ALEX", "2026-11", "user") is False
    assert store.claim_alert("U0ALEX", "2026-11", "admins") is True
    assert store.claim_alert("U0ALEX", "2026-12", "user") is True
    assert store.first_time("im:D1:1.2") is True
    assert store.first_time("im:D1:1.2") is False


def test_check_writable_leaves_no_trace(store: Storage) -> None:
    assert store.check_writable() == 0
    store.record_usage(usage("U0ALEX", "email", "2026-11-02"))
    assert store.check_writable() == 1
    assert len(store.usage_rows()) == 1
    assert store.purge_drafts("9999") == 0  # nothing was left in drafts or handled_events


# PostgreSQL only: URLs and lost connections


def test_heroku_style_postgres_urls_work(postgres_url: str) -> None:
    store = open_store(postgres_url.replace("postgresql://", "postgres://", 1))
    assert isinstance(store, PostgresStore)
    assert store.check_writable() == 0
    store.close()


def terminate_connections(url: str) -> None:
    """What a server restart or a fail-over does to Draftbot's connection."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )


def test_a_connection_lost_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, idle_check_seconds=0)
    terminate_connections(postgres_url)
    store.record_usage(usage("U0ALEX", "email", "2026-11-02"))  # not lost
    assert len(store.usage_rows()) == 1
    store.close()


def test_a_connection_lost_mid_use_is_replaced_for_a_call_safe_to_repeat(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    terminate_connections(postgres_url)
    # Found dead before use, or lost during it: either way the first try did not commit.
    assert store.check_writable() == 0  # (more in tests/test_postgres_faults.py)
    store.close()


def test_a_journalled_row_is_written_once_whatever_became_of_its_first_write(
    store: Storage, tmp_path: Path
) -> None:
    landed = UsageRecord(
        user_id="U0ALEX", source="slash", kind="email", model=MODEL, status="ok",
        request_id="req_landed", created_at=utc_now_iso(),
    )  # fmt: skip
    store.record_usage(landed)  # the INSERT committed, but the connection died before "ok"
    lost = UsageRecord(
        user_id="U0ALEX", source="slash", kind="email", model=MODEL, status="ok",
        request_id="req_lost", created_at=utc_now_iso(),
    )  # fmt: skip
    journal = UsageJournal(tmp_path / "journal.jsonl")
    journal.keep(landed, ConnectionLost("lost mid-INSERT", applied=None))
    journal.keep(lost, ConnectionLost("lost before sending", applied=False))

    assert journal.replay(store) == 2 and journal.pending == 0
    assert sorted(row["request_id"] for row in store.usage_rows()) == ["req_landed", "req_lost"]
    again = UsageJournal(tmp_path / "journal.jsonl")
    assert again.pending == 0 and again.replay(store) == 0
