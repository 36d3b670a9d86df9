"""People's names beside their Slack ids in Datasette's table pages.

The `usage`, `usage_daily`, `budgets`, `reservations` and `budget_alerts` tables hold Slack
member ids (SQLite cannot add a foreign key to `people` to an existing table without
rebuilding it), so a `user_id` or `set_by` cell shows the name cached in `people`, then the
id. Canned queries join `people` themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pluggy
from markupsafe import Markup, escape

hookimpl = pluggy.HookimplMarker("datasette")

NAMED_COLUMNS = frozenset({"user_id", "set_by"})
NAME = (
    "select coalesce(nullif(display_name, ''), nullif(real_name, '')) from people where user_id = ?"
)


@hookimpl
def render_cell(
    value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Callable[[], Awaitable[Markup | None]] | None:
    if column not in NAMED_COLUMNS or table in (None, "people") or not isinstance(value, str):
        return None

    async def named() -> Markup | None:
        try:
            rows = (await datasette.get_database(database).execute(NAME, [value])).rows
        except Exception:  # no people table, a busy file: the id alone, as without the plugin
            return None
        name = rows[0][0] if rows else None
        if not name:
            return None
        return Markup('{} <span style="color: #777">{}</span>').format(escape(name), value)

    return named
