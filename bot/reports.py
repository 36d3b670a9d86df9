"""One report model over the `usage` table; `bot.report_formats` renders it several ways.

Costs are summed from the exact `cost_nano_usd` column; cache savings are computed from
the price table (what the same tokens would have cost uncached, minus what they cost).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, TypeVar, get_args

from bot.access import REFUSAL_REASONS
from bot.outcomes import Outcomes, outcomes_by_group
from bot.pricing import Cost, PriceTable
from bot.storage import Storage
from bot.storage.records import GroupBy, IntArray
from bot.usage import TokenUsage

if TYPE_CHECKING:
    from concurrent.futures import Future

PERIOD_NAMES = ("this-month", "last-month", "last-7-days", "today")
GROUPINGS: tuple[str, ...] = get_args(GroupBy)
# The report's field for each reason a request was refused (`bot.access.RefusalReason`).
REFUSED_FIELDS: dict[str, str] = {
    reason: "refused_" + reason.replace(" ", "_") for reason in REFUSAL_REASONS
}
T = TypeVar("T")


class PeriodError(ValueError):
    """A period or date the user typed is not understood; the message says what works."""


@dataclass(frozen=True)
class Period:
    """A UTC time range, `start` inclusive and `end` exclusive."""

    name: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        last_day = (self.end - timedelta(days=1)).date()
        first_day = self.start.date()
        if self.is_month:
            text = first_day.strftime("%B %Y")
        elif first_day == last_day:
            text = f"{first_day:%d %b %Y}"
        else:
            text = f"{first_day:%d %b} – {last_day:%d %b %Y}"
        return f"{text} ({self.name.replace('-', ' ')})" if self.name in PERIOD_NAMES else text

    def days(self) -> list[str]:
        day, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        out = []
        while day <= last:
            out.append(day.isoformat())
            day += timedelta(days=1)
        return out

    @property
    def is_month(self) -> bool:
        return self.name in ("this-month", "last-month")

    def previous(self) -> Period:
        """The period just before, as long (for a month: the month before, however long)."""
        if self.is_month:
            month = month_of(self.start - timedelta(days=1))
            return Period(month.start.strftime("%B %Y"), month.start, month.end)
        length = self.end - self.start
        first, last = (self.start - length).date(), (self.start - timedelta(days=1)).date()
        return Period(f"{first}..{last}", self.start - length, self.start)

    def iso_bounds(self) -> tuple[str, str]:
        return _iso(self.start), _iso(self.end)

    def day_bounds(self) -> tuple[str, str]:
        """First UTC day and the day after the last, as YYYY-MM-DD (periods are whole days)."""
        return self.start.date().isoformat(), self.end.date().isoformat()


def month_of(moment: datetime) -> Period:
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    end = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
    return Period("this-month", start, end)


def named_period(name: str, now: datetime | None = None) -> Period:
    now = now or datetime.now(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if name == "this-month":
        return month_of(now)
    if name == "last-month":
        this_month = month_of(now)
        previous = month_of(this_month.start - timedelta(days=1))
        return Period("last-month", previous.start, previous.end)
    if name == "last-7-days":
        return Period(name, today - timedelta(days=6), today + timedelta(days=1))
    if name == "today":
        return Period(name, today, today + timedelta(days=1))
    raise PeriodError(f"Unknown period {name!r}. Use one of: {', '.join(PERIOD_NAMES)}.")


def dates_period(since: str | None, until: str | None, now: datetime | None = None) -> Period:
    """`since` and `until` are inclusive UTC dates (YYYY-MM-DD); either may be left out."""
    now = now or datetime.now(UTC)
    start = _parse_date(since, "--since") if since else month_of(now).start.date()
    last = _parse_date(until, "--until") if until else now.date()
    if last < start:
        raise PeriodError(f"--until ({last}) is before --since ({start}).")
    return Period(
        f"{start}..{last}",
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1),
    )


def _parse_date(text: str, option: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise PeriodError(f"{option} needs a date like 2026-11-01, not {text!r}.")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise PeriodError(f"{option}: {text} is not a real date.") from error


@dataclass(frozen=True)
class ReportRow:
    key: str  # user id, kind, model or UTC day
    label: str  # what people read: display name for users, otherwise the key
    requests: int = 0
    failed: int = 0
    truncated: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nano_usd: int = 0
    savings_nano_usd: int = 0
    unpriced_requests: int = 0  # requests whose model has no price: their cost is unknown
    # Requests refused before any model call (who may use Draftbot), by reason; not drafts.
    refused_not_allowed: int = 0
    refused_channel: int = 0
    refused_dms: int = 0
    refused_guest: int = 0
    refused_unchecked: int = 0
    latency_p50_ms: int | None = None
    latency_p95_ms: int | None = None
    ttft_p50_ms: int | None = None
    ttft_p95_ms: int | None = None

    @property
    def cost(self) -> Cost:
        return Cost.from_nano_usd(self.cost_nano_usd)

    @property
    def refused(self) -> int:
        return sum(getattr(self, name) for name in REFUSED_FIELDS.values())

    def refused_by_reason(self) -> dict[str, int]:
        return {reason: getattr(self, name) for reason, name in REFUSED_FIELDS.items()}

    @property
    def savings(self) -> Cost:
        return Cost.from_nano_usd(self.savings_nano_usd)

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens

    @property
    def cache_read_share(self) -> float:
        """Share of all input tokens served from the prompt cache (0.0 to 1.0)."""
        total = self.total_input_tokens
        return self.cache_read_tokens / total if total else 0.0


@dataclass(frozen=True)
class Report:
    period: Period
    group_by: GroupBy
    rows: tuple[ReportRow, ...]
    total: ReportRow
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # What the drafts became, per row key and over all (bot/outcomes.py).
    outcomes: Mapping[str, Outcomes] = field(default_factory=dict)
    total_outcomes: Outcomes = field(default_factory=Outcomes)

    def outcomes_of(self, row: ReportRow) -> Outcomes:
        if row is self.total or (row.key == "total" and "total" not in self.outcomes):
            return self.total_outcomes
        return self.outcomes.get(row.key, Outcomes())


def build_report(
    store: Storage,
    prices: PriceTable,
    period: Period,
    group_by: GroupBy = "user",
    names: Mapping[str, str] | None = None,
) -> Report:
    """Sum the period's usage per group. Rows by cost, largest first (by date for `day`)."""
    start, end = period.iso_bounds()
    first_day, end_day = period.day_bounds()
    # The timings (every successful request of the period) are read in a thread of their
    # own, on a connection of their own where the database has two (bot/storage/sqlite.py),
    # while the sums are added up here. By person, the timings query reads each person's
    # own rows, so it starts once the sums have said who had usage. What the drafts became
    # is read in a third thread (on the first connection, free once the refusals are read).
    sum_rows = store.usage_sums(first_day, end_day, group_by)
    refusals = store.refusals(start, end, group_by)
    people = sorted({str(row["key"]) for row in sum_rows}) if group_by == "user" else None
    pending_timings = _in_a_thread(store.timings, start, end, group_by, people)
    pending_outcomes = _in_a_thread(outcomes_by_group, store, start, end, group_by)
    import numpy  # noqa: F401  (loaded here while the timings are read: it takes ~60 ms)

    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in sum_rows:
        key = str(row["key"])
        usage = TokenUsage(
            input_tokens=row["input_tokens"] or 0,
            output_tokens=row["output_tokens"] or 0,
            cache_creation_input_tokens=row["cache_creation_input_tokens"] or 0,
            cache_read_input_tokens=row["cache_read_input_tokens"] or 0,
            cache_creation_5m_input_tokens=row["cache_creation_5m_input_tokens"] or 0,
            cache_creation_1h_input_tokens=row["cache_creation_1h_input_tokens"] or 0,
        )
        savings = prices.savings(row["model"], usage)
        group = sums[key]
        for column in ("requests", "failed", "truncated", "input_tokens", "output_tokens"):
            group[column] += row[column] or 0
        group["cache_write_tokens"] += usage.cache_creation_input_tokens
        group["cache_read_tokens"] += usage.cache_read_input_tokens
        group["cost_nano_usd"] += row["cost_nano_usd"] or 0
        group["savings_nano_usd"] += savings.nano_usd if savings else 0
        group["unpriced_requests"] += row["unpriced_requests"] or 0

    # Refused requests are in `usage_daily` as failed requests: count them as refusals.
    for key, reason, count in refusals:
        group = sums[key]
        group["requests"] -= count
        group["failed"] -= count
        group[REFUSED_FIELDS.get(reason, "refused_not_allowed")] += count

    timings = pending_timings.result()
    names = names or {}
    rows = [
        ReportRow(
            key=key,
            label=names.get(key, key),
            **group,
            **_timing_figures([timings[key]] if key in timings else []),
        )
        for key, group in sums.items()
    ]
    if group_by == "day":
        rows.sort(key=lambda row: row.key)
    else:
        rows.sort(key=lambda row: (-row.cost_nano_usd, -row.requests, row.label))
    total = _sum_rows(rows, _timing_figures(list(timings.values())))
    outcomes, all_outcomes = pending_outcomes.result()
    return Report(
        period=period, group_by=group_by, rows=tuple(rows), total=total, outcomes=outcomes,
        total_outcomes=all_outcomes,
    )  # fmt: skip


