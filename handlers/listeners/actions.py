"""Buttons under a draft preview: post, refine, edit, open as canvas, discard; and its
versions: Changes, Back to."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import wording
from bot.slack_ids import PLAIN_INPUT_LIMIT
from handlers.blocks import modals
from handlers.blocks.text import safe_draft
from handlers.canvas_drafts import open_as_canvas
from handlers.flows import Flows
from handlers.versions import restore, selected_value, show_changes

_REFINE_ACTIONS = re.compile(r"^draft_(regenerate|shorter|longer|continue|fix_style)$")


def register(app: AsyncApp, command: str) -> None:
    app.action(_REFINE_ACTIONS)(on_refine)
    app.action("draft_tone")(on_tone)
    app.action("draft_post")(on_post)
    app.action("draft_edit")(on_edit)
    app.action("draft_discard")(on_discard)
    app.action("draft_canvas")(on_canvas)
    app.action("draft_changes")(on_changes)
    app.action("draft_restore")(on_restore)


async def on_refine(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    name = action["action_id"].removeprefix("draft_")
    reply = flows.private_reply(body.get("response_url"), user_id)
    await flows.refine(user_id, action["value"], name, reply)


async def on_tone(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    tone, _, draft_id = action["selected_option"]["value"].partition(":")
    await flows.refine(
        user_id, draft_id, tone, flows.private_reply(body.get("response_url"), user_id)
    )


async def on_post(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    if (stored := await flows.own_draft(action["value"], user_id, reply)) is None:
        return
    if not stored.channel_id:  # written in the Messages tab: ask where it should go
        view = modals.choose_channel_modal(stored.id, body.get("response_url"))
        await flows.open_form(body["trigger_id"], view, reply)
        return
    await flows.post_and_confirm(user_id, stored.id, reply)


async def on_edit(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    if (stored := await flows.own_draft(action["value"], user_id, reply)) is None:
        return
    text = safe_draft(stored.text, stored.request)  # the draft as the preview showed it
    if len(text) > PLAIN_INPUT_LIMIT:
        await reply.tell(wording.EDIT_TOO_LONG)
        return
    view = modals.edit_modal(
        stored.id, text, body.get("response_url"), ask_for_channel=not stored.channel_id
    )
    await flows.open_form(body["trigger_id"], view, reply)


async def on_canvas(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    await open_as_canvas(flows, user_id, action["value"], reply)


async def on_discard(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    try:
        await flows.discard(action["value"], user_id)
    except Exception as error:  # someone else's, expired; or the database failing
        problem = flows.failure_message(error, "discarding a draft")
        await flows.private_reply(body.get("response_url"), user_id).tell(problem.text)
        return
    await respond(delete_original=True)


async def on_changes(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    await show_changes(flows, user_id, action["value"], body["trigger_id"], reply)


async def on_restore(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    await restore(flows, user_id, selected_value(action), reply)
