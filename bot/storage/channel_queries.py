"""The queries of per-channel presets (`channel_settings`) and of run-time access rules,
written once for both databases like those in bot/storage/base.py (kept apart to keep
that module readable). Every change is written with its `admin_changes` rows in one
transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from bot.storage.dialects import Result, Run
from bot.storage.records import utc_now_iso

# (setting, old value, new value) of each audited change
Changes = list[tuple[str, str | None, str | None]]
Describe = Callable[[dict[str, Any] | None, dict[str, Any] | None], Changes]

ADMIN_CHANGE = """
    insert into admin_changes (changed_at, actor, setting, subject, old_value, new_value)
    values (?, ?, ?, ?, ?, ?)
"""
_CHANNEL_COLUMNS = (
    "channel_id", "channel_name", "instructions", "default_kind", "model", "tone", "enabled",
    "updated_by", "updated_at",
)  # fmt: skip


class ChannelQueries(ABC):
    @abstractmethod
    def _run(self, query: str, params: Sequence[Any] = ()) -> Result: ...

    @abstractmethod
    def _transaction(self, lock: str | None = None) -> AbstractContextManager[Run]: ...

    def channel_setting(self, channel_id: str) -> dict[str, Any] | None:
        rows = self._run("select * from channel_settings where channel_id = ?", [channel_id])
        found = rows.dicts()
        return found[0] if found else None

    def channel_settings(self) -> list[dict[str, Any]]:
        return self._run("select * from channel_settings order by channel_id").dicts()

    def put_channel_setting(
        self, channel_id: str, row: dict[str, Any] | None, actor: str, describe: Describe
    ) -> Changes:
        """Replace a channel's preset with `row` (None: remove it), recording each change
        `describe(old, new)` names in `admin_changes`, all in one transaction."""
        now = utc_now_iso()
        with self._transaction(lock=f"channel:{channel_id}") as run:
            found = run("select * from channel_settings where channel_id = ?", [channel_id])
            old = found.dicts()[0] if found.rows else None
            if row is None:
                run("delete from channel_settings where channel_id = ?", [channel_id])
            else:
                values = [row[column] for column in _CHANNEL_COLUMNS]
                updates = ", ".join(f"{c} = excluded.{c}" for c in _CHANNEL_COLUMNS[1:])
                run(
                    f"insert into channel_settings ({', '.join(_CHANNEL_COLUMNS)}) "
                    f"values ({', '.join('?' * len(_CHANNEL_COLUMNS))}) "
                    f"on conflict (channel_id) do update set {updates}",
                    values,
                )
            changes = describe(old, row)
            for setting, before, after in changes:
                run(ADMIN_CHANGE, [now, actor, setting, channel_id, before, after])
        return changes

    def access_overrides(self) -> dict[str, dict[str, Any]]:
        """The access rules admins changed at run time, by rule."""
        rows = self._run("select * from access_overrides order by rule").dicts()
        return {row["rule"]: row for row in rows}

    def put_access_overrides(
        self, values: dict[str, str | None], actor: str, settings: dict[str, str]
    ) -> Changes:
        """Set each rule in `values` to its value (None: back to the setting's), recording
        each change in `admin_changes` (`settings`: the settings' values, shown as the old
        or new value when there is no override), all in one transaction."""
        now = utc_now_iso()
        changes: Changes = []
        with self._transaction(lock="access_overrides") as run:
            found = run("select rule, value from access_overrides").rows
            old = {str(rule): str(value) for rule, value in found}
            for rule, value in values.items():
                before = old.get(rule)
                if value == before:
                    continue
                if value is None:
                    run("delete from access_overrides where rule = ?", [rule])
                else:
                    run(
                        "insert into access_overrides (rule, value, set_by, set_at) "
                        "values (?, ?, ?, ?) on conflict (rule) do update set "
                        "value = excluded.value, set_by = excluded.set_by, "
                        "set_at = excluded.set_at",
                        [rule, value, actor, now],
                    )
                setting = f"access {rule}"
                shown_before = before if before is not None else f"setting: {settings[rule] or '-'}"
                shown_after = value if value is not None else f"setting: {settings[rule] or '-'}"
                changes.append((setting, shown_before or "-", shown_after or "-"))
                run(ADMIN_CHANGE, [now, actor, setting, "access", changes[-1][1], changes[-1][2]])
        return changes