def with_names(report: Report, names: Mapping[str, str]) -> Report:
    """The same report with rows labelled by display name where one is known."""
    rows = tuple(replace(row, label=names.get(row.key, row.label)) for row in report.rows)
    return replace(report, rows=rows)


def with_cached_names(store: Storage, report: Report) -> Report:
    """People's rows labelled with the display (else real) names cached in the database from
    Slack, without asking Slack: as `handlers.people.People.names` does with no client. By
    channel: the rows that are not channels (direct messages, the terminal) say so."""
    if report.group_by == "channel":
        from bot import wording

        return with_names(
            report, {"D": wording.REPORT_DIRECT_MESSAGES, "": wording.REPORT_NO_CHANNEL}
        )
    if report.group_by != "user":
        return report
    cached = store.people([row.key for row in report.rows])
    names = {
        key: str(row.get("display_name") or row.get("real_name") or "")
        for key, row in cached.items()
    }
    return with_names(report, {key: name for key, name in names.items() if name})


def _sum_rows(rows: list[ReportRow], timing: _Timings) -> ReportRow:
    summed = {
        f.name: sum(getattr(row, f.name) for row in rows)
        for f in fields(ReportRow)
        if f.type == "int"
    }
    return ReportRow(key="total", label="Total", **summed, **timing)


