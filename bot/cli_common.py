"""What every `draftbot` subcommand does with bad settings and unusable set-up: one plain
report on standard error and exit status 2, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click

from bot.config import ConfigError, Settings, load_settings
from bot.errors import SetupError

T = TypeVar("T")


def settings_or_exit(*, need_slack: bool, need_anthropic: bool = True) -> Settings:
    try:
        return load_settings(need_slack=need_slack, need_anthropic=need_anthropic)
    except ConfigError as error:
        click.echo(error.report(), err=True)
        sys.exit(2)


def or_exit(build: Callable[[], T]) -> T:
    try:
        return build()
    except SetupError as error:
        fail(str(error))


def fail(message: str) -> NoReturn:
    click.echo(f"Draftbot cannot start: {message}", err=True)
    sys.exit(2)
