"""My drafts' buttons: Open and Post again (the list itself: `/draft history`, the Home tab)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from handlers.blocks.history import OPEN_ACTION, POST_AGAIN_ACTION
from handlers.flows import Flows
from handlers.history import open_draft, post_again


def register(app: AsyncApp, command: str) -> None:
    app.action(OPEN_ACTION)(on_open)
    app.action(POST_AGAIN_ACTION)(on_post_again)


async def on_open(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    await open_draft(flows, user_id, str(action["value"]), reply)


async def on_post_again(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    reply = flows.private_reply(body.get("response_url"), user_id)
    await post_again(flows, user_id, str(action["value"]), reply)
