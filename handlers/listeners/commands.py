"""`/draft …`: acknowledge within Slack's 3 seconds, then draft and reply privately."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import wording
from bot.drafting import DraftRequest
from bot.slack_ids import find_slack_link
from handlers import admin, presets
from handlers.access import Access
from handlers.blocks import modals, previews
from handlers.blocks.message import layout
from handlers.flows import Asker, Flows
from handlers.history import show_history


def register(app: AsyncApp, command: str) -> None:
    app.command(command)(on_draft_command)


async def on_draft_command(
    ack: AsyncAck, command: dict[str, Any], flows: Flows, access: Access
) -> None:
    text = command.get("text") or ""
    user_id = command["user_id"]
    reply = flows.private_reply(command.get("response_url"), user_id)
    if text.strip().lower() == "history":  # My drafts
        await ack()
        await show_history(flows, user_id, reply)
        return
    subcommand = admin.parse_subcommand(text)
    if subcommand is not None:
        await admin.run(subcommand, ack, command, flows, reply)
        return
    if not text.strip():  # the form, for people who would rather not type commands
        await ack()
        asked = DraftRequest(
            flows.library.default_kind, "", user_id, "form", command.get("team_id"),
            command.get("channel_id"),
        )  # fmt: skip
        if await access.turned_away(asked, reply):  # not a form they can't send
            return
        form = modals.draft_form(
            flows.library,
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
            kind=await presets.form_kind(flows, command.get("channel_id")),
        )
        help_text = previews.help_message(flows.library, flows.command)
        await flows.open_form(command["trigger_id"], form, reply, instead=help_text)
        return
    route = flows.library.route(text)
    if route.kind is None:
        await ack(**layout(previews.help_message(flows.library, flows.command)).messages[0])
        return
    if route.needs_details:
        await ack(text=previews.needs_details_text(route.kind, flows.command))
        return
    asker = Asker(user_id, command.get("team_id"), command.get("channel_id"))
    link = find_slack_link(route.text)
    if link is not None and link.ref is None:
        await ack(text=wording.BAD_SLACK_LINK)
        return
    if link is not None and link.ref is not None:
        await ack(text=wording.READING_CONVERSATION)
        await flows.draft_from_conversation(
            asker, route.kind, route.text, link.ref, reply, check_access=True, source="slash"
        )
        return
    # Slack shows "operation_timeout" unless we answer within 3 s: ack first, draft after.
    await ack(text=previews.working_text(route.kind))
    request = DraftRequest(
        kind=route.kind,
        text=route.text,
        user_id=user_id,
        source="slash",
        team_id=asker.team_id,
        channel_id=asker.channel_id,
        kind_named=not route.defaulted,
    )
    await flows.draft(request, reply)