class _Timings(TypedDict):
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    ttft_p50_ms: int | None
    ttft_p95_ms: int | None


def _timing_figures(timings: Collection[tuple[IntArray, IntArray]]) -> _Timings:
    """p50 and p95 of all the (latencies, times to first token) given, exact."""
    latency_p50, latency_p95 = _percentiles([latencies for latencies, _ in timings], (50, 95))
    ttft_p50, ttft_p95 = _percentiles([ttfts for _, ttfts in timings], (50, 95))
    return {
        "latency_p50_ms": latency_p50,
        "latency_p95_ms": latency_p95,
        "ttft_p50_ms": ttft_p50,
        "ttft_p95_ms": ttft_p95,
    }


def _percentiles(arrays: list[IntArray], pcts: tuple[float, ...]) -> list[int | None]:
    """`percentile` of all the values in `arrays` for each of `pcts`, without sorting them:
    np.partition puts the value of each rank asked for where a full sort would put it."""
    import numpy as np  # loaded only to build a report: other commands start without it

    values = np.concatenate([*arrays, np.empty(0, dtype=np.int64)])
    if len(values) == 0:
        return [None for _ in pcts]
    ranks = [_rank(pct, len(values)) for pct in pcts]
    placed = np.partition(values, ranks)
    return [int(placed[rank]) for rank in ranks]


def percentile(ordered: IntArray | list[int], pct: float) -> int | None:
    """Nearest-rank percentile of sorted values (an actual value, never interpolated)."""
    if len(ordered) == 0:
        return None
    return int(ordered[_rank(pct, len(ordered))])


def _rank(pct: float, count: int) -> int:
    """The 0-based position of the nearest-rank `pct` percentile among `count` values."""
    return max(math.ceil(pct / 100 * count) - 1, 0)


def _in_a_thread(call: Callable[..., T], *args: object) -> Future[T]:
    from concurrent.futures import ThreadPoolExecutor  # only to build a report

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="draftbot-report")
    try:
        return pool.submit(call, *args)
    finally:
        pool.shutdown(wait=False)  # its thread ends once `call` returns


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
