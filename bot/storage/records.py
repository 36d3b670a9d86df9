"""The values that cross the storage boundary: a usage row, report groupings, timing arrays.

The `usage` table is a public schema: admins may open it with sqlite-utils, Datasette or
psql. It never holds prompt or draft text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# numpy is loaded by `parse_ints`, when there are timings to read, so that commands that
# never read any (`draftbot --help`, `budget`, `kinds`) start without it.
IntArray: TypeAlias = "npt.NDArray[np.int64]"

GroupBy = Literal["user", "kind", "day", "model", "channel"]

# The public columns of `usage`, in table order (see migration 1 in bot/storage/schema.py).
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
    "status": str,  # ok / error / refused (not allowed: no model call, nothing spent)
    "error": str,  # error category and API error type, or why refused; never draft text
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


def parse_ints(joined: str | None) -> IntArray:
    """Parse "12,34,56" in C: a month of requests is hundreds of thousands of values."""
    import numpy as np

    if not joined:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def utc_now_iso() -> str:
    # Always with microseconds, so timestamps compare correctly as text.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def split_by_whole_months(
    first_day: str, end_day: str, use_months: bool = True
) -> tuple[tuple[str, str] | None, tuple[tuple[str, str], tuple[str, str]]]:
    """The UTC days first_day <= day < end_day (ISO dates) as the whole calendar months
    among them, ("YYYY-MM" first, "YYYY-MM" end) or None, and the two ranges of days before
    and after those months (the second empty, ("", ""), when there are no whole months or
    `use_months` is False)."""
    first_month = first_day[:7] if first_day.endswith("-01") else _next_month(first_day)
    end_month = end_day[:7]
    if not use_months or first_month >= end_month:
        return None, ((first_day, end_day), ("", ""))
    before, after = (first_day, f"{first_month}-01"), (f"{end_month}-01", end_day)
    return (first_month, end_month), (before, after)


def _next_month(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"
