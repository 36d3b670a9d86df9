"""Every query Draftbot makes, written once for both databases (`bot.storage.Storage`).

The SQL here is what SQLite and PostgreSQL both accept, with `?` placeholders: sums are cast
to bigint (PostgreSQL's sum of bigint is numeric), flags are `case` expressions, upserts are
`on conflict`, new ids come from `returning id`. A backend (bot/storage/sqlite.py,
bot/storage/postgres.py) supplies only the connection: `_run` for one statement,
`_transaction` for several under its write lock, and its `Dialect` for the few tokens that
differ (bot/storage/dialects.py).
"""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager
from dataclasses import asdict, fields
from typing import Any

from bot.storage.channel_queries import ChannelQueries
from bot.storage.dialects import Run
from bot.storage.draft_versions import PURGE_VERSIONS, DraftVersionQueries
from bot.storage.events import DraftEventQueries, expire_unposted
from bot.storage.records import (
    USAGE_COLUMNS,
    UsageRecord,
    utc_now_iso,
)
from bot.storage.report_queries import ReportQueries

_USAGE_FIELDS = [f.name for f in fields(UsageRecord)]
_INSERT_USAGE = (
    f"insert into usage ({', '.join(_USAGE_FIELDS)}) "
    f"values ({', '.join('?' * len(_USAGE_FIELDS))}) returning id"
)
_SAME_USAGE_ROW = (
    "select id from usage where created_at = ? and user_id = ? and source = ? and status = ? "
    "and coalesce(request_id, '') = ?"
)
_SET_REPLAYED_ID = "update usage_replays set usage_id = ? where row_key = ?"
_USER_SPEND = """
    select cast(coalesce(sum(cost_nano_usd), 0) as bigint), count(*) from usage
    where user_id = ? and created_at >= ? and created_at < ?
        and coalesce(status, '') <> 'refused'
"""
_PROBE_KEY = "draftbot-probe:"
_BUDGET_OF = "select monthly_nano_usd from budgets where user_id = ?"
_ADMIN_CHANGE = """
    insert into admin_changes (changed_at, actor, setting, subject, old_value, new_value)
    values (?, ?, ?, ?, ?, ?)
"""


class _Probe(Exception):
    """Raised inside a transaction to roll it back on purpose."""


def quote(identifier: str) -> str:
    """A column name as SQL (standard double quotes, which both databases accept)."""
    return '"' + identifier.replace('"', '""') + '"'


