"""Modal submissions: the draft form, the Edit form, and "where should this go?"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import wording
from bot.drafting import DraftRequest
from handlers import access_admin, presets
from handlers.blocks import checks, modals, previews
from handlers.blocks.admin_modals import ACCESS_CALLBACK, PRESET_CALLBACK
from handlers.blocks.message import notice
from handlers.blocks.text import plain
from handlers.flows import Flows, file_stub


def register(app: AsyncApp, command: str) -> None:
    app.view(modals.FORM_CALLBACK)(on_form)
    app.view(modals.EDIT_CALLBACK)(on_edit)
    app.view(modals.CHANNEL_CALLBACK)(on_choose_channel)
    app.view(PRESET_CALLBACK)(presets.on_preset_form)
    app.view(ACCESS_CALLBACK)(access_admin.on_access_form)


async def on_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], flows: Flows) -> None:
    if len(modals.submitted(view, "details")) < 3:
        await ack(response_action="errors", errors={"details": wording.FORM_DETAILS_TOO_SHORT})
        return
    user = body["user"]
    channel = modals.submitted(view, "channel")
    if channel and not await flows.can_post_in(user["id"], channel):
        await ack(response_action="errors", errors={"channel": _not_a_member(channel)})
        return
    await ack()
    meta = modals.metadata(view)
    kind = flows.library.find(modals.submitted(view, "kind")) or flows.library.default_kind
    request = DraftRequest(
        kind=kind,
        text=modals.form_request_text(kind.name, view),
        user_id=user["id"],
        source="form",
        team_id=user.get("team_id") or body.get("team", {}).get("id"),
        channel_id=channel or meta.get("channel_id"),
    )
    reply = flows.private_reply(meta.get("response_url"), user["id"])
    if meta.get("file_ids"):  # from "Draft from this file…"
        await reply.update(notice(previews.working_text(kind)))
        stubs = [file_stub(str(file_id)) for file_id in meta["file_ids"]]
        await flows.draft_from_files(request, stubs, reply)
        return
    await flows.draft(request, reply, announce=bool(meta.get("response_url")))


async def on_edit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], flows: Flows) -> None:
    text = modals.submitted(view, "text")
    if not text:
        await ack(response_action="errors", errors={"text": wording.EDIT_EMPTY})
        return
    if warned := checks.edit_still_to_fill(view, text):  # placeholders: ask once more
        await ack(response_action="update", view=warned)
        return
    await _post_from_form(ack, body, view, flows, text=text, error_block="text")


async def on_choose_channel(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], flows: Flows
) -> None:
    await _post_from_form(ack, body, view, flows, text=None, error_block="channel")


async def _post_from_form(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    flows: Flows,
    *,
    text: str | None,
    error_block: str,
) -> None:
    """Post before closing the form, so a refusal shows in the form, not in thin air."""
    user_id = body["user"]["id"]
    meta = modals.metadata(view)
    asks_channel = "channel" in view["state"]["values"]
    channel = modals.submitted(view, "channel") or None
    if asks_channel and (not channel or not await flows.can_post_in(user_id, channel)):
        await ack(response_action="errors", errors={"channel": _not_a_member(channel)})
        return
    try:
        problem = await flows.post(user_id, meta["draft_id"], text=text, channel=channel)
    except Exception as error:
        problem = flows.failure_message(error, f"posting draft {meta['draft_id']}").text
    if problem:
        await ack(response_action="errors", errors={error_block: plain(problem)})
        return
    await ack()
    posted_in = channel or (await flows.load_draft(meta["draft_id"], user_id)).channel_id or ""
    await flows.confirm_posted(meta.get("response_url"), user_id, posted_in, meta["draft_id"])


def _not_a_member(channel: str | None) -> str:
    return plain(wording.POST_NOT_A_MEMBER.format(channel=channel))
