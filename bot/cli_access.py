"""`draftbot access show|set|reset`: the access rules in force, changed while Draftbot runs,
registered on the `draftbot` group by bot/cli.py. The same overrides and audit rows as the
form `/draft admin access` opens in Slack (bot/access_overrides.py)."""

from __future__ import annotations

import click

from bot.access_overrides import (
    OVERRIDES_CACHE_SECONDS,
    RULES,
    parse_override,
    rules_in_force,
    save_overrides,
)
from bot.audit import change_text
from bot.cli_common import or_exit, settings_or_exit
from bot.storage import open_store
from bot.storage.channel_queries import Changes

# The CLI's names for the rules (dashes), as --options and RULE arguments.
NAMES = {rule: rule.replace("_", "-") for rule in RULES}


@click.group()
def access() -> None:
    """Who may use Draftbot, changed while it runs.

    The settings (DRAFTBOT_ALLOWED_USERS, DRAFTBOT_ALLOWED_CHANNELS, DRAFTBOT_BLOCKED_CHANNELS,
    DRAFTBOT_DMS, DRAFTBOT_GUESTS) are the defaults; a rule set here replaces its setting on
    every instance (within {seconds:.0f} seconds) until it is reset. Every change is recorded
    for `draftbot audit`. Admins (ADMIN_USER_IDS) always pass the allow list.

    \b
    Examples:
      draftbot access show
      draftbot access set --allowed-users U012AB3CD,S0123ABCD --dms off
      draftbot access set --blocked-channels C0456EFGH
      draftbot access reset dms
      draftbot access reset
    """


access.help = (access.help or "").replace("{seconds:.0f}", f"{OVERRIDES_CACHE_SECONDS:.0f}")


@access.command("show")
def access_show() -> None:
    """Each rule in force, and where it comes from (the setting, or an override)."""
    from bot.tables import Column, render_table

    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    store = or_exit(lambda: open_store(settings.database_url))
    try:
        rows = store.access_overrides()
    finally:
        store.close()
    columns = [
        Column("Rule", numeric=False),
        Column("In force", numeric=False),
        Column("From", numeric=False),
    ]
    table = []
    for found in rules_in_force(settings.access, rows):
        if found.overridden:
            when = (found.set_at or "")[:16].replace("T", " ")
            source = f"override by {found.set_by}, {when} UTC"
        else:
            source = f"setting {RULES[found.rule]}"
        table.append([NAMES[found.rule], _shown(found.rule, found.value), source])
    click.echo(render_table(columns, table))


@access.command("set")
@click.option("--allowed-users", help="Member and user-group IDs, by commas ('' for anyone).")
@click.option("--allowed-channels", help="Channel IDs, by commas ('' for every channel).")
@click.option("--blocked-channels", help="Channel IDs, separated by commas ('' for none).")
@click.option("--dms", type=click.Choice(["on", "off"]), help="Direct messages with Draftbot.")
@click.option("--guests", type=click.Choice(["on", "off"]), help="Guests and other organizations.")
def access_set(**options: str | None) -> None:
    """Override the rules given; the others stay as they are.

    \b
    Examples:
      draftbot access set --allowed-users U012AB3CD,S0123ABCD
      draftbot access set --dms off --guests off
      draftbot access set --allowed-channels ''      # every channel again (an override)
    """
    given = {rule: text for rule, text in options.items() if text is not None}
    if not given:
        raise click.UsageError("Name at least one rule to set, such as --dms off.")
    values: dict[str, str | None] = {}
    problems: list[str] = []
    for rule, text in given.items():
        values[rule], found = parse_override(rule, text)
        problems += found
    if problems:
        raise click.UsageError(" ".join(problems))
    _save(values)


@access.command("reset")
@click.argument("rules", nargs=-1, type=click.Choice(list(NAMES.values())))
def access_reset(rules: tuple[str, ...]) -> None:
    """Back to the settings' values: the RULES named, or all of them.

    \b
    Examples:
      draftbot access reset dms guests
      draftbot access reset
    """
    names = rules or tuple(NAMES.values())
    _save({rule: None for rule, name in NAMES.items() if name in names})


def _save(values: dict[str, str | None]) -> None:
    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    store = or_exit(lambda: open_store(settings.database_url))
    try:
        changes: Changes = save_overrides(store, settings.access, values, "cli")
    finally:
        store.close()
    if not changes:
        click.echo("Nothing changed.")
    for setting, old, new in changes:
        click.echo(f"{setting.removeprefix('access ')}: {change_text(setting, old, new)}")
    click.echo(f"Instances apply this within {OVERRIDES_CACHE_SECONDS:.0f} seconds.")


def _shown(rule: str, value: str) -> str:
    if value:
        return value
    empty = {"allowed_users": "anyone", "allowed_channels": "every channel"}
    return empty.get(rule, "none")
