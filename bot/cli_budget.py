"""`draftbot budget set|unset|list`, registered on the `draftbot` group by bot/cli.py.

People are named by member ID, or, with SLACK_BOT_TOKEN, by @name or e-mail address looked
up in Slack (a budget for an id that matches nobody would never apply). `list` shows
names: from Slack with a token, otherwise from the database's cache.
"""

from __future__ import annotations

import click

from bot.budgets import Budgets
from bot.cli_common import fail, or_exit, settings_or_exit
from bot.cli_people import shown_names
from bot.config import Settings
from bot.pricing import Cost, load_price_table, parse_usd, usd_bounds
from bot.storage import open_store


@click.group()
def budget() -> None:
    """Monthly budgets per person, in US dollars.

    The default for everyone is DRAFTBOT_USER_MONTHLY_BUDGET_USD (unset: no limit);
    these commands set or remove a person's own limit. PERSON is a Slack member ID
    (U012AB3CD), or, with SLACK_BOT_TOKEN set, @name or an e-mail address.

    \b
    Examples:
      draftbot budget set U012AB3CD 25
      draftbot budget set @alex 25
      draftbot budget unset U012AB3CD
      draftbot budget list
    """


@budget.command("set")
@click.argument("person")
@click.argument("usd")
def budget_set(person: str, usd: str) -> None:
    """Give PERSON a monthly budget of USD dollars.

    \b
    Examples:
      draftbot budget set U012AB3CD 25
      draftbot budget set @alex 12.50
    """
    amount = parse_usd(usd)
    if amount is None:
        lowest, highest = usd_bounds()
        raise click.UsageError(
            f"USD must be an amount such as 25 or 12.50, from {lowest} to {highest}, not {usd!r}."
        )
    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    user_id = _member(settings, person)
    budgets = _budgets(settings)
    budgets.set_limit(user_id, amount, set_by="cli")
    status = budgets.status(user_id)
    who = shown_names(settings, budgets.store, [user_id])[user_id]
    click.echo(
        f"{who}: {Cost(amount).display()} a month; "
        f"used {status.spent.display()} in {status.month.start:%B %Y}."
    )


@budget.command("unset")
@click.argument("person")
def budget_unset(person: str) -> None:
    """Remove PERSON's own budget, so the default applies again.

    \b
    Example:
      draftbot budget unset U012AB3CD
    """
    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    user_id = _member(settings, person)
    budgets = _budgets(settings)
    removed = budgets.store.remove_budget(user_id, removed_by="cli")
    default = budgets.status(user_id).limit
    click.echo(
        f"{shown_names(settings, budgets.store, [user_id])[user_id]}: "
        f"{'own budget removed' if removed else 'had no budget of their own'}; "
        f"the default applies ({default.display() if default else 'no limit'})."
    )


@budget.command("list")
def budget_list() -> None:
    """People with their own budget, and what they have used this month.

    \b
    Example:
      draftbot budget list
    """
    from bot.tables import Column, render_table

    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    budgets = _budgets(settings)
    default = budgets.default_nano_usd
    click.echo(
        "Default monthly budget: "
        + (Cost.from_nano_usd(default).display() if default is not None else "no limit")
    )
    overrides = budgets.store.budget_overrides()
    names = shown_names(settings, budgets.store, [row["user_id"] for row in overrides])
    rows = []
    for row in overrides:
        status = budgets.status(row["user_id"])
        rows.append(
            [
                names[row["user_id"]],
                Cost.from_nano_usd(row["monthly_nano_usd"]).display(),
                status.spent.display(),
                f"{status.used_fraction:.0%}",
                row["set_by"],
                row["set_at"][:10],
            ]
        )
    if rows:
        columns = [
            Column("Person", numeric=False),
            *map(Column, ("Budget", "Used this month", "Used %")),
            Column("Set by", numeric=False),
            Column("On", numeric=False),
        ]
        click.echo(render_table(columns, rows))
    else:
        click.echo("Nobody has a budget of their own.")


def _budgets(settings: Settings) -> Budgets:
    store = or_exit(lambda: open_store(settings.database_url))
    prices = or_exit(lambda: load_price_table(settings.prices_file))
    return Budgets(store, prices, settings.user_monthly_budget_usd)


def _member(settings: Settings, person: str) -> str:
    """PERSON's member id; a usage error naming the problem when it is nobody."""
    import asyncio

    from aiohttp import ClientError
    from slack_sdk.errors import SlackApiError

    from bot.services import build_slack_client
    from handlers.member_lookup import NotAMember, find_member

    try:
        return asyncio.run(find_member(build_slack_client(settings), person))
    except NotAMember as error:
        raise click.UsageError(str(error)) from error
    except (SlackApiError, ClientError, TimeoutError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else "no answer"
        fail(f"Slack could not look up {person} ({reason}). Use the member ID instead.")
