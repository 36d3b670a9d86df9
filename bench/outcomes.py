"""How fast the outcome figures are on a large log: 1M usage rows plus their draft events.

Reuses (or builds) `bench/reports.py`'s database of `--rows` usage rows, then gives every
usage row a draft and its life in `draft_events` (about three events a draft: created;
then 75 % posted a few minutes later, 10 % discarded, 10 % expired; 20 % refined once; 15 %
rated), and times `build_report` (usage and outcomes) and the outcome figures alone
(`bot.outcomes.outcomes_by_group`) for each grouping and period. Usage:

    .venv/bin/python bench/outcomes.py --rows 1000000 --users 500 --db /tmp/bench-usage.db
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reports import add_database_arguments, open_database, timed
from bot.outcomes import outcomes_by_group
from bot.pricing import load_price_table
from bot.reports import build_report, named_period
from bot.storage.dialects import SQLITE
from bot.storage.events import EVENT_COLUMNS
from bot.storage.events_schema import draft_event_tables
from bot.storage.sqlite import Store

# draft_outcomes from draft_events in one statement (Draftbot keeps it event by event).
REBUILD_OUTCOMES = """
    insert into draft_outcomes
    select draft_id,
        min(case when event = 'created' then at end),
        max(case when event = 'created' then user_id end),
        max(case when event = 'created' then kind end),
        max(case when event = 'created' then model end),
        max(case when event = 'created' then channel_id end),
        min(case when event = 'posted' then at end),
        cast((julianday(min(case when event = 'posted' then at end))
            - julianday(min(case when event = 'created' then at end))) * 86400000 as integer),
        sum(event = 'discarded'), sum(event = 'expired'), sum(event = 'refined'),
        min(case when event = 'edited' then at end),
        (select f.detail from draft_events f where f.draft_id = e.draft_id
            and f.event = 'feedback' order by f.id desc limit 1)
    from draft_events e group by draft_id
"""


def fill_events(store: Store) -> int:
    """One draft per usage row, with its events; returns how many events."""
    rng = random.Random(7)
    sql = (
        f"insert into draft_events ({', '.join(EVENT_COLUMNS)}) "
        f"values ({', '.join('?' * len(EVENT_COLUMNS))})"
    )
    rows = store.db.execute("select id, created_at, user_id, kind, model from usage order by id")
    batch: list[tuple[object, ...]] = []
    count = 0
    for usage_id, created_at, user, kind, model in rows:
        at = datetime.fromisoformat(created_at)
        event = partial(_event, batch, at, (f"d{usage_id:010d}", user, kind, "C0001", model))

        event("created", 0)
        version = 1
        if rng.random() < 0.2:
            version = 2
            event("refined", rng.uniform(5, 60), "shorter", version)
        fate = rng.random()
        if fate < 0.75:
            if rng.random() < 0.15:
                event("edited", 100, version=version + 1)
            event("posted", rng.uniform(30, 900), version=version)
        elif fate < 0.85:
            event("discarded", rng.uniform(30, 900), version=version)
        elif fate < 0.95:
            event("expired", 7 * 86400, version=version)
        if rng.random() < 0.15:
            event("feedback", 1000, "up" if rng.random() < 0.8 else "down", version)
        if len(batch) >= 50_000:
            count += insert(store, sql, batch)
    return count + insert(store, sql, batch)


def _event(
    batch: list[tuple[object, ...]],
    at: datetime,
    draft: tuple[object, ...],
    name: str,
    seconds: float,
    detail: str | None = None,
    version: int = 1,
) -> None:
    moment = (at + timedelta(seconds=seconds)).isoformat(timespec="microseconds")
    batch.append((moment, *draft, name, detail, None, version))


def insert(store: Store, sql: str, batch: list[tuple[object, ...]]) -> int:
    store.db.execute("BEGIN")
    store.db.conn.executemany(sql, batch)
    store.db.execute("COMMIT")
    written = len(batch)
    batch.clear()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    args = parser.parse_args()

    now = datetime.now(UTC)
    store = open_database(args.db, args.rows, args.users, now)
    (drafts,) = store.db.execute(
        "select count(*) from draft_events where event = 'created'"
    ).fetchone()
    if drafts != args.rows:
        store.db.execute("delete from draft_events")
        started = time.perf_counter()
        events = fill_events(store)
        print(f"built {events:,} draft events in {time.perf_counter() - started:.1f} s")
    # Rebuilt each run (the events are inserted in bulk here, not through the store).
    started = time.perf_counter()
    store.db.execute("drop table if exists draft_outcomes")
    for statement in draft_event_tables(SQLITE):  # creates only what is missing
        store.db.execute(statement)
    store.db.execute(REBUILD_OUTCOMES)
    print(f"summed them per draft (draft_outcomes) in {time.perf_counter() - started:.1f} s")
    (events,) = store.db.execute("select count(*) from draft_events").fetchone()
    print(f"{args.rows:,} usage rows, {events:,} draft events")
    prices = load_price_table()
    for period_name in ("this-month", "last-month", "last-7-days", "today"):
        period = named_period(period_name, now)
        start, end = period.iso_bounds()
        (made,) = store.db.execute(
            "select count(*) from draft_events where event = 'created' and at >= ? and at < ?",
            [start, end],
        ).fetchone()
        figures = []
        for group_by in ("user", "kind", "day", "model"):
            whole = timed(lambda g=group_by, p=period: build_report(store, prices, p, g))
            alone = timed(lambda g=group_by, s=start, e=end: outcomes_by_group(store, s, e, g))
            figures.append(f"{group_by} {whole * 1000:.0f} ms ({alone * 1000:.0f} ms outcomes)")
        print(f"{period_name} ({made:,} drafts): " + ", ".join(figures))


if __name__ == "__main__":
    main()
