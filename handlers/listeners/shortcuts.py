"""The "Summarize thread" and "Translate message" message shortcuts."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import wording
from bot.drafting import DraftRequest
from bot.slack_ids import MessageRef
from handlers import presets
from handlers.access import Access
from handlers.blocks import modals
from handlers.blocks.message import notice
from handlers.blocks.text import quoted_message
from handlers.flows import Asker, Flows

SUMMARIZE_CALLBACK = "summarize_thread"
TRANSLATE_CALLBACK = "translate_message"
FILE_CALLBACK = "draft_from_file"


def register(app: AsyncApp, command: str) -> None:
    app.shortcut(SUMMARIZE_CALLBACK)(on_summarize)
    app.shortcut(TRANSLATE_CALLBACK)(on_translate)
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


async def on_translate(ack: AsyncAck, shortcut: dict[str, Any], flows: Flows) -> None:
    """Translate the message into the person's Slack language, privately, with the buttons."""
    await ack()
    message, channel_id = shortcut["message"], shortcut["channel"]["id"]
    user_id = shortcut["user"]["id"]
    reply = flows.private_reply(shortcut.get("response_url"), user_id)
    if not (message.get("text") or "").strip():
        await reply.show(notice(wording.TRANSLATE_NOTHING))
        return
    # As for linked conversations: only what the person could read in Slack themselves.
    # The person sees the message, so a refusal means Slack could not confirm it (a DM or
    # private channel Draftbot is not in, Slack busy): say that, not "you're not in it".
    if await flows.cannot_read(user_id, channel_id) is not None:
        refusal = wording.TRANSLATE_CANNOT_CONFIRM.format(channel=channel_id, command=flows.command)
        await reply.show(notice(refusal))
        return
    # Into the person's Slack language: `flows.draft` adds it, as for a /draft that names none.
    request = DraftRequest(
        kind=flows.library.find("translate") or flows.library.default_kind,
        text=wording.TRANSLATE_REQUEST + quoted_message(message["text"]),
        user_id=user_id,
        source="shortcut",
        team_id=(shortcut.get("team") or {}).get("id"),
        channel_id=channel_id,
    )
    await flows.draft(request, reply, announce=True)


async def on_draft_from_file(
    ack: AsyncAck, shortcut: dict[str, Any], flows: Flows, access: Access
) -> None:
    """Open the draft form with the message's files attached (the person is looking at the
    message, so they may read its files), unless they may not use Draftbot there."""
    await ack()
    user_id = shortcut["user"]["id"]
    reply = flows.private_reply(shortcut.get("response_url"), user_id)
    files = [f for f in shortcut["message"].get("files") or [] if isinstance(f, dict)]
    if not files:
        await reply.tell(wording.NO_FILES_IN_MESSAGE)
        return
    asked = DraftRequest(
        flows.library.default_kind, "", user_id, "form", shortcut.get("team", {}).get("id"),
        shortcut["channel"]["id"],
    )  # fmt: skip
    if await access.turned_away(asked, reply):  # not a form they can't send
        return
    form = modals.draft_form(
        flows.library,
        channel_id=shortcut["channel"]["id"],
        response_url=shortcut.get("response_url"),
        files=[(str(f.get("id")), str(f.get("name") or f.get("title") or "")) for f in files],
        kind=await presets.form_kind(flows, shortcut["channel"]["id"]),
    )
    await flows.open_form(shortcut["trigger_id"], form, reply)
