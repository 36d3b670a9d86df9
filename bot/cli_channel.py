"""`draftbot channel set|show|list|unset`: channel presets from the terminal, registered on
the `draftbot` group by bot/cli.py. The same table, checks and audit rows as the form
`/draft admin channel #support` opens in Slack (bot/channel_settings.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import TextIO

import click

from bot import wording
from bot.audit import change_text
from bot.channel_settings import (
    PRESET_CACHE_SECONDS,
    ChannelPreset,
    find_tone,
    instructions_summary,
    preset_problems,
    remove_preset,
    store_preset,
)
from bot.cli_common import or_exit, settings_or_exit
from bot.slack_ids import channel_argument
from bot.storage import Storage, open_store

CLEAR = ("default", "none", "")  # an option given one of these goes back to Draftbot's default


@click.group()
def channel() -> None:
    """Per-channel presets: extra instructions, a default kind, a model, a default tone,
    and whether Draftbot may be used there at all.

    CHANNEL is a channel ID (C0123ABCD). Every change is recorded for `draftbot audit`;
    running instances apply it within {seconds:.0f} seconds.

    \b
    Examples:
      draftbot channel set C0123ABCD --instructions-file support.md --default-kind email
      draftbot channel set C0123ABCD --model claude-haiku-4-5 --tone friendly
      draftbot channel set C0456EFGH --disabled
      draftbot channel show C0123ABCD
      draftbot channel list
      draftbot channel unset C0123ABCD
    """


channel.help = (channel.help or "").replace("{seconds:.0f}", f"{PRESET_CACHE_SECONDS:.0f}")


def _channel_id(text: str) -> str:
    found = channel_argument(text)
    if found is None:
        raise click.UsageError(wording.PRESET_BAD_CHANNEL.format(channel=text))
    return found[0]


def _store() -> Storage:
    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    return or_exit(lambda: open_store(settings.database_url))


@channel.command("set")
@click.argument("channel_arg", metavar="CHANNEL")
@click.option(
    "--instructions-file",
    type=click.File("r", encoding="utf-8"),
    help="A text file with the channel's extra instructions (- reads standard input; an empty "
    "file removes them).",
)
@click.option("--default-kind", help="The kind for requests that name none (default: none).")
@click.option("--model", help="The model for this channel's requests (default: none).")
@click.option("--tone", help="The default tone, one of the form's tones (default: none).")
@click.option("--enabled/--disabled", default=None, help="May Draftbot be used there?")
def channel_set(
    channel_arg: str,
    instructions_file: TextIO | None,
    default_kind: str | None,
    model: str | None,
    tone: str | None,
    enabled: bool | None,
) -> None:
    """Change CHANNEL's preset: only the options given change.

    \b
    Examples:
      draftbot channel set C0123ABCD --instructions-file support.md --default-kind email \\
          --model claude-haiku-4-5
      draftbot channel set C0123ABCD --tone default     # back to no default tone
    """
    from bot.pricing import load_price_table
    from bot.prompts import load_prompts

    channel_id = _channel_id(channel_arg)
    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    library = or_exit(lambda: load_prompts(settings.prompts_dir))
    prices = or_exit(lambda: load_price_table(settings.prices_file))
    store = or_exit(lambda: open_store(settings.database_url))
    try:
        row = store.channel_setting(channel_id)
        preset = ChannelPreset.from_row(row) if row else ChannelPreset(channel_id)
        preset = replace(preset, updated_by="cli", updated_at="")
        if instructions_file is not None:
            preset = replace(preset, instructions=instructions_file.read().strip())
        if default_kind is not None:
            kind = library.find(default_kind)
            chosen = kind.name if kind else default_kind
            preset = replace(preset, default_kind=None if default_kind in CLEAR else chosen)
        if model is not None:
            preset = replace(preset, model=None if model in CLEAR else model)
        if tone is not None:
            preset = replace(preset, tone=None if tone in CLEAR else find_tone(tone) or tone)
        if enabled is not None:
            preset = replace(preset, enabled=enabled)
        problems = preset_problems(preset, library, prices)
        if problems:
            raise click.UsageError(" ".join(problems.values()))
        changes = store_preset(store, preset)
        saved = store.channel_setting(channel_id)
    finally:
        store.close()
    if not changes:
        click.echo(f"{channel_id}: {wording.PRESET_NOTHING}.")
    for setting, old, new in changes:
        click.echo(f"{channel_id}: {setting} {change_text(setting, old, new)}")
    if saved is None:
        click.echo(f"{channel_id} has no preset now: Draftbot's defaults apply there.")
    else:
        _echo_preset(ChannelPreset.from_row(saved))


@channel.command("show")
@click.argument("channel_arg", metavar="CHANNEL")
def channel_show(channel_arg: str) -> None:
    """CHANNEL's preset, field by field (instructions in full).

    \b
    Example:
      draftbot channel show C0123ABCD
    """
    channel_id = _channel_id(channel_arg)
    store = _store()
    try:
        row = store.channel_setting(channel_id)
    finally:
        store.close()
    if row is None:
        click.echo(f"{channel_id} has no preset: Draftbot's defaults apply there.")
        return
    preset = ChannelPreset.from_row(row)
    _echo_preset(preset)
    if preset.instructions:
        click.echo("\nInstructions, in full:")
        click.echo(preset.instructions)


@channel.command("list")
def channel_list() -> None:
    """Every channel with a preset.

    \b
    Example:
      draftbot channel list
    """
    from bot.tables import Column, render_table

    store = _store()
    try:
        presets = [ChannelPreset.from_row(row) for row in store.channel_settings()]
    finally:
        store.close()
    if not presets:
        click.echo("No channel has a preset: Draftbot's defaults apply everywhere.")
        return
    columns = [
        Column("Channel", numeric=False),
        Column("Used", numeric=False),
        Column("Kind", numeric=False),
        Column("Model", numeric=False),
        Column("Tone", numeric=False),
        Column("Instructions", numeric=False),
        Column("Changed (UTC)", numeric=False),
    ]
    rows = [
        [
            _name(preset),
            "yes" if preset.enabled else "no",
            preset.default_kind or "-",
            preset.model or "-",
            preset.tone or "-",
            f"{len(preset.instructions):,} chars" if preset.instructions else "-",
            preset.updated_at[:16].replace("T", " "),
        ]
        for preset in presets
    ]
    click.echo(render_table(columns, rows))


@channel.command("unset")
@click.argument("channel_arg", metavar="CHANNEL")
def channel_unset(channel_arg: str) -> None:
    """Remove CHANNEL's preset, so Draftbot's defaults apply there again.

    \b
    Example:
      draftbot channel unset C0123ABCD
    """
    channel_id = _channel_id(channel_arg)
    store = _store()
    try:
        removed = remove_preset(store, channel_id, "cli")
    finally:
        store.close()
    if removed:
        click.echo(f"{channel_id}: preset removed; Draftbot's defaults apply there again.")
    else:
        click.echo(f"{channel_id} had no preset.")


def _name(preset: ChannelPreset) -> str:
    name = f" (#{preset.channel_name})" if preset.channel_name else ""
    return f"{preset.channel_id}{name}"


def _echo_preset(preset: ChannelPreset) -> None:
    click.echo(f"Channel:       {_name(preset)}")
    click.echo(f"May be used:   {'yes' if preset.enabled else 'no'}")
    click.echo(f"Default kind:  {preset.default_kind or '-'}")
    click.echo(f"Model:         {preset.model or '-'}")
    click.echo(f"Default tone:  {preset.tone or '-'}")
    click.echo(f"Instructions:  {instructions_summary(preset.instructions) or '-'}")
    changed = preset.updated_at[:19].replace("T", " ")
    click.echo(f"Changed:       {changed} UTC by {preset.updated_by}")
