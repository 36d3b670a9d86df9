"""`/draft admin channel #support`: a channel's preset in a form, for admins (who is one is
decided by `handlers.admin`, before anything here runs), and the form's submission."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot import wording
from bot.audit import change_text
from bot.channel_settings import ChannelPreset, preset_problems, store_preset
from bot.slack_ids import channel_argument
from bot.storage.channel_queries import Changes
from bot.storage.offloop import off_loop, write_off_loop
from handlers.blocks import previews
from handlers.blocks.admin_modals import channel_label, preset_form, submitted_preset
from handlers.blocks.message import notice
from handlers.blocks.modals import metadata
from handlers.blocks.text import plain
from handlers.flows import Flows
from handlers.replies import Reply

log = logging.getLogger(__name__)


async def open_channel_form(
    flows: Flows, args: tuple[str, ...], command: dict[str, Any], reply: Reply
) -> None:
    """The form with the channel's current values; a plain sentence if it can't be had."""
    found = channel_argument(args[0]) if args else None
    if found is None:
        await reply.show(notice(wording.PRESET_USAGE.format(command=flows.command)))
        return
    channel_id, name = found
    try:
        row = await off_loop(flows.services.store.channel_setting, channel_id)
    except Exception as error:
        await reply.show(flows.failure_message(error, f"reading {channel_id}'s settings"))
        return
    preset = ChannelPreset.from_row(row) if row else ChannelPreset(channel_id)
    name = name or preset.channel_name or await _channel_name(flows, channel_id)
    preset = replace(preset, channel_name=name)
    models = sorted(flows.services.prices.prices)
    form = preset_form(preset, flows.library, models, command.get("response_url"))
    await flows.open_form(command["trigger_id"], form, reply)


async def admin_submitting(flows: Flows, user_id: str, ack: AsyncAck, field: str) -> bool:
    """True for an admin; anyone else (admin forms are only shown to admins) is answered on
    the form's `field` with the usual sentence."""
    if await flows.people.is_admin(user_id):
        return True
    admins = previews.admin_contact(flows.services.settings.admin_user_ids)
    text = wording.ADMINS_ONLY.format(command=flows.command, subcommand="admin", admins=admins)
    await ack(response_action="errors", errors={field: plain(text)})
    return False


async def on_preset_form(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], flows: Flows
) -> None:
    """Save the channel's preset and its audit rows; problems show in the form."""
    user_id = body["user"]["id"]
    if not await admin_submitting(flows, user_id, ack, "instructions"):
        return
    preset = submitted_preset(view, user_id)
    services = flows.services
    problems = preset_problems(preset, flows.library, services.prices)
    if problems:
        await ack(response_action="errors", errors={k: plain(v) for k, v in problems.items()})
        return
    try:
        changes = await write_off_loop(partial(store_preset, services.store, preset))
    except Exception as error:
        problem = flows.failure_message(error, f"saving {preset.channel_id}'s settings").text
        await ack(response_action="errors", errors={"instructions": plain(problem)})
        return
    await ack()
    services.drafter.presets.forget(preset.channel_id)
    log.info(
        "channel preset saved channel=%s by=%s changes=%d", preset.channel_id, user_id, len(changes)
    )
    channel = channel_label(preset.channel_id, preset.channel_name)
    if preset.is_empty:
        text = wording.PRESET_REMOVED.format(channel=channel)
    else:
        text = wording.PRESET_SAVED.format(channel=channel, summary=changes_summary(changes))
    meta = metadata(view)
    await flows.private_reply(meta.get("response_url"), user_id).show(notice(text))


def changes_summary(changes: Changes) -> str:
    """ "channel model: - → claude-haiku-4-5; …", or "nothing changed"."""
    if not changes:
        return wording.PRESET_NOTHING
    return "; ".join(
        f"{setting}: {change_text(setting, old, new)}" for setting, old, new in changes
    )


async def _channel_name(flows: Flows, channel_id: str) -> str | None:
    """The channel's name from Slack, for the form and the preview's footer; None if unknown."""
    try:
        response = await flows.client.conversations_info(channel=channel_id)
    except Exception as error:
        log.info("conversations.info failed for %s (%s)", channel_id, type(error).__name__)
        return None
    channel = response.get("channel") or {}
    name = channel.get("name") if isinstance(channel, dict) else None
    return str(name) if name else None


async def form_kind(flows: Flows, channel_id: str | None) -> str | None:
    """The kind a form opened in `channel_id` starts on: its preset's default kind, if any."""
    try:
        preset = await flows.services.drafter.presets.get(channel_id)
    except Exception as error:  # the database: the library's default, as before presets
        log.info("no preset for the form: %s", type(error).__name__)
        return None
    return preset.default_kind if preset is not None else None
