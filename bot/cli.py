"""The `draftbot` command. Each subcommand is a thin wrapper over the functions Slack uses."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click
from click_default_group import DefaultGroup

from bot.config import ConfigError, Settings, load_settings
from bot.drafting import Draft, DraftFailed, DraftRequest
from bot.pricing import PriceFileError
from bot.prompts import PromptError, load_prompts
from bot.services import build_services

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
    _setup_logging(logging.INFO)
    settings = _settings_or_exit(need_slack=True)
    services = _or_exit(lambda: build_services(settings))
    from bot.app import serve as serve_slack  # imports Bolt; not needed by other commands

    asyncio.run(serve_slack(services))


@cli.command()
@click.argument("kind")
@click.argument("instructions", nargs=-1, required=True)
@click.option("--user", default="cli", show_default=True, help="User id for the usage log.")
def draft(kind: str, instructions: tuple[str, ...], user: str) -> None:
    """Draft from the terminal with the same prompts, model and usage log as Slack.

    KIND is a kind name or alias (see `draftbot kinds`). The draft goes to standard
    output; its token usage and cost to standard error. Needs only ANTHROPIC_API_KEY.

    \b
    Example:
      draftbot draft email "to Alex asking for a meeting about Q2 budget planning, 3 sentences"
    """
    _setup_logging(logging.WARNING)
    settings = _settings_or_exit(need_slack=False)
    library = _or_exit(lambda: load_prompts(settings.prompts_dir))
    prompt_kind = library.find(kind)
    if prompt_kind is None:
        names = ", ".join(k.name for k in library.kinds)
        raise click.UsageError(f"Unknown kind {kind!r}. Choose one of: {names}.")
    # The same text Slack would send for `/draft KIND instructions`.
    text = " ".join((kind, *instructions))
    request = DraftRequest(kind=prompt_kind, text=text, user_id=user, source="cli")

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
    except (PromptError, PriceFileError) as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"Draftbot cannot start: {message}", err=True)
    sys.exit(2)


def _setup_logging(level: int) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("httpx2", "httpcore", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main() -> None:
    cli(prog_name="draftbot")
