"""How fast reports answer on a large usage log.

Builds (or reuses) a SQLite database of `--rows` usage rows spread over 90 days and
`--users` people, then times `build_report` for each grouping and period, and the
per-user budget check that runs before every draft. Usage:

    .venv/bin/python bench/reports.py --rows 1000000 --users 500 --db /tmp/bench-usage.db
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.budgets import Budgets
from bot.pricing import load_price_table
from bot.reports import build_report, named_period
from bot.storage.records import USAGE_COLUMNS
from bot.storage.sqlite import Store
from bot.usage import TokenUsage

KINDS = ("email", "summary", "code", "message", "general")
MODELS = ("claude-sonnet-4-6",) * 8 + ("claude-haiku-4-5", "claude-opus-4-6")


def fill(store: Store, rows: int, users: int, now: datetime) -> None:
    prices = load_price_table()
    rng = random.Random(42)
    columns = [c for c in USAGE_COLUMNS if c != "id"]
    sql = f"insert into usage ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
    start = now - timedelta(days=90)
    batch: list[tuple[object, ...]] = []
    # Rows arrive in time order in real life, so they are generated in time order here.
    offsets = sorted(rng.uniform(0, 90 * 86400) for _ in range(rows))
    for i, offset in enumerate(offsets):
        created = start + timedelta(seconds=offset)
        model = rng.choice(MODELS)
        cached = rng.random() < 0.8
        usage = TokenUsage(
            input_tokens=rng.randint(10, 400),
            output_tokens=rng.randint(50, 1500),
            cache_creation_input_tokens=0 if cached else 4700,
            cache_read_input_tokens=4700 if cached else 0,
            cache_creation_5m_input_tokens=0 if cached else 4700,
        )
        cost = prices.cost(model, usage)
        failed = rng.random() < 0.02
        row = {
            "created_at": created.isoformat(timespec="microseconds"),
            "team_id": "T0001",
            "user_id": f"U{rng.randint(1, users):07d}",
            "channel_id": "C0001",
            "source": "slash",
            "kind": rng.choice(KINDS),
            "model": model,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "cache_creation_5m_input_tokens": usage.cache_creation_5m_input_tokens,
            "cache_creation_1h_input_tokens": 0,
            "cost_usd": float(cost.usd) if cost else None,
            "cost_nano_usd": cost.nano_usd if cost else None,
            "stop_reason": "max_tokens" if rng.random() < 0.03 else "end_turn",
            "status": "error" if failed else "ok",
            "error": "busy: RateLimitError" if failed else None,
            "latency_ms": rng.randint(800, 9000),
            "ttft_ms": rng.randint(200, 1500),
            "request_id": f"req_{i:024d}",
            "attempts": 1,
        }
        batch.append(tuple(row[c] for c in columns))
        if len(batch) == 50_000:
            insert(store, sql, batch)
            batch.clear()
    insert(store, sql, batch)


def insert(store: Store, sql: str, batch: list[tuple[object, ...]]) -> None:
    """A batch in one transaction. Plain INSERTs, as any writer's: the database's triggers
    add each row to usage_daily, which the reports read."""
    store.db.execute("BEGIN")
    store.db.conn.executemany(sql, batch)
    store.db.execute("COMMIT")


def timed(function, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def open_database(db: str, rows: int, users: int, now: datetime) -> Store:
    """The benchmark database, reused when it already holds `rows` rows (building it takes
    about a minute for a million)."""
    store = Store(db)
    (existing,) = store.db.execute("select count(*) from usage").fetchone()
    if existing != rows:  # start from an empty file: faster than deleting every row
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
        store = Store(db)
        started = time.perf_counter()
        fill(store, rows, users, now)
        print(f"built {rows:,} rows in {time.perf_counter() - started:.1f} s ({db})")
    return store


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--db", default="/tmp/draftbot-bench-usage.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    args = parser.parse_args()

    now = datetime.now(UTC)
    store = open_database(args.db, args.rows, args.users, now)
    prices = load_price_table()
    for period_name in ("this-month", "last-month", "last-7-days", "today"):
        period = named_period(period_name, now)
        rows_in_period = store.db.execute(
            "select count(*) from usage where created_at >= ? and created_at < ?",
            period.iso_bounds(),
        ).fetchone()[0]
        figures = []
        for group_by in ("user", "kind", "day", "model", "channel"):
            seconds = timed(lambda g=group_by, p=period: build_report(store, prices, p, g))
            figures.append(f"{group_by} {seconds * 1000:.0f} ms")
        print(f"{period_name} ({rows_in_period:,} rows): " + ", ".join(figures))
    budgets = Budgets(store, prices, None)
    user = "U0000001"
    seconds = timed(lambda: budgets.status(user), repeat=20)
    print(f"budget check for one user this month: {seconds * 1000:.2f} ms")


if __name__ == "__main__":
    main()
