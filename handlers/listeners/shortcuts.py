"""The "Summarize thread" message shortcut."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import wording
from bot.slack_ids import MessageRef
from handlers.blocks.message import notice
from handlers.flows import Asker, Flows

SUMMARIZE_CALLBACK = "summarize_thread"


def register(app: AsyncApp, command: str) -> None:
    app.shortcut(SUMMARIZE_CALLBACK)(on_summarize)


async def on_summarize(ack: AsyncAck, shortcut: dict[str, Any], flows: Flows) -> None:
    """Read the thread the shortcut was used on and draft its summary privately."""
    await ack()
    message = shortcut["message"]
    channel_id = shortcut["channel"]["id"]
    ref = MessageRef(channel_id=channel_id, ts=message["ts"], thread_ts=message.get("thread_ts"))
    user_id = shortcut["user"]["id"]
    asker = Asker(user_id, (shortcut.get("team") or {}).get("id"), channel_id)
    reply = flows.private_reply(shortcut.get("response_url"), user_id)
    await reply.update(notice(wording.READING_CONVERSATION))
    kind = flows.library.find("summary") or flows.library.default_kind
    # The person is looking at the message, so they can read it: no access check needed.
    await flows.draft_from_conversation(
        asker, kind, wording.SUMMARIZE_REQUEST, ref, reply, check_access=False, source="shortcut"
    )
