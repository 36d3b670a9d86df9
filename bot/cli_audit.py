"""`draftbot audit`: every change admins made (budgets so far), newest first, from the
`admin_changes` table that each change is written to in the same transaction."""

from __future__ import annotations

import click

from bot.audit import change_text
from bot.cli_common import or_exit, settings_or_exit
from bot.cli_people import shown_names
from bot.storage import open_store


@click.command()
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def audit(limit: int) -> None:
    """What admins changed, who changed it and when, old value → new, newest first.

    Budget changes made with /draft budget or `draftbot budget` are recorded (by whom: a
    Slack member, or "cli" for the terminal). Needs only DATABASE_URL; with SLACK_BOT_TOKEN
    people are shown by name.

    \b
    Examples:
      draftbot audit
      draftbot audit --limit 10
    """
    from bot.tables import Column, render_table

    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    store = or_exit(lambda: open_store(settings.database_url))
    try:
        changes = store.admin_changes(limit)
        if not changes:
            click.echo("No admin changes recorded yet.")
            return
        ids = [row["actor"] for row in changes] + [row["subject"] for row in changes]
        names = shown_names(settings, store, ids)
        rows = [
            [
                row["changed_at"][:19].replace("T", " "),
                names.get(row["actor"], row["actor"]),
                row["setting"],
                names.get(row["subject"], row["subject"]),
                change_text(row["setting"], row["old_value"], row["new_value"]),
            ]
            for row in changes
        ]
    finally:
        store.close()
    columns = [
        Column("When (UTC)", numeric=False),
        Column("Who", numeric=False),
        Column("What", numeric=False),
        Column("For", numeric=False),
        Column("Change", numeric=False),
    ]
    click.echo(render_table(columns, rows))
