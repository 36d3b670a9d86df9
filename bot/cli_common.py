"""What every `draftbot` subcommand does with bad settings and unusable set-up: one plain
report on standard error and exit status 2, never a traceback."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

import click
from click_default_group import DefaultGroup

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


class LazyGroup(DefaultGroup):  # type: ignore[misc]  # click-default-group has no types
    """The `draftbot` group: `serve` by default, and the subcommands in `lazy_commands`
    ("name": "module:attribute") imported only when one of them runs or --help lists them,
    so that `draftbot report` loads none of the others."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        command: click.Command | None = super().get_command(ctx, cmd_name)
        return command
