"""Reports reconcile exactly with the usage table, in every rendering."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.pricing import load_price_table
from bot.report_formats import CSV_COLUMNS, JSON_SCHEMA, to_csv, to_json, to_table
from bot.reports import PeriodError, build_report, dates_period, named_period, percentile
from bot.storage import Store, UsageRecord
from handlers.blocks.reports import summary_blocks

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PRICES = load_price_table()


def usage(
    user: str,
    kind: str,
    day: str,
    *,
    model: str = "claude-sonnet-4-6",
    input_tokens: int = 100,
    output_tokens: int = 200,
    cache_write: int = 0,
    cache_read: int = 0,
    status: str = "ok",
    stop_reason: str = "end_turn",
    latency_ms: int = 1000,
    ttft_ms: int = 300,
) -> UsageRecord:
    from bot.usage import TokenUsage

    tokens = TokenUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_creation_input_tokens=cache_write,
        cache_read_input_tokens=cache_read,
        cache_creation_5m_input_tokens=cache_write,
    )
    cost = PRICES.cost(model, tokens)
    return UsageRecord(
        user_id=user,
        source="slash",
        kind=kind,
        model=model,
        status=status,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_creation_input_tokens=cache_write,
        cache_read_input_tokens=cache_read,
        cache_creation_5m_input_tokens=cache_write,
        cost_usd=float(cost.usd) if cost else None,
        cost_nano_usd=cost.nano_usd if cost else None,
        stop_reason=stop_reason if status == "ok" else None,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        created_at=f"{day}T10:00:00.000000+00:00",
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "usage.db")
    rows = [
        usage("U0ALEX", "email", "2026-11-02", cache_write=4000, latency_ms=900),
        usage("U0ALEX", "email", "2026-11-02", cache_read=4000, latency_ms=1100),
        usage("U0ALEX", "code", "2026-11-03", cache_read=4500, stop_reason="max_tokens"),
        usage("U0SAM", "email", "2026-11-03", cache_read=4000, latency_ms=3000, ttft_ms=900),
        usage("U0SAM", "summary", "2026-11-20", status="error", output_tokens=0, input_tokens=0),
        usage("U0KIM", "general", "2026-11-24", model="claude-made-up-1", input_tokens=50),
        usage("U0ALEX", "email", "2026-10-31", cache_write=4000),  # last month
    ]
    for row in rows:
        store.record_usage(row)
    return store


def this_month():  # type: ignore[no-untyped-def]
    return named_period("this-month", NOW)


def test_totals_equal_the_usage_table(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "user")
    (total_nano,) = store.db.execute(
        "select sum(cost_nano_usd) from usage where created_at >= '2026-11-01'"
    ).fetchone()
    assert report.total.cost_nano_usd == total_nano
    assert report.total.requests == 6
    assert report.total.failed == 1
    assert report.total.truncated == 1
    assert report.total.unpriced_requests == 1
    assert report.total.cache_read_tokens == 12_500
    assert [row.key for row in report.rows][:2] == ["U0ALEX", "U0SAM"]


@pytest.mark.parametrize("group_by", ["user", "kind", "day", "model"])
def test_every_grouping_sums_to_the_same_total(store: Store, group_by: str) -> None:
    report = build_report(store, PRICES, this_month(), group_by)  # type: ignore[arg-type]
    by_user = build_report(store, PRICES, this_month(), "user")
    for column in ("requests", "cost_nano_usd", "savings_nano_usd", "input_tokens"):
        assert sum(getattr(row, column) for row in report.rows) == getattr(report.total, column)
        assert getattr(report.total, column) == getattr(by_user.total, column)


def test_cost_and_cache_savings_match_hand_arithmetic(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "day")
    day2 = next(row for row in report.rows if row.key == "2026-11-02")
    # Write: 100×3 + 200×15 + 4000×3.75 = 18,300 µ$; read: 100×3 + 200×15 + 4000×0.30 = 4,500 µ$
    assert day2.cost.usd == Decimal("0.0228")
    # Uncached, both would be 4100×3 + 200×15 = 15,300 µ$ each = 30,600 µ$; saved 7,800 µ$.
    assert day2.savings.usd == Decimal("0.0078")
    assert day2.cache_read_share == pytest.approx(4000 / 8200)


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5], 95) == 5
    assert percentile(list(range(1, 101)), 50) == 50
    assert percentile(list(range(1, 101)), 95) == 95


def test_latency_figures_only_count_successful_requests(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "user")
    sam = next(row for row in report.rows if row.key == "U0SAM")
    assert (sam.latency_p50_ms, sam.latency_p95_ms, sam.ttft_p95_ms) == (3000, 3000, 900)
    alex = next(row for row in report.rows if row.key == "U0ALEX")
    assert (alex.latency_p50_ms, alex.latency_p95_ms) == (1000, 1100)


def test_csv_parses_back_to_the_same_numbers(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "kind")
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == len(report.rows)
    assert sum(Decimal(row["cost_usd"]) for row in rows) == report.total.cost.usd
    assert sum(int(row["requests"]) for row in rows) == report.total.requests


def test_json_shape_is_stable(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "model")
    document = json.loads(to_json(report))
    assert document["schema"] == JSON_SCHEMA
    assert set(document) == {
        "schema", "generated_at", "period", "group_by", "currency", "rows", "total",
    }  # fmt: skip
    assert document["period"] == {
        "name": "this-month",
        "label": "November 2026 (this month)",
        "start": "2026-11-01T00:00:00.000000+00:00",
        "end": "2026-12-01T00:00:00.000000+00:00",
    }
    assert [set(row) for row in document["rows"]] == [set(CSV_COLUMNS)] * len(report.rows)
    assert sum(Decimal(r["cost_usd"]) for r in document["rows"]) == Decimal(
        document["total"]["cost_usd"]
    )


def test_table_is_readable_and_flags_unknown_prices(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "model", names={})
    table = to_table(report)
    assert "Draftbot usage by model · November 2026 (this month)" in table
    [unpriced] = [line for line in table.splitlines() if line.startswith("claude-made-up-1")]
    assert re.search(r"\$[\d.,]+\* ", unpriced), "its cost is marked as incomplete"
    assert "* 1 request(s) used a model with no price" in table
    assert report.total.cost.display() in table


def test_names_label_people(store: Store) -> None:
    report = build_report(store, PRICES, this_month(), "user", names={"U0ALEX": "Alex Chen"})
    assert report.rows[0].label == "Alex Chen"
    assert "Alex Chen (U0ALEX)" in to_table(report)


def test_slack_summary_shows_totals_top_people_and_kinds(store: Store) -> None:
    period = this_month()
    by_user = build_report(store, PRICES, period, "user", names={"U0ALEX": "Alex Chen"})
    by_kind = build_report(store, PRICES, period, "kind")
    text = json.dumps(summary_blocks(by_user, by_kind), ensure_ascii=False)
    assert "*6 drafts* by *3 people*" in text
    assert by_user.total.cost.display() in text
    assert "1. Alex Chen" in text and "1. email" in text
    assert "saving" in text


def test_slack_summary_counts_refusals_apart(store: Store) -> None:
    refused = usage("U0GUEST", "email", "2026-11-06", input_tokens=0, output_tokens=0)
    store.record_usage(replace(refused, status="refused", error="guest"))
    period = this_month()
    by_user = build_report(store, PRICES, period, "user")
    text = json.dumps(summary_blocks(by_user, build_report(store, PRICES, period, "kind")))
    assert "*6 drafts* by *3 people*" in text  # the refused guest is neither
    assert "1 refused (1 guest" in text
    assert "U0GUEST" not in text  # nor among the top people


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("this-month", "2026-11-01", "2026-12-01"),
        ("last-month", "2026-10-01", "2026-11-01"),
        ("last-7-days", "2026-11-19", "2026-11-26"),
        ("today", "2026-11-25", "2026-11-26"),
    ],
)
def test_named_periods(name: str, start: str, end: str) -> None:
    period = named_period(name, NOW)
    assert (period.start.date().isoformat(), period.end.date().isoformat()) == (start, end)


def test_last_month_in_january_is_december() -> None:
    period = named_period("last-month", datetime(2027, 1, 10, tzinfo=UTC))
    assert period.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert period.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_date_range_is_inclusive_and_validated() -> None:
    period = dates_period("2026-11-01", "2026-11-15", NOW)
    assert period.end == datetime(2026, 11, 16, tzinfo=UTC)
    assert len(period.days()) == 15
    with pytest.raises(PeriodError, match="before"):
        dates_period("2026-11-15", "2026-11-01", NOW)
    with pytest.raises(PeriodError, match="like 2026-11-01"):
        dates_period("1/11/2026", None, NOW)
    with pytest.raises(PeriodError, match="not a real date"):
        dates_period("2026-02-30", None, NOW)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("this-month", "Draftbot usage · November 2026 (this month) · $"),
        ("last-7-days", "nothing spent in the 7 days before"),
        ("today", "nothing spent in the day before"),
    ],
)
async def test_the_chart_title_gives_the_total_and_the_change(
    store: Store, period: str, expected: str
) -> None:
    from handlers.people import People
    from handlers.report_delivery import build_usage_reports, chart_title

    chosen = named_period(period, NOW)
    reports = await build_usage_reports(store, PRICES, People(store, None, frozenset()), chosen)
    title = chart_title(reports)
    assert expected in title
    assert reports.by_user.total.cost.display() in title
    if period == "this-month":  # October had one email; November costs more
        october = build_report(store, PRICES, chosen.previous(), "user").total.cost_nano_usd
        assert reports.previous_nano_usd == october > 0
        change = (reports.by_user.total.cost_nano_usd - october) / october
        assert f"{change:+.0%} on October 2026" in title


def test_slack_summary_counts_one_person_and_one_draft_in_the_singular(store: Store) -> None:
    period = named_period("today", datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # Kim's one draft
    by_user = build_report(store, PRICES, period, "user")
    text = json.dumps(summary_blocks(by_user, build_report(store, PRICES, period, "kind")))
    assert "*1 draft* by *1 person*" in text and "(1 draft)" in text
    from bot.report_formats import summary_text

    assert ": 1 draft, $" in summary_text(by_user)
