"""The `draftbot` command. Each subcommand is a thin wrapper over the functions Slack uses."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click
from click_default_group import DefaultGroup

from bot import wording
from bot.budgets import Budgets
from bot.cli_report import check_output, report_output, write_output
from bot.config import ConfigError, Settings, load_settings
from bot.errors import SetupError
from bot.logs import setup_logging
from bot.pricing import Cost, load_price_table, parse_usd, usd_bounds
from bot.prompts import load_prompts
from bot.reports import GROUPINGS, PERIOD_NAMES, PeriodError, dates_period, named_period
from bot.slack_ids import CHANNEL_ID
from bot.storage import open_store
from bot.storage.records import GroupBy

# Slow to import, so loaded by the commands that need them: the Anthropic SDK (through
# bot.services and bot.drafting), Bolt, slack_sdk, asyncio, tabulate.
if TYPE_CHECKING:
    from bot.drafting import Draft

T = TypeVar("T")


@click.group(cls=DefaultGroup, default="serve", default_if_no_args=True)
@click.version_option(package_name="draftbot")
def cli() -> None:
    """Draftbot drafts emails, summaries, code and other writing with Claude, in Slack.

    With no subcommand it runs `serve`. Settings come from the environment and a `.env`
    file in the current folder; see README.md.

    \b
    Examples:
      draftbot                      # same as: draftbot serve
      draftbot draft email "to Alex asking to move Friday's meeting to Monday"
      draftbot kinds
      draftbot report --period last-month
      draftbot budget set U012AB3CD 25
      draftbot purge
      draftbot doctor
    """


@cli.command()
def serve() -> None:
    """Serve Slack: HTTP mode on $PORT, or Socket Mode when SLACK_APP_TOKEN is set.

    HTTP mode listens on 0.0.0.0:$PORT, answers Slack at POST /slack/events and health
    checks at GET /healthz. Stop it with Ctrl-C or SIGTERM.

    \b
    Example:
      PORT=3000 draftbot serve
    """
    import asyncio

    from bot.services import build_services

    settings = _settings_or_exit(need_slack=True)
    setup_logging(logging.INFO, settings.log_format)
    services = _or_exit(lambda: build_services(settings))
    from handlers.app import serve as serve_slack  # Bolt: loaded only to serve

    asyncio.run(serve_slack(services))


@cli.command()
@click.argument("request_words", metavar="REQUEST...", nargs=-1, required=True)
@click.option("--user", default="cli", show_default=True, help="User id for the usage log.")
def draft(request_words: tuple[str, ...], user: str) -> None:
    """Draft from the terminal with the same prompts, model and usage log as Slack.

    REQUEST is what you would type after /draft, routed to a kind exactly as Slack routes
    it (the kind's name or alias among the first words, otherwise the default kind; see
    `draftbot kinds`). Slack links are not read here: the text alone is drafted from. The
    draft goes to standard output; its token usage and cost to standard error. Needs only
    ANTHROPIC_API_KEY.

    \b
    Examples:
      draftbot draft email to Alex asking for a meeting about Q2 budget planning
      draftbot draft "an agenda for Monday's planning meeting"
    """
    import asyncio

    from bot.drafting import DraftFailed, DraftRequest
    from bot.services import build_services

    settings = _settings_or_exit(need_slack=False)
    setup_logging(logging.WARNING, settings.log_format)
    library = _or_exit(lambda: load_prompts(settings.prompts_dir))
    route = library.route(" ".join(request_words))
    if route.kind is None:
        raise click.UsageError("Say what to draft, for example: draftbot draft email to Alex …")
    if route.needs_details:
        noun = route.kind.noun or wording.NEEDS_DETAILS_NOUN
        example = route.kind.example
        click.echo(
            wording.NEEDS_DETAILS.format(noun=noun, command="draftbot draft", example=example),
            err=True,
        )
        sys.exit(2)
    request = DraftRequest(kind=route.kind, text=route.text, user_id=user, source="cli")

    async def run() -> Draft:
        services = _or_exit(lambda: build_services(settings))
        try:
            return await services.drafter.draft(request)
        finally:
            await services.aclose()

    try:
        result = asyncio.run(run())
    except DraftFailed as failure:
        click.echo(failure.user_message, err=True)
        if failure.reference:
            click.echo(f"(request id {failure.reference})", err=True)
        sys.exit(1)
    click.echo(result.text)
    click.echo(_usage_line(result), err=True)


@cli.command()
def kinds() -> None:
    """List the kinds of draft (from the prompts folder) with their aliases and an example.

    \b
    Example:
      draftbot kinds
    """
    settings = _settings_or_exit(need_slack=False, need_anthropic=False)
    library = _or_exit(lambda: load_prompts(settings.prompts_dir))
    for kind in library.kinds:
        default = " (default)" if kind.is_default else ""
        click.echo(f"{kind.name}{default}: {kind.description}")
        click.echo(f"  aliases: {', '.join(kind.aliases) or '-'}")
        click.echo(f"  example: {settings.command} {kind.example}")


@cli.command()
@click.option(
    "--period",
    type=click.Choice(PERIOD_NAMES),
    default=None,
    help="A named period (UTC). Default: this-month.",
)
@click.option("--since", metavar="YYYY-MM-DD", help="First day to include (UTC).")
@click.option("--until", metavar="YYYY-MM-DD", help="Last day to include (UTC). Default: today.")
@click.option("--by", "group_by", type=click.Choice(GROUPINGS), default="user", show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json", "png"]),
    default="table",
    show_default=True,
)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE.")
@click.option(
    "--wide", is_flag=True, help="Table: every column (tokens, cut off, first token), unfitted."
)
@click.option(
    "--force", is_flag=True, help="Replace the --output FILE if it exists (never the database)."
)
@click.option(
    "--post-to",
    metavar="CHANNEL_ID",
    help="Post the summary and chart to this Slack channel (needs SLACK_BOT_TOKEN).",
)
def report(
    period: str | None,
    since: str | None,
    until: str | None,
    group_by: GroupBy,
    output_format: str,
    output: str | None,
    wide: bool,
    force: bool,
    post_to: str | None,
) -> None:
    """Usage and cost per person, kind, day or model, from the usage log.

    Periods are UTC: this-month (default), last-month, last-7-days (today and the six days
    before), today, or --since/--until dates (both inclusive). People are shown by their
    Slack display name when SLACK_BOT_TOKEN is set (names are cached in the database).

    \b
    Examples:
      draftbot report
      draftbot report --period last-month --by kind
      draftbot report --wide   # every column, wider than the terminal
      draftbot report --since 2026-11-01 --until 2026-11-15 --format csv --output nov.csv
      draftbot report --format png --output usage.png
      draftbot report --period last-7-days --post-to C0123ABCD   # e.g. weekly, from cron
    """
    settings = _settings_or_exit(need_slack=bool(post_to), need_anthropic=False)
    if period and (since or until):
        raise click.UsageError("Use either --period or --since/--until, not both.")
    if post_to and not CHANNEL_ID.fullmatch(post_to):
        raise click.UsageError(
            f"--post-to needs a channel ID such as C0123ABCD, not {post_to!r}: in Slack, open "
            "the channel's name → About, and copy the Channel ID at the bottom."
        )
    if output_format == "png" and not output:
        raise click.UsageError("--format png needs --output FILE (a PNG is not for the terminal).")
    try:
        chosen = (
            dates_period(since, until) if since or until else named_period(period or "this-month")
        )
    except PeriodError as error:
        raise click.UsageError(str(error)) from error
    if output:
        check_output(settings, output, force=force)
    data = _or_exit(lambda: report_output(settings, chosen, group_by, output_format, post_to, wide))
    if data is None:
        return
    if output:
        write_output(output, data if isinstance(data, bytes) else data.encode(), force=force)
        click.echo(f"Wrote {output}.", err=True)
    else:
        click.echo(data, nl=False)


@cli.group()
def budget() -> None:
    """Monthly budgets per person, in US dollars.

    The default for everyone is DRAFTBOT_USER_MONTHLY_BUDGET_USD (unset: no limit);
    these commands set or remove a person's own limit.

    \b
    Examples:
      draftbot budget set U012AB3CD 25
      draftbot budget unset U012AB3CD
      draftbot budget list
    """


@budget.command("set")
@click.argument("user_id")
@click.argument("usd")
def budget_set(user_id: str, usd: str) -> None:
    """Give USER_ID a monthly budget of USD dollars.

    \b
    Example:
      draftbot budget set U012AB3CD 25
    """
    amount = parse_usd(usd)
    if amount is None:
        lowest, highest = usd_bounds()
        raise click.UsageError(
            f"USD must be an amount such as 25 or 12.50, from {lowest} to {highest}, not {usd!r}."
        )
    budgets = _budgets()
    budgets.set_limit(user_id, amount, set_by="cli")
    status = budgets.status(user_id)
    click.echo(
        f"{user_id}: {Cost(amount).display()} a month; used {status.spent.display()} "
        f"in {status.month.start:%B %Y}."
    )


@budget.command("unset")
@click.argument("user_id")
def budget_unset(user_id: str) -> None:
    """Remove USER_ID's own budget, so the default applies again.

    \b
    Example:
      draftbot budget unset U012AB3CD
    """
    budgets = _budgets()
    removed = budgets.store.remove_budget(user_id)
    default = budgets.status(user_id).limit
    click.echo(
        f"{user_id}: {'own budget removed' if removed else 'had no budget of their own'}; "
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

    budgets = _budgets()
    default = budgets.default_nano_usd
    click.echo(
        "Default monthly budget: "
        + (Cost.from_nano_usd(default).display() if default is not None else "no limit")
    )
    rows = []
    for row in budgets.store.budget_overrides():
        status = budgets.status(row["user_id"])
        rows.append(
            [
                row["user_id"],
                Cost.from_nano_usd(row["monthly_nano_usd"]).display(),
                status.spent.display(),
                f"{status.used_fraction:.0%}",
                row["set_by"],
                row["set_at"][:10],
            ]
        )
    if rows:
        headings = ("Budget", "Used this month", "Used %", "Set by", "On")
        columns = [Column("Person", numeric=False), *map(Column, headings)]
        click.echo(render_table(columns, rows))
    else:
        click.echo("Nobody has a budget of their own.")


def _budgets() -> Budgets:
    settings = _settings_or_exit(need_slack=False, need_anthropic=False)
    store = _or_exit(lambda: open_store(settings.database_url))
    prices = _or_exit(lambda: load_price_table(settings.prices_file))
    return Budgets(store, prices, settings.user_monthly_budget_usd)


@cli.command()
def doctor() -> None:
    """Check settings, Slack, Anthropic, prompts and the database; say how to fix problems.

    Exits with status 0 only when every check passes (warnings, marked !, do not fail).

    \b
    Example:
      draftbot doctor
    """
    import asyncio

    from bot.doctor import render_checks, run_checks

    checks = asyncio.run(run_checks())
    click.echo(render_checks(checks))
    sys.exit(0 if all(check.ok for check in checks) else 1)


def _usage_line(draft: Draft) -> str:
    usage = draft.usage
    cost = draft.cost.display() if draft.cost else "price unknown"
    ttft = f"{draft.ttft_ms / 1000:.1f} s" if draft.ttft_ms is not None else "-"
    return (
        f"[{draft.request.kind.name} · {draft.model} · stop: {draft.stop_reason}] "
        f"input {usage.input_tokens:,} · cache write {usage.cache_creation_input_tokens:,} · "
        f"cache read {usage.cache_read_input_tokens:,} · output {usage.output_tokens:,} "
        f"tokens · {cost} · first token {ttft} · total {draft.latency_ms / 1000:.1f} s"
    )


def _settings_or_exit(*, need_slack: bool, need_anthropic: bool = True) -> Settings:
    try:
        return load_settings(need_slack=need_slack, need_anthropic=need_anthropic)
    except ConfigError as error:
        click.echo(error.report(), err=True)
        sys.exit(2)


def _or_exit(build: Callable[[], T]) -> T:
    try:
        return build()
    except SetupError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"Draftbot cannot start: {message}", err=True)
    sys.exit(2)


# In a module of its own, as this one is at its size limit; imported here to register it.
from bot.cli_purge import purge  # noqa: E402

cli.add_command(purge)


def main() -> None:
    cli(prog_name="draftbot")
