"""Made-up usage for the demo: named people, each with their habits, over the last 60 days
(a month to report on, and the month before it to compare with).

Rows are plain INSERTs into `usage`, as any writer's, so the database's triggers keep
`usage_daily`; costs come from Draftbot's own price table. The same `now` and seed give the
same rows.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.pricing import PriceTable, load_price_table
from bot.storage.records import USAGE_COLUMNS
from bot.storage.sqlite import Store
from bot.usage import TokenUsage


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    per_weekday: float  # requests on an average working day
    kinds: tuple[str, ...]  # the kinds they ask for, the favourite repeated


PEOPLE = (
    Person("U0DEMOALEX", "Alex Kim", 6.0, ("email", "email", "email", "message", "general")),
    Person("U0DEMOSAM", "Sam Okafor", 5.0, ("code", "code", "code", "general", "email")),
    Person("U0DEMOPRIYA", "Priya Natarajan", 4.0, ("summary", "summary", "email", "message")),
    Person("U0DEMOJORDAN", "Jordan Lee", 3.0, ("message", "message", "email", "general")),
    Person("U0DEMOMARIA", "María García", 3.0, ("email", "general", "summary")),
    Person("U0DEMOCHEN", "Chen Wei", 2.0, ("code", "summary", "code")),
    Person("U0DEMOLENA", "Lena Fischer", 1.0, ("email", "message")),
)
ADMIN = PEOPLE[0]
BUDGETS_USD = {"U0DEMOLENA": 2}  # a budget of her own, for `draftbot budget list`

# Per kind: cached prompt tokens, uncached input range, output range, max_tokens.
SHAPES = {
    "email": (3200, (60, 250), (150, 500), 1500),
    "summary": (3000, (1500, 9000), (300, 900), 1500),
    "code": (3400, (100, 600), (400, 2000), 3000),
    "message": (2900, (40, 150), (50, 200), 800),
    "general": (3100, (80, 400), (200, 1200), 2500),
}
MODELS = ("claude-sonnet-4-6",) * 17 + ("claude-haiku-4-5",) * 2 + ("claude-opus-4-6",)
SOURCES = ("slash",) * 11 + ("form",) * 2 + ("dm",) * 3 + ("shorter", "formal", "regenerate")
FAILURES = (
    "busy: overloaded_error (529)",
    "busy: rate_limit_error (429)",
    "unavailable: APIConnectionError",
)


DAYS = 60


def seed(database: Path, now: datetime | None = None, seed: int = 12) -> int:
    """Fill `database` (created and migrated if new) with demo usage; the number of rows."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    prices = load_price_table()
    store = Store(database)
    try:
        for person in PEOPLE:
            store.save_person(person.user_id, person.name, person.name)
        for user_id, usd in BUDGETS_USD.items():
            store.set_budget(user_id, usd * 1_000_000_000, set_by=ADMIN.user_id)
        rows: list[tuple[object, ...]] = []
        day = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= now:
            for person in PEOPLE:
                rate = person.per_weekday * (1.0 if day.weekday() < 5 else 0.15)
                for _ in range(_poisson(rng, rate)):
                    moment = day + timedelta(seconds=rng.uniform(7.5 * 3600, 18.5 * 3600))
                    if moment <= now:
                        rows.append(_row(rng, prices, person, moment, len(rows)))
            day += timedelta(days=1)
        rows.sort(key=lambda row: str(row[0]))  # time order, as rows arrive
        columns = [c for c in USAGE_COLUMNS if c != "id"]
        sql = f"insert into usage ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
        store.conn.execute("begin")
        store.conn.executemany(sql, rows)
        store.conn.execute("commit")
        return len(rows)
    finally:
        store.close()


def _row(
    rng: random.Random, prices: PriceTable, person: Person, moment: datetime, n: int
) -> tuple[object, ...]:
    kind = rng.choice(person.kinds)
    cached, (in_low, in_high), (out_low, out_high), max_tokens = SHAPES[kind]
    model = rng.choice(MODELS)
    failed = rng.random() < 0.03
    truncated = not failed and rng.random() < 0.02
    read = rng.random() < 0.7  # most requests come within the cache's 5 minutes of another
    output = max_tokens if truncated else rng.randint(out_low, out_high)
    usage = (
        TokenUsage()
        if failed
        else TokenUsage(
            input_tokens=rng.randint(in_low, in_high),
            output_tokens=output,
            cache_creation_input_tokens=0 if read else cached,
            cache_read_input_tokens=cached if read else 0,
            cache_creation_5m_input_tokens=0 if read else cached,
        )
    )
    cost = prices.cost(model, usage)
    ttft = rng.randint(350, 1400)
    source = "shortcut" if kind == "summary" and rng.random() < 0.4 else rng.choice(SOURCES)
    row = {
        "created_at": moment.isoformat(timespec="microseconds"),
        "team_id": "T0001",
        "user_id": person.user_id,
        "channel_id": rng.choice(("C0DEMOGENERAL", "C0DEMOPROJECTS", "D0DEMO")),
        "source": source,
        "kind": kind,
        "model": model,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation_5m_input_tokens": usage.cache_creation_5m_input_tokens,
        "cache_creation_1h_input_tokens": 0,
        "cost_usd": float(cost.usd) if cost else None,
        "cost_nano_usd": cost.nano_usd if cost else None,
        "stop_reason": None if failed else "max_tokens" if truncated else "end_turn",
        "status": "error" if failed else "ok",
        "error": rng.choice(FAILURES) if failed else None,
        "latency_ms": rng.randint(20_000, 60_000) if failed else ttft + output * 12,
        "ttft_ms": None if failed else ttft,
        "request_id": f"req_demo{n:016d}",
        "attempts": rng.randint(3, 4) if failed else 1,
    }
    return tuple(row[c] for c in USAGE_COLUMNS if c != "id")


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means here."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
