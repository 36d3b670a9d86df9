"""The `draftbot` command. Each subcommand is a thin wrapper over the functions Slack uses."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, TypeVar

import click

from bot import wording
from bot.cli_common import LazyGroup
from bot.cli_common import or_exit as _or_exit
from bot.cli_common import settings_or_exit as _settings_or_exit
from bot.cli_report import check_output, report_output, write_output
from bot.logs import setup_logging
from bot.reports import GROUPINGS, PERIOD_NAMES, PeriodError, dates_period, named_period
from bot.slack_ids import CHANNEL_ID
from bot.storage.records import GroupBy

# Slow to import, so loaded by the commands that need them: the Anthropic SDK (through
# bot.services and bot.drafting), Bolt, slack_sdk, asyncio, tabulate.
if TYPE_CHECKING:
    from bot.config import Settings
    from bot.drafting import Draft
    from bot.prompts import PromptLibrary

T = TypeVar("T")
log = logging.getLogger(__name__)


@click.group(
    cls=LazyGroup,
    default="serve",
    default_if_no_args=True,
    # In modules of their own, imported only when run (or listed by --help).
    lazy_commands={
        "access": "bot.cli_access:access",
        "audit": "bot.cli_audit:audit",
        "budget": "bot.cli_budget:budget",
        "channel": "bot.cli_channel:channel",
        "datasette": "bot.cli_datasette:datasette",
        "manifest": "bot.cli_manifest:manifest",
        "purge": "bot.cli_purge:purge",
    },
)
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
      draftbot channel set C0123ABCD --default-kind email --model claude-haiku-4-5
      draftbot access set --dms off
      draftbot audit
      draftbot purge
      draftbot doctor
      draftbot datasette --open
      draftbot manifest --http --url https://draftbot.example.com
    """


@cli.command()
@click.option(
    "--host", default="0.0.0.0", show_default=True, help="HTTP mode: address to listen on."
)
def serve(host: str) -> None:
    """Serve Slack: HTTP mode on $PORT, or Socket Mode when SLACK_APP_TOKEN is set.

    HTTP mode listens on 0.0.0.0:$PORT (--host 127.0.0.1: this machine only, e.g. behind
    a reverse proxy), answers Slack at POST /slack/events and health checks at GET
    /healthz. Socket Mode answers GET /healthz on $PORT too when PORT is set (platforms
    that start web processes wait for the port). Stop it with Ctrl-C or SIGTERM.

    \b
    Example:
      PORT=3000 draftbot serve
    """
    import asyncio

    from bot.services import build_services

    settings = _settings_or_exit(need_slack=True)
    setup_logging(logging.INFO, settings.log_format)
    from bot.settings_list import unknown_settings

    for sentence in unknown_settings(os.environ):  # .env is in os.environ by now
        log.warning(sentence)
    services = _or_exit(lambda: build_services(settings))
    from handlers.app import serve as serve_slack  # Bolt: loaded only to serve

    asyncio.run(serve_slack(services, host=host))


@cli.command()
@click.argument("request_words", metavar="REQUEST...", nargs=-1, required=True)
@click.option("--user", default="cli", show_default=True, help="User id for the usage log.")
@click.option(
    "--file",
    "file_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A file for Claude to read (PDF, image, Word, Excel, CSV, text, HTML); repeatable.",
)
def draft(request_words: tuple[str, ...], user: str, file_paths: tuple[str, ...]) -> None:
    """Draft from the terminal with the same prompts, model and usage log as Slack.

    REQUEST is what you would type after /draft, routed to a kind exactly as Slack routes
    it (the kind's name or alias among the first words, otherwise the default kind; see
    `draftbot kinds`). Slack links are not read here: the text alone is drafted from, with
    any --file. The draft goes to standard output; its token usage and cost, and files that
    could not be read, to standard error. Needs only ANTHROPIC_API_KEY.

    \b
    Examples:
      draftbot draft email to Alex asking for a meeting about Q2 budget planning
      draftbot draft "an agenda for Monday's planning meeting"
      draftbot draft --file report.pdf --file chart.png summarize this for the team
    """
    import asyncio

    from bot.drafting import DraftFailed, DraftRequest
    from bot.services import build_services

    settings = _settings_or_exit(need_slack=False)
    setup_logging(logging.WARNING, settings.log_format)
    library = _or_exit(lambda: _load_prompts(settings))
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
    from bot.cli_files import read_paths  # the file readers: only to draft from files

    files = read_paths(file_paths).files if file_paths else ()
    request = DraftRequest(
        kind=route.kind, text=route.text, user_id=user, source="cli", files=files
    )

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
    library = _or_exit(lambda: _load_prompts(settings))
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
    """Usage and cost per person, kind, day, model or channel, from the usage log.

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


def _load_prompts(settings: Settings) -> PromptLibrary:
    from bot.prompts import load_prompts  # PyYAML and the style lists: not for `report`

    return load_prompts(settings.prompts_dir)


def main() -> None:
    cli(prog_name="draftbot")
