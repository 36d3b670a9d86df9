"""The only module that touches the database (SQLite through sqlite-utils, WAL mode).

The `usage` table is a public schema: admins may open the file with sqlite-utils or
Datasette. It never holds prompt or draft text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlite_utils

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
        usage.create_index(["created_at"], if_not_exists=True)
        usage.create_index(["user_id", "created_at"], if_not_exists=True)

    def record_usage(self, record: UsageRecord) -> int:
        """Insert one row and return its id. Called before anything is posted to Slack."""
        row = asdict(record)
        row["created_at"] = record.created_at or datetime.now(UTC).isoformat()
        return cast(int, self.db.table("usage").insert(row).last_pk)

    def usage_rows(self, **where: Any) -> list[dict[str, Any]]:
        """Rows in insertion order, optionally filtered by column equality."""
        clause = " and ".join(f"[{column}] = ?" for column in where) or None
        return list(self.db.table("usage").rows_where(clause, list(where.values()), order_by="id"))

    def close(self) -> None:
        self.db.close()
