"""The queries behind usage reports (`bot.reports.build_report`), part of every store.

Sums come from the tables the database's triggers keep (bot/storage/schema.py): whole
calendar months from `usage_monthly`, the days around them from `usage_daily`. Timings are
exact, read from `usage` itself through indexes that hold them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bot.storage.dialects import Dialect, Result
from bot.storage.records import GroupBy, IntArray, parse_ints, split_by_whole_months
from bot.storage.schema import DAILY_FIGURES, DAILY_KEY, DAILY_SUM_COLUMNS

# Report groupings over `usage`; `created_at` is UTC ISO-8601, so its first 10 characters
# are the UTC day.
GROUP_COLUMNS: dict[str, str] = {
    "user": "user_id",
    "kind": "kind",
    "model": "model",
    "day": "substr(created_at, 1, 10)",
    # Direct messages (the Messages tab) as one group, "D"; drafts made in the terminal, "".
    "channel": "case when channel_id like 'D%' then 'D' else coalesce(channel_id, '') end",
}
# The same groupings in `usage_daily`, which has a `day` column and no channel (by channel,
# the days outside whole months are summed from `usage`; `usage_monthly` has the channel).
DAILY_GROUP_COLUMNS: dict[str, str] = {
    group: column for group, column in {**GROUP_COLUMNS, "day": "day"}.items() if group != "channel"
}

_SUM_COLUMNS = ", ".join(DAILY_SUM_COLUMNS)
_DAILY_SUMS = ", ".join(f"cast(sum({c}) as bigint) as {c}" for c in DAILY_SUM_COLUMNS)
# One `usage` row's figures, as the summary tables add them up, for groupings they lack.
_ROW_FIGURES = ", ".join(
    [f"{DAILY_KEY['model']} as model", *(f"{e} as {c}" for c, e in DAILY_FIGURES.items())]
)
# People per query of `timings` (a parameter each: SQLite allows 32,766).
_PEOPLE_PER_QUERY = 1000


class ReportQueries(ABC):
    """The report queries, over a backend's `_run` (bot/storage/base.py: `SqlStore`)."""

    dialect: Dialect

    @abstractmethod
    def _run(self, query: str, params: Sequence[Any] = ()) -> Result:
        """Execute one statement on its own (committed when it returns)."""

    def _run_alongside(self, query: str, params: Sequence[Any] = ()) -> Result:
        """Execute one read, on a connection that can run it while another statement runs on
        `_run`'s (bot.reports.build_report reads timings and sums at the same time). Only
        `_run`'s here; the SQLite backend has a second connection for it."""
        return self._run(query, params)

    def usage_sums(self, first_day: str, end_day: str, group_by: GroupBy) -> list[dict[str, Any]]:
        """Sums per (group key, model) for UTC days first_day <= day < end_day: the whole
        calendar months of the period from `usage_monthly` (not by day), the days around
        them from `usage_daily` (by channel, which it lacks: from `usage`)."""
        months, (before, after) = split_by_whole_months(first_day, end_day, group_by != "day")
        if group_by in DAILY_GROUP_COLUMNS:
            days = (
                f"select {DAILY_GROUP_COLUMNS[group_by]} as key, model, {_SUM_COLUMNS}"
                " from usage_daily where (day >= ? and day < ?) or (day >= ? and day < ?)"
            )
        else:  # a day's rows: "YYYY-MM-DD" <= created_at < the next "YYYY-MM-DD"
            days = (
                f"select {GROUP_COLUMNS[group_by]} as key, {_ROW_FIGURES} from usage where"
                " (created_at >= ? and created_at < ?) or (created_at >= ? and created_at < ?)"
            )
        parts = [days]
        if months:
            parts.append(
                f"select {GROUP_COLUMNS[group_by]} as key, model, {_SUM_COLUMNS}"
                " from usage_monthly where month >= ? and month < ?"
            )
        query = f"""
            select key, model, {_DAILY_SUMS} from ({" union all ".join(parts)}) as sums
            group by 1, 2
        """
        return self._run(query, [*before, *after, *(months or ())]).dicts()

    def timings(
        self, start: str, end: str, group_by: GroupBy, people: Sequence[str] | None = None
    ) -> dict[str, tuple[IntArray, IntArray]]:
        """Per group key, the latencies and times to first token (ms) of successful requests.

        `people`, for a grouping by person: the people to read (those with usage in the
        period). Each one's requests are then read from their own range of the index
        idx_usage_ok_by_user, so the query reads the period's rows only, however long the
        log is (without them, it scans every successful request ever made)."""
        joined = self.dialect.int_list
        # One string per group, parsed by numpy: far fewer Python objects than one per row.
        if group_by == "user" and people is not None:
            return self._person_timings(start, end, list(people))
        # `status || ''`: SQLite would otherwise read this through idx_usage_ok_by_user,
        # every successful request ever made and (by kind or model) each one's table row;
        # hidden from the planner, the period's range of idx_usage_period_timings holds all.
        query = f"""
            select {GROUP_COLUMNS[group_by]}, {joined.format("latency_ms")},
                {joined.format("ttft_ms")}
            from usage where created_at >= ? and created_at < ? and status || '' = 'ok'
            group by 1
        """
        return {
            str(group): (parse_ints(latencies), parse_ints(ttfts))
            for group, latencies, ttfts in self._run_alongside(query, [start, end]).rows
        }

    def _person_timings(
        self, start: str, end: str, people: list[str]
    ) -> dict[str, tuple[IntArray, IntArray]]:
        timings = {}
        for first in range(0, len(people), _PEOPLE_PER_QUERY):
            chunk = people[first : first + _PEOPLE_PER_QUERY]
            query = _person_timings_query(self.dialect.int_list, len(chunk))
            for person, latencies, ttfts in self._run_alongside(
                query, [*chunk, start, end, start, end]
            ).rows:
                if latencies is not None or ttfts is not None:
                    timings[str(person)] = (parse_ints(latencies), parse_ints(ttfts))
        return timings

    def refusals(self, start: str, end: str, group_by: GroupBy) -> list[tuple[str, str, int]]:
        """(group key, reason, count) of the requests refused in a period (status
        "refused": no model call, the reason in `error`)."""
        query = f"""
            select {GROUP_COLUMNS[group_by]}, coalesce(error, ''), count(*) from usage
            where status = 'refused' and created_at >= ? and created_at < ? group by 1, 2
        """
        rows = self._run(query, [start, end]).rows
        return [(str(key), str(reason), int(count)) for key, reason, count in rows]

    def daily_costs(
        self, first_day: str, end_day: str, series: GroupBy
    ) -> list[tuple[str, str, int]]:
        """(UTC day, series key, cost in nano-USD) for charts, first_day <= day < end_day
        (by channel, which `usage_daily` lacks, from `usage`)."""
        if series in DAILY_GROUP_COLUMNS:
            query = f"""
                select day, {DAILY_GROUP_COLUMNS[series]}, cast(sum(cost_nano_usd) as bigint)
                from usage_daily where day >= ? and day < ? group by 1, 2 order by 1, 2
            """
        else:
            query = f"""
                select {GROUP_COLUMNS["day"]}, {GROUP_COLUMNS[series]},
                    cast(sum(coalesce(cost_nano_usd, 0)) as bigint)
                from usage where created_at >= ? and created_at < ? group by 1, 2 order by 1, 2
            """
        rows = self._run(query, [first_day, end_day]).rows
        return [(day, key, int(cost)) for day, key, cost in rows]


@lru_cache(maxsize=8)
def _person_timings_query(int_list: str, people: int) -> str:
    """Each person's timings as two correlated subqueries, each a range of
    idx_usage_ok_by_user (status, user_id, created_at, latency_ms, ttft_ms)."""

    def of_person(column: str) -> str:
        return (
            f"(select {int_list.format(column)} from usage where status = 'ok'"
            " and usage.user_id = people.user_id and created_at >= ? and created_at < ?)"
        )

    values = ", ".join(["(?)"] * people)
    return (
        f"with people (user_id) as (values {values})\n"
        f"select user_id, {of_person('latency_ms')}, {of_person('ttft_ms')} from people"
    )
