"""The only module that touches the database (SQLite through sqlite-utils, WAL mode).

The `usage` table is a public schema: admins may open the file with sqlite-utils or
Datasette. It never holds prompt or draft text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import sqlite_utils

IntArray = npt.NDArray[np.int64]

GroupBy = Literal["user", "kind", "day", "model"]
# SQL for each report grouping; `created_at` is UTC ISO-8601, so its first 10 characters
# are the UTC day.
GROUP_COLUMNS: dict[str, str] = {
    "user": "user_id",
    "kind": "kind",
    "model": "model",
    "day": "substr(created_at, 1, 10)",
}
# The same groupings in `usage_daily`, which has a `day` column.
DAILY_GROUP_COLUMNS: dict[str, str] = {**GROUP_COLUMNS, "day": "day"}

# `usage_daily` keeps per-day sums of `usage` (one row per day, user, kind and model) so
# that reports over a month read thousands of rows instead of hundreds of thousands.
# It is derived data: `record_usage` updates it in the same transaction as the row.
DAILY_SUM_COLUMNS = (
    "requests",
    "failed",
    "truncated",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "cost_nano_usd",
    "unpriced_requests",
)
_DAILY_VALUES = """
    substr(created_at, 1, 10), user_id, coalesce(kind, ''), coalesce(model, ''),
    {count}, {agg}(status != 'ok'),
    {agg}(coalesce(stop_reason in ('max_tokens', 'model_context_window_exceeded'), 0)),
    {agg}(input_tokens), {agg}(output_tokens),
    {agg}(cache_creation_input_tokens), {agg}(cache_read_input_tokens),
    {agg}(cache_creation_5m_input_tokens), {agg}(cache_creation_1h_input_tokens),
    {agg}(coalesce(cost_nano_usd, 0)),
    {agg}(cost_nano_usd is null and (input_tokens + output_tokens
        + cache_creation_input_tokens + cache_read_input_tokens) > 0)
