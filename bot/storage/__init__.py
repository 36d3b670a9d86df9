"""What the rest of Draftbot needs from a database, and which backend DATABASE_URL picks.

`sqlite:///…` (the default: one file, zero set-up) uses `bot.storage.sqlite.Store`;
`postgresql://…` or `postgres://…` (several instances sharing one database) uses
`bot.storage.postgres.PostgresStore`. Both run the same queries (bot/storage/base.py) on
the same schema (bot/storage/schema.py), so they give the same numbers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from bot.errors import SetupError
from bot.storage.channel_queries import Changes, Describe
from bot.storage.dialects import ConnectionLost, StorageError, StorageTimeout
from bot.storage.records import GroupBy, IntArray, UsageRecord, utc_now_iso
from bot.storage.sqlite import Store

__all__ = [
    "POSTGRES_SCHEMES",
    "ConnectionLost",
    "GroupBy",
    "IntArray",
    "Storage",
    "StorageError",
    "StorageTimeout",
    "StorageUnavailable",
    "Store",
    "UsageRecord",
    "open_store",
    "sqlite_path",
    "utc_now_iso",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Storage(Protocol):
    def record_usage(self, record: UsageRecord) -> int: ...
    def record_usage_once(
        self, row_key: str, record: UsageRecord, maybe_written: bool = False
    ) -> int | None: ...
    def usage_rows(self, **where: Any) -> list[dict[str, Any]]: ...
    def usage_sums(
        self, first_day: str, end_day: str, group_by: GroupBy
    ) -> list[dict[str, Any]]: ...
    def timings(
        self, start: str, end: str, group_by: GroupBy, people: Sequence[str] | None = None
    ) -> dict[str, tuple[IntArray, IntArray]]: ...
    def refusals(self, start: str, end: str, group_by: GroupBy) -> list[tuple[str, str, int]]: ...
    def daily_costs(
        self, first_day: str, end_day: str, series: GroupBy
    ) -> list[tuple[str, str, int]]: ...
    def user_spend_nano_usd(self, user_id: str, start: str, end: str) -> tuple[int, int]: ...
    def has_usage(self) -> bool: ...
    def save_person(self, user_id: str, display_name: str, real_name: str) -> None: ...
    def people(self, user_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    def set_budget(self, user_id: str, monthly_nano_usd: int, set_by: str) -> None: ...
    def remove_budget(self, user_id: str, removed_by: str = "") -> bool: ...
    def admin_changes(self, limit: int = 50) -> list[dict[str, Any]]: ...
    def budget_overrides(self) -> list[dict[str, Any]]: ...
    def budget_override(self, user_id: str) -> int | None: ...
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
    ) -> tuple[int | None, int, int]: ...
    def release(self, reservation_id: int) -> None: ...
    def claim_alert(self, user_id: str, month: str, audience: str) -> bool: ...
    def save_draft(self, row: dict[str, Any]) -> None: ...
    def get_draft(self, draft_id: str) -> dict[str, Any] | None: ...
    def claim_draft(
        self, draft_id: str, from_status: str = "ready", to: str = "working"
    ) -> bool: ...
    def update_draft(self, draft_id: str, **changes: Any) -> None: ...
    def add_draft_version(
        self,
        draft_id: str,
        text: str,
        made_by: str,
        *,
        stop_reason: str,
        keep: int,
        restored_from: int | None = None,
        **changes: Any,
    ) -> list[dict[str, Any]]: ...
    def draft_version_tags(self, draft_id: str) -> list[dict[str, Any]]: ...
    def draft_version(self, draft_id: str, version: int) -> dict[str, Any] | None: ...
    def purge_drafts(self, older_than: str) -> int: ...
    def record_draft_event(self, row: dict[str, Any]) -> None: ...
    def draft_events(self, **where: Any) -> list[dict[str, Any]]: ...
    def recent_drafts(self, user_id: str, limit: int = 10) -> list[dict[str, Any]]: ...
    def outcome_sums(self, start: str, end: str, group_by: GroupBy) -> list[tuple[Any, ...]]: ...
    def add_feedback_reason(self, draft_id: str, user_id: str, reason: str) -> bool: ...
    def first_time(self, key: str) -> bool: ...
    def check_writable(self) -> int: ...
    def channel_setting(self, channel_id: str) -> dict[str, Any] | None: ...
    def channel_settings(self) -> list[dict[str, Any]]: ...
    def put_channel_setting(
        self, channel_id: str, row: dict[str, Any] | None, actor: str, describe: Describe
    ) -> Changes: ...
    def access_overrides(self) -> dict[str, dict[str, Any]]: ...
    def put_access_overrides(
        self, values: dict[str, str | None], actor: str, settings: dict[str, str]
    ) -> Changes: ...
    def close(self) -> None: ...


class StorageUnavailable(SetupError):
    """The database cannot be opened; the message says where and what to check (no password)."""


def open_store(database_url: str) -> Storage:
    try:
        if database_url.startswith(POSTGRES_SCHEMES):
            from bot.storage.postgres import PostgresStore  # psycopg: only for PostgreSQL

            return PostgresStore(database_url)
        return Store(sqlite_path(database_url))
    except (OSError, sqlite3.Error) as error:
        raise StorageUnavailable(
            f"Cannot open the SQLite database {sqlite_path(database_url)} ({error}). Check the "
            "path in DATABASE_URL: its folder must exist or be creatable, and be writable."
        ) from error
    except Exception as error:  # psycopg's connection and authentication errors, time-outs
        if type(error).__module__.split(".")[0] != "psycopg" and not isinstance(
            error, StorageError
        ):
            raise
        raise StorageUnavailable(
            f"Cannot connect to the PostgreSQL {database_location(database_url)}: "
            f"{connection_problem(error, database_url)}. Check DATABASE_URL "
            "(host, port, database, user, password) and that the server accepts connections."
        ) from error


def connection_problem(error: BaseException, database_url: str) -> str:
    """What libpq said went wrong ("connection refused", "password authentication failed
    for user …"), without the password; the error's class name when it said nothing."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    cause = first_line.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
    cause = " ".join(cause.split())
    password = urlsplit(database_url).password
    if password:
        cause = cause.replace(password, "[hidden]")
    if not cause:
        return type(error).__name__
    return cause[0].lower() + cause[1:]


def database_location(database_url: str) -> str:
    """Where DATABASE_URL points, for people (never the password): a file or a server."""
    if database_url.startswith(POSTGRES_SCHEMES):
        where = urlsplit(database_url)
        return f"database {where.path.lstrip('/')} on {where.hostname}:{where.port or 5432}"
    return str(Path(sqlite_path(database_url)).resolve())


def sqlite_path(database_url: str) -> str:
    """`sqlite:///draftbot.db` → `draftbot.db`; `sqlite:////var/db/x.db` → `/var/db/x.db`."""
    return database_url.removeprefix("sqlite:///")
