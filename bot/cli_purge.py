"""`draftbot purge`, registered on the `draftbot` group by bot/cli.py (kept here because
bot/cli.py is at its size limit). Settings problems and an unopenable database are reported
exactly as the other subcommands report them."""

from __future__ import annotations

import logging
import sys

import click

from bot.config import ConfigError, load_settings
from bot.errors import SetupError
from bot.logs import setup_logging


@click.command()
def purge() -> None:
    """Delete drafts older than DRAFTBOT_DRAFT_RETENTION_DAYS, and say how many.

    A draft (the request and the draft text) expires that many days after its last change;
    the ids of Slack events remembered against retries go with it. `draftbot serve` does
    this by itself at start and every hour; run `purge` from cron where no server runs all
    the time. Needs only DATABASE_URL (no Slack or Anthropic keys).

    \b
    Examples:
      draftbot purge
      0 3 * * * cd /srv/draftbot && .venv/bin/draftbot purge   # crontab: daily at 03:00
    """
    try:
        settings = load_settings(need_slack=False, need_anthropic=False)
    except ConfigError as error:
        click.echo(error.report(), err=True)
        sys.exit(2)
    setup_logging(logging.WARNING, settings.log_format)
    # Loaded here: its purge timer brings asyncio, which the other commands' start-up skips.
    from bot.retention import purge_database

    days = settings.draft_retention_days
    try:
        purged = purge_database(settings.database_url, days)
    except SetupError as error:
        click.echo(f"Draftbot cannot start: {error}", err=True)
        sys.exit(2)
    click.echo(f"Deleted {purged} draft{'' if purged == 1 else 's'} older than {days} days.")