class SqlStore(ReportQueries, DraftVersionQueries, ChannelQueries, DraftEventQueries):
    """`bot.storage.Storage` over any connection that runs the shared SQL (`_run`, declared
    with the report queries and the channel/access queries it inherits)."""

    @abstractmethod
    def _transaction(self, lock: str | None = None) -> AbstractContextManager[Run]:
        """Statements run through the yielded `Run` commit together, or not at all; the
        backend's write lock makes read-check-write atomic. `lock` names what must not be
        changed by others meanwhile (a user's budget); a backend may lock more."""

    @abstractmethod
    def close(self) -> None: ...

    def record_usage(self, record: UsageRecord) -> int:
        """Insert one row and return its id (the database's triggers add it to `usage_daily`).

        Called before anything is posted to Slack.
        """
        row = asdict(record)
        row["created_at"] = record.created_at or utc_now_iso()
        return int(self._run(_INSERT_USAGE, [row[name] for name in _USAGE_FIELDS]).one()[0])

    def record_usage_once(
        self, row_key: str, record: UsageRecord, maybe_written: bool = False
    ) -> int | None:
        """Write a journalled row unless its key was written before; the new id, or None.

        `maybe_written`: the first attempt's fate is unknown (a connection lost during the
        INSERT), so a row with the same time, person, source, status and request id counts
        as this one (times have microseconds: two calls never share one)."""
        row = asdict(record)
        row["created_at"] = record.created_at or utc_now_iso()
        with self._transaction() as run:
            claimed = run(
                "insert into usage_replays (row_key, usage_id, replayed_at) values (?, 0, ?) "
                "on conflict do nothing",
                [row_key, utc_now_iso()],
            )
            if claimed.rowcount != 1:
                return None
            same = [row[c] for c in ("created_at", "user_id", "source", "status")]
            written = (
                run(_SAME_USAGE_ROW, [*same, row["request_id"] or ""]).rows if maybe_written else []
            )
            if written:
                run(
                    "update usage_replays set usage_id = ? where row_key = ?",
                    [written[0][0], row_key],
                )
                return None
            usage_id = int(run(_INSERT_USAGE, [row[name] for name in _USAGE_FIELDS]).one()[0])
            run("update usage_replays set usage_id = ? where row_key = ?", [usage_id, row_key])
        return usage_id

    def usage_rows(self, **where: Any) -> list[dict[str, Any]]:
        """Rows in insertion order, optionally filtered by column equality."""
        unknown = set(where) - set(USAGE_COLUMNS)
        if unknown:
            raise ValueError(f"usage has no column {', '.join(sorted(unknown))}")
        clause = " and ".join(f"{quote(column)} = ?" for column in where)
        query = f"select * from usage {'where ' + clause if where else ''} order by id"
        return self._run(query, list(where.values())).dicts()

    # Reports: the queries are in bot/storage/report_queries.py

    def has_usage(self) -> bool:
        """Has any usage row ever been recorded here?"""
        return bool(self._run("select exists (select 1 from usage)").one()[0])

    def user_spend_nano_usd(self, user_id: str, start: str, end: str) -> tuple[int, int]:
        """(cost in nano-USD, number of requests) of one user's usage in a period."""
        cost, requests = self._run(_USER_SPEND, [user_id, start, end]).one()
        return int(cost), int(requests)

    # People's names, cached from Slack's users.info

    def save_person(self, user_id: str, display_name: str, real_name: str) -> None:
        self._run(
            """
            insert into people (user_id, display_name, real_name, updated_at)
            values (?, ?, ?, ?)
            on conflict (user_id) do update set display_name = excluded.display_name,
                real_name = excluded.real_name, updated_at = excluded.updated_at
            """,
            [user_id, display_name, real_name, utc_now_iso()],
        )

    def people(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not user_ids:
            return {}
        marks = ", ".join("?" * len(user_ids))
        rows = self._run(f"select * from people where user_id in ({marks})", user_ids).dicts()
        return {row["user_id"]: row for row in rows}

    # Budgets

    def set_budget(self, user_id: str, monthly_nano_usd: int, set_by: str) -> None:
        """Set a budget and record the change in `admin_changes`, in one transaction."""
        now = utc_now_iso()
        with self._transaction(lock=user_id) as run:
            old = run(_BUDGET_OF, [user_id]).rows
            run(
                """
                insert into budgets (user_id, monthly_nano_usd, set_by, set_at)
                values (?, ?, ?, ?)
                on conflict (user_id) do update set monthly_nano_usd = excluded.monthly_nano_usd,
                    set_by = excluded.set_by, set_at = excluded.set_at
                """,
                [user_id, monthly_nano_usd, set_by, now],
            )
            old_value = str(old[0][0]) if old else None
            run(_ADMIN_CHANGE, [now, set_by, "budget", user_id, old_value, str(monthly_nano_usd)])

    def remove_budget(self, user_id: str, removed_by: str = "") -> bool:
        """Remove a person's own budget; a removal is recorded in `admin_changes`."""
        with self._transaction(lock=user_id) as run:
            old = run(_BUDGET_OF, [user_id]).rows
            if not old:
                return False
            run("delete from budgets where user_id = ?", [user_id])
            actor = removed_by or "unknown"
            run(_ADMIN_CHANGE, [utc_now_iso(), actor, "budget", user_id, str(old[0][0]), None])
        return True

    def admin_changes(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest changes admins made, newest first."""
        query = "select * from admin_changes order by changed_at desc, id desc limit ?"
        return self._run(query, [limit]).dicts()

    def budget_overrides(self) -> list[dict[str, Any]]:
        return self._run("select * from budgets order by user_id").dicts()

    def budget_override(self, user_id: str) -> int | None:
        rows = self._run("select monthly_nano_usd from budgets where user_id = ?", [user_id]).rows
        return int(rows[0][0]) if rows else None

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
        """Atomically, across every process sharing the database: if spent + in-flight
        reservations + `nano_usd` fits in the limit, add a reservation. Returns
        (reservation id or None when it does not fit, spent, reserved by other requests in
        flight). Reservations older than `stale_before` (left by a crashed process) are
        ignored."""
        with self._transaction(lock=user_id) as run:
            spent = int(run(_USER_SPEND, [user_id, month_start, month_end]).one()[0])
            (reserved,) = run(
                "select cast(coalesce(sum(nano_usd), 0) as bigint) from reservations "
                "where user_id = ? and created_at >= ?",
                [user_id, stale_before],
            ).one()
            if spent + reserved + nano_usd > limit_nano_usd:
                return None, spent, int(reserved)
            (reservation_id,) = run(
                "insert into reservations (user_id, nano_usd, created_at) "
                "values (?, ?, ?) returning id",
                [user_id, nano_usd, now],
            ).one()
            return int(reservation_id), spent, int(reserved)

    def release(self, reservation_id: int) -> None:
        self._run("delete from reservations where id = ?", [reservation_id])

    def claim_alert(self, user_id: str, month: str, audience: str) -> bool:
        """True the first time only, per user, month and audience ("user" or "admins")."""
        claimed = self._run(
            "insert into budget_alerts (user_id, month, audience, sent_at) "
            "values (?, ?, ?, ?) on conflict do nothing",
            [user_id, month, audience, utc_now_iso()],
        )
        return claimed.rowcount == 1

    # Drafts (previews people can refine)

    def save_draft(self, row: dict[str, Any]) -> None:
        now = utc_now_iso()
        values = {"status": "ready", "created_at": now, "updated_at": now, **row}
        columns = ", ".join(map(quote, values))
        marks = ", ".join("?" * len(values))
        self._run(f"insert into drafts ({columns}) values ({marks})", list(values.values()))

    def get_draft(self, draft_id: str) -> dict[str, Any] | None:
        rows = self._run("select * from drafts where id = ?", [draft_id]).dicts()
        return rows[0] if rows else None

    def claim_draft(self, draft_id: str, from_status: str = "ready", to: str = "working") -> bool:
        """Move a draft between states atomically: False if someone else got there first."""
        claimed = self._run(
            "update drafts set status = ?, updated_at = ? where id = ? and status = ?",
            [to, utc_now_iso(), draft_id, from_status],
        )
        return claimed.rowcount == 1

    def update_draft(self, draft_id: str, **changes: Any) -> None:
        values = {**changes, "updated_at": utc_now_iso()}
        assignments = ", ".join(f"{quote(column)} = ?" for column in values)
        query = f"update drafts set {assignments} where id = ?"
        if self._run(query, [*values.values(), draft_id]).rowcount == 0:
            raise LookupError(f"no draft with id {draft_id!r}")  # callers never expect one

    def purge_drafts(self, older_than: str) -> int:
        with self._transaction() as run:
            expire_unposted(run, older_than)  # abandoned: never posted nor discarded
            run(PURGE_VERSIONS, [older_than])  # their versions first: they hold text too
            purged = run("delete from drafts where updated_at < ?", [older_than]).rowcount
            run("delete from handled_events where handled_at < ?", [older_than])
        return purged

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen: makes retried Slack events harmless."""
        inserted = self._run(
            "insert into handled_events (key, handled_at) values (?, ?) on conflict do nothing",
            [key, utc_now_iso()],
        )
        return inserted.rowcount == 1

    def check_writable(self) -> int:
        """Prove the database takes writes, leaving no trace; return the usage row count.

        A write to one of Draftbot's own tables, rolled back: fails on a read-only file or
        replica, or without the INSERT privilege."""
        try:
            with self._transaction() as run:
                now = utc_now_iso()
                run(
                    "insert into handled_events (key, handled_at) values (?, ?)",
                    [_PROBE_KEY + now, now],
                )
                raise _Probe
        except _Probe:
            pass
        return int(self._run("select count(*) from usage").one()[0])
