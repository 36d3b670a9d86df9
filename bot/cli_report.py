"""What `draftbot report` prints, writes or posts (bot/cli.py parses the options).

Only the grouping asked for is built. Without Slack (no SLACK_BOT_TOKEN, no chart, no
--post-to) people are named from the database's cache and neither slack_sdk, the handlers
nor asyncio is loaded; with Slack, names come from users.info (cached) through
`handlers.people`, and the chart and the post through `handlers.report_delivery`, as for
`/draft report`. Like bot/cli.py, this module may import `handlers`; the core never does.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot import wording
from bot.config import Settings
from bot.errors import SetupError
from bot.pricing import Cost, PriceTable, load_price_table
from bot.report_formats import render
from bot.reports import Period, Report, build_report, with_cached_names, with_names
from bot.storage import POSTGRES_SCHEMES, Storage, database_location, open_store, sqlite_path
from bot.storage.records import GroupBy


def report_output(
    settings: Settings,
    period: Period,
    group_by: GroupBy,
    output_format: str,
    post_to: str | None,
    wide: bool = False,
) -> str | bytes | None:
    """The rendered report, or None when it was posted to Slack instead. Raises SetupError
    when the database, the price table or Slack is not usable."""
    if not settings.database_url.startswith(POSTGRES_SCHEMES):
        path = database_location(settings.database_url)
        if not Path(path).exists():  # opening it would create an empty one
            raise SetupError(
                f"No database at {path}. Check DATABASE_URL for a typo: Draftbot creates its "
                "database when `draftbot serve` first starts; reports never do."
            )
    store = open_store(settings.database_url)
    try:
        prices = load_price_table(settings.prices_file)
        if post_to or output_format == "png" or settings.slack_bot_token:
            import asyncio

            slack = _with_slack(
                settings, store, prices, period, group_by, output_format, post_to, wide
            )
            return asyncio.run(slack)
        report = build_report(store, prices, period, group_by)
        _say_if_nothing_recorded(store, report, settings.database_url)
        return render(with_cached_names(store, report), output_format, wide)
    finally:
        store.close()


async def _with_slack(
    settings: Settings,
    store: Storage,
    prices: PriceTable,
    period: Period,
    group_by: GroupBy,
    output_format: str,
    post_to: str | None,
    wide: bool,
) -> str | bytes | None:
    from slack_sdk.errors import SlackApiError

    from bot.services import build_slack_client
    from handlers.people import People
    from handlers.report_delivery import build_usage_reports, chart_png, post_report

    client = build_slack_client(settings)
    people = People(store, client, settings.admin_user_ids)
    if not post_to and output_format != "png":
        report = build_report(store, prices, period, group_by)
        _say_if_nothing_recorded(store, report, settings.database_url)
        if group_by == "user":
            report = with_names(report, await people.names([row.key for row in report.rows]))
        elif group_by == "channel":
            report = with_cached_names(store, report)
            channels = [row.key for row in report.rows if row.key not in ("", "D")]
            report = with_names(report, await people.channel_names(channels))
        return render(report, output_format, wide)
    budget = settings.user_monthly_budget_usd
    reports = await build_usage_reports(
        store, prices, people, period, Cost(budget).nano_usd if budget is not None else None
    )
    if not post_to:
        return chart_png(reports, series="kind" if group_by == "kind" else "person")
    if client is None:
        raise SetupError("--post-to needs SLACK_BOT_TOKEN.")
    try:
        await post_report(client, post_to, reports)
    except SlackApiError as error:
        reason = error.response.get("error")
        raise SetupError(f"Slack refused the post to {post_to}: {reason}.") from error
    click.echo(f"Posted the {period.label} report to {post_to}.", err=True)
    return None


def _say_if_nothing_recorded(store: Storage, report: Report, database_url: str) -> None:
    """An all-zero report from a database nobody has drafted with: say which one it is."""
    if report.total.requests == 0 and not store.has_usage():
        click.echo(
            f"No usage has been recorded in {database_location(database_url)} yet. If people "
            "have drafted with Draftbot, DATABASE_URL may point at the wrong database.",
            err=True,
        )


# ------------------------------------------------------------------ --output


def check_output(settings: Settings, output: str, *, force: bool) -> None:
    """Refuse, before any work, to write over Draftbot's own files (the database, its
    SQLite companions, the usage journal: never) or any other existing file (unless
    `force`). Raises click.ClickException with the plain reason (exit status 1)."""
    target = Path(output)
    for path, message in _own_files(settings):
        if _same_file(target, path):
            raise click.ClickException(message.format(path=output))
    if target.exists() and not force:
        raise click.ClickException(wording.OUTPUT_EXISTS.format(path=output))


def write_output(output: str, data: bytes, *, force: bool) -> None:
    """Write the report; without `force`, only as a new file (never over one that appeared
    since `check_output`)."""
    try:
        with open(output, "wb" if force else "xb") as file:
            file.write(data)
    except FileExistsError as error:
        raise click.ClickException(wording.OUTPUT_EXISTS.format(path=output)) from error
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise click.ClickException(
            wording.OUTPUT_CANNOT_WRITE.format(path=output, reason=reason)
        ) from error


def _own_files(settings: Settings) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    if not settings.database_url.startswith(POSTGRES_SCHEMES):
        database = sqlite_path(settings.database_url)
        files += [
            (Path(database + suffix), wording.OUTPUT_IS_DATABASE)
            for suffix in ("", "-wal", "-shm", "-journal")
        ]
    if settings.journal_path is not None:
        files.append((settings.journal_path, wording.OUTPUT_IS_JOURNAL))
    return files


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.expanduser().resolve() == b.expanduser().resolve()
    except OSError:
        return False