"""
_DAILY_INSERT = (
    "insert into usage_daily (day, user_id, kind, model, "
    + ", ".join(DAILY_SUM_COLUMNS)
    + ") select {values} from usage where {where} {group}"
    + " on conflict (day, user_id, kind, model) do update set "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in DAILY_SUM_COLUMNS)
)

USAGE_COLUMNS: dict[str, type] = {
    "id": int,
    "created_at": str,  # UTC ISO-8601, e.g. 2026-11-25T09:30:00.123456+00:00
    "team_id": str,
    "user_id": str,
    "channel_id": str,
    "source": str,  # slash, cli, …
    "kind": str,
    "model": str,
    "input_tokens": int,  # tokens after the last cache breakpoint, as the API reports
    "output_tokens": int,
    "cache_creation_input_tokens": int,
    "cache_read_input_tokens": int,
    "cache_creation_5m_input_tokens": int,
    "cache_creation_1h_input_tokens": int,
    "cost_usd": float,  # for reading; NULL when the model has no price
    "cost_nano_usd": int,  # exact cost in 1e-9 USD, for sums
    "stop_reason": str,
    "status": str,  # ok / error
    "error": str,  # error category and API error type, never text from the draft
    "latency_ms": int,
    "ttft_ms": int,
    "request_id": str,  # Anthropic's request-id, to match their logs
    "attempts": int,
}


@dataclass(frozen=True)
class UsageRecord:
    user_id: str
    source: str
    kind: str
    model: str
    status: str
    team_id: str | None = None
    channel_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_5m_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0
    cost_usd: float | None = None
    cost_nano_usd: int | None = None
    stop_reason: str | None = None
    error: str | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    request_id: str | None = None
    attempts: int = 1
    created_at: str = ""


class Store:
    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection, used only from the event loop's thread.
        connection = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db = sqlite_utils.Database(connection)
        if str(path) != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._create_schema()

    def _create_schema(self) -> None:
        usage = self.db.table("usage")
        usage.create(USAGE_COLUMNS, pk="id", not_null={"created_at", "user_id"}, if_not_exists=True)
        # Covers the report's timing query (percentiles), which reads every row of a period.
        usage.create_index(
            ["created_at", "status", "user_id", "kind", "model", "latency_ms", "ttft_ms"],
            index_name="idx_usage_period_timings",
            if_not_exists=True,
        )
        usage.create_index(["user_id", "created_at"], if_not_exists=True)  # budget checks
        if not self.db.table("usage_daily").exists():
            self.db.table("usage_daily").create(
                {"day": str, "user_id": str, "kind": str, "model": str}
                | dict.fromkeys(DAILY_SUM_COLUMNS, int),
                pk=("day", "user_id", "kind", "model"),
            )
            # A database from before the table existed: derive it from the usage log.
            self.db.execute(
                _DAILY_INSERT.format(
                    values=_DAILY_VALUES.format(count="count(*)", agg="sum"),
                    where="1",
                    group="group by 1, 2, 3, 4",
                )
            )
        self.db.table("people").create(
            {"user_id": str, "display_name": str, "real_name": str, "updated_at": str},
            pk="user_id",
            if_not_exists=True,
        )
        self.db.table("budgets").create(
            {"user_id": str, "monthly_nano_usd": int, "set_by": str, "set_at": str},
            pk="user_id",
            if_not_exists=True,
        )
        # Worst-case cost of drafts in flight, so parallel requests cannot overspend.
        self.db.table("reservations").create(
            {"id": int, "user_id": str, "nano_usd": int, "created_at": str},
            pk="id",
            if_not_exists=True,
        )
        # Draft previews and their conversation, so buttons can refine them. Holds draft
        # text (unlike `usage`), so rows are purged after DRAFTBOT_DRAFT_RETENTION_DAYS.
        self.db.table("drafts").create(
            {
                "id": str,
                "user_id": str,
                "team_id": str,
                "channel_id": str,
                "kind": str,
                "request": str,
                "text": str,
                "stop_reason": str,
                "status": str,  # ready, working, posted, discarded
                "response_url": str,
                "created_at": str,
                "updated_at": str,
            },
            pk="id",
            if_not_exists=True,
        )
        self.db.table("drafts").create_index(["updated_at"], if_not_exists=True)
        # Slack retries event deliveries: remember which messages were already answered.
        self.db.table("handled_events").create(
            {"key": str, "handled_at": str}, pk="key", if_not_exists=True
        )
        self.db.table("budget_alerts").create(
            {"user_id": str, "month": str, "audience": str, "sent_at": str},
            pk=("user_id", "month", "audience"),
            if_not_exists=True,
        )

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE takes the write lock up front, so read-check-write is atomic."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def record_usage(self, record: UsageRecord) -> int:
        """Insert one row (and add it to `usage_daily`); return its id.

        Called before anything is posted to Slack.
        """
        row = asdict(record)
        row["created_at"] = record.created_at or utc_now_iso()
        with self._write_transaction():
            row_id = cast(int, self.db.table("usage").insert(row).last_pk)
            self.db.execute(
                _DAILY_INSERT.format(
                    values=_DAILY_VALUES.format(count="1", agg=""), where="id = ?", group=""
                ),
                [row_id],
            )
        return row_id

    # Reports

    def usage_sums(self, first_day: str, end_day: str, group_by: GroupBy) -> list[dict[str, Any]]:
        """Sums per (group key, model) for UTC days first_day <= day < end_day."""
        key = DAILY_GROUP_COLUMNS[group_by]
        sums = ", ".join(f"sum({column}) as {column}" for column in DAILY_SUM_COLUMNS)
        sql = f"""
            select {key} as key, model, {sums} from usage_daily
            where day >= ? and day < ? group by 1, 2
        """
        return list(self.db.query(sql, [first_day, end_day]))

    def timings(
        self, start: str, end: str, group_by: GroupBy
    ) -> dict[str, tuple[IntArray, IntArray]]:
        """Per group key, the latencies and times to first token (ms) of successful requests."""
        key = GROUP_COLUMNS[group_by]
        # group_concat hands back one string per group: far fewer Python objects than rows.
        sql = f"""
            select {key}, group_concat(latency_ms), group_concat(ttft_ms) from usage
            where created_at >= ? and created_at < ? and status = 'ok' group by 1
        """
        return {
            str(group): (_ints(latencies), _ints(ttfts))
            for group, latencies, ttfts in self.db.execute(sql, [start, end])
        }

    def daily_costs(
        self, first_day: str, end_day: str, series: GroupBy
    ) -> list[tuple[str, str, int]]:
        """(UTC day, series key, cost in nano-USD) for charts, first_day <= day < end_day."""
        key = DAILY_GROUP_COLUMNS[series]
        sql = f"""
            select day, {key}, sum(cost_nano_usd) from usage_daily
            where day >= ? and day < ? group by 1, 2 order by 1, 2
        """
        return [
            (day, key, int(cost)) for day, key, cost in self.db.execute(sql, [first_day, end_day])
        ]

    def user_spend_nano_usd(self, user_id: str, start: str, end: str) -> tuple[int, int]:
        """(cost in nano-USD, number of requests) of one user's usage in a period."""
        sql = """
            select coalesce(sum(cost_nano_usd), 0), count(*) from usage
            where user_id = ? and created_at >= ? and created_at < ?
        """
        cost, requests = self.db.execute(sql, [user_id, start, end]).fetchone()
        return int(cost), int(requests)

    # People's names, cached from Slack's users.info

    def save_person(self, user_id: str, display_name: str, real_name: str) -> None:
        self.db.table("people").upsert(
            {
                "user_id": user_id,
                "display_name": display_name,
                "real_name": real_name,
                "updated_at": utc_now_iso(),
            },
            pk="user_id",
        )

    def people(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = self.db.query(f"select * from people where user_id in ({marks})", user_ids)
        return {row["user_id"]: row for row in rows}

    # Budgets

    def set_budget(self, user_id: str, monthly_nano_usd: int, set_by: str) -> None:
        self.db.table("budgets").upsert(
            {
                "user_id": user_id,
                "monthly_nano_usd": monthly_nano_usd,
                "set_by": set_by,
                "set_at": utc_now_iso(),
            },
            pk="user_id",
        )

    def remove_budget(self, user_id: str) -> bool:
        cursor = self.db.execute("delete from budgets where user_id = ?", [user_id])
        return cursor.rowcount > 0

    def budget_overrides(self) -> list[dict[str, Any]]:
        return list(self.db.table("budgets").rows_where(order_by="user_id"))

    def budget_override(self, user_id: str) -> int | None:
        row = self.db.execute(
            "select monthly_nano_usd from budgets where user_id = ?", [user_id]
        ).fetchone()
        return None if row is None else int(row[0])

    def reserve(
        self,
        user_id: str,
        nano_usd: int,
        *,
        limit_nano_usd: int,
        month_start: str,
        month_end: str,
        now: str,
        stale_before: str,
    ) -> tuple[int | None, int, int]:
        """Atomically: if spent + in-flight reservations + `nano_usd` fits in the limit,
        add a reservation. Returns (reservation id or None when it does not fit, spent,
        reserved by other requests in flight). Reservations older than `stale_before`
        (left by a crashed process) are ignored."""
        with self._write_transaction():
            spent, _ = self.user_spend_nano_usd(user_id, month_start, month_end)
            (reserved,) = self.db.execute(
                "select coalesce(sum(nano_usd), 0) from reservations "
                "where user_id = ? and created_at >= ?",
                [user_id, stale_before],
            ).fetchone()
            if spent + reserved + nano_usd > limit_nano_usd:
                return None, spent, int(reserved)
            cursor = self.db.execute(
                "insert into reservations (user_id, nano_usd, created_at) values (?, ?, ?)",
                [user_id, nano_usd, now],
            )
            return cursor.lastrowid, spent, int(reserved)

    def release(self, reservation_id: int) -> None:
        self.db.execute("delete from reservations where id = ?", [reservation_id])

    def claim_alert(self, user_id: str, month: str, audience: str) -> bool:
        """True the first time only, per user, month and audience ("user" or "admins")."""
        cursor = self.db.execute(
            "insert or ignore into budget_alerts (user_id, month, audience, sent_at) "
            "values (?, ?, ?, ?)",
            [user_id, month, audience, utc_now_iso()],
        )
        return cursor.rowcount == 1

    def usage_rows(self, **where: Any) -> list[dict[str, Any]]:
        """Rows in insertion order, optionally filtered by column equality."""
        clause = " and ".join(f"[{column}] = ?" for column in where) or None
        return list(self.db.table("usage").rows_where(clause, list(where.values()), order_by="id"))

    # Drafts (previews people can refine)

    def save_draft(self, row: dict[str, Any]) -> None:
        now = utc_now_iso()
        self.db.table("drafts").insert(
            {"status": "ready", "created_at": now, "updated_at": now, **row}, pk="id"
        )

    def get_draft(self, draft_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("select * from drafts where id = ?", [draft_id]))
        return rows[0] if rows else None

    def claim_draft(self, draft_id: str, from_status: str = "ready", to: str = "working") -> bool:
        """Move a draft between states atomically: False if someone else got there first."""
        cursor = self.db.execute(
            "update drafts set status = ?, updated_at = ? where id = ? and status = ?",
            [to, utc_now_iso(), draft_id, from_status],
        )
        return cursor.rowcount == 1

    def update_draft(self, draft_id: str, **changes: Any) -> None:
        self.db.table("drafts").update(draft_id, {**changes, "updated_at": utc_now_iso()})

    def purge_drafts(self, older_than: str) -> int:
        cursor = self.db.execute("delete from drafts where updated_at < ?", [older_than])
        self.db.execute("delete from handled_events where handled_at < ?", [older_than])
        return cursor.rowcount

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen: makes retried Slack events harmless."""
        cursor = self.db.execute(
            "insert or ignore into handled_events (key, handled_at) values (?, ?)",
            [key, utc_now_iso()],
        )
        return cursor.rowcount == 1

    def check_writable(self) -> int:
        """Prove the database takes writes, leaving no trace; return the usage row count."""
        self.db.execute("BEGIN IMMEDIATE")  # takes the write lock
        try:
            self.db.execute("create table draftbot_probe (x integer)")
            self.db.execute("insert into draftbot_probe values (1)")
        finally:
            self.db.execute("ROLLBACK")
        return int(self.db.execute("select count(*) from usage").fetchone()[0])

    def close(self) -> None:
        self.db.close()


def _ints(joined: str | None) -> IntArray:
    """Parse "12,34,56" in C: a month of requests is hundreds of thousands of values."""
    if not joined:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def utc_now_iso() -> str:
    # Always with microseconds, so timestamps compare correctly as text.
    return datetime.now(UTC).isoformat(timespec="microseconds")
