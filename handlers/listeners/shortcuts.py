"""The "Summarize thread" message shortcut."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import wording
from bot.slack_ids import MessageRef
from handlers.blocks import modals
from handlers.blocks.message import notice
from handlers.flows import Asker, Flows

SUMMARIZE_CALLBACK = "summarize_thread"
FILE_CALLBACK = "draft_from_file"


def register(app: AsyncApp, command: str) -> None:
    app.shortcut(SUMMARIZE_CALLBACK)(on_summarize)
    app.shortcut(FILE_CALLBACK)(on_draft_from_file)


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


async def on_draft_from_file(ack: AsyncAck, shortcut: dict[str, Any], flows: Flows) -> None:
    """Open the draft form with the message's files attached (the person is looking at the
    message, so they may read its files)."""
    await ack()
    user_id = shortcut["user"]["id"]
    reply = flows.private_reply(shortcut.get("response_url"), user_id)
    files = [f for f in shortcut["message"].get("files") or [] if isinstance(f, dict)]
    if not files:
        await reply.tell(wording.NO_FILES_IN_MESSAGE)
        return
    form = modals.draft_form(
        flows.library,
        channel_id=shortcut["channel"]["id"],
        response_url=shortcut.get("response_url"),
        files=[(str(f.get("id")), str(f.get("name") or f.get("title") or "")) for f in files],
    )
    await flows.open_form(shortcut["trigger_id"], form, reply)
