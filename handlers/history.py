"""My drafts: `/draft history` and the Home tab's list, and their buttons. **Open** shows a
ready draft's preview again (its buttons work as before); **Post again** posts a posted
draft's last posted text again in the same channel, after the same checks as Post."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import wording
from bot.sessions import StoredDraft
from bot.storage.offloop import off_loop, write_off_loop
from handlers.access import CheckedFlows
from handlers.blocks import previews
from handlers.blocks.history import history_message, status_of
from handlers.blocks.message import notice
from handlers.failures import cannot_post_reason
from handlers.flows import Flows
from handlers.replies import Reply, post_to_channel

log = logging.getLogger(__name__)
HISTORY_LENGTH = 10  # the drafts listed, newest first


async def recent_drafts(flows: Flows, user_id: str) -> list[dict[str, Any]]:
    return await off_loop(flows.services.store.recent_drafts, user_id, HISTORY_LENGTH)


async def show_history(flows: Flows, user_id: str, reply: Reply) -> None:
    try:
        rows = await recent_drafts(flows, user_id)
    except Exception as error:  # the database: say so rather than nothing
        await reply.show(flows.failure_message(error, "listing drafts"))
        return
    await reply.show(history_message(rows, flows.command))


async def open_draft(flows: Flows, user_id: str, draft_id: str, reply: Reply) -> None:
    """The preview again, buttons and all, while the draft is kept and not finished."""
    stored = await flows.own_draft(draft_id, user_id, reply)
    if stored is None:
        return
    status = status_of({"status": stored.status})
    if status != "ready":
        await reply.tell(wording.HISTORY_NOT_READY.format(status=status))
        return
    draft = flows.services.sessions.as_draft(stored)
    preview = previews.draft_preview(draft, avoid=flows.library.avoid)
    await reply.show(flows.with_feedback(preview, draft_id))


async def post_again(flows: Flows, user_id: str, draft_id: str, reply: Reply) -> None:
    """The text last posted, in the channel it went to, if the person may still post there."""
    stored = await flows.own_draft(draft_id, user_id, reply)
    if stored is None:
        return
    if stored.status == "posting":  # another click is posting it right now
        await reply.tell(wording.DRAFT_BUSY)
        return
    if stored.status != "posted" or not stored.channel_id:
        status = status_of({"status": stored.status})
        await reply.tell(wording.HISTORY_NOT_POSTED.format(status=status))
        return
    # One at a time, as Post: a double click posts once ("posting" until it is done).
    store = flows.services.store
    if not await write_off_loop(store.claim_draft, draft_id, "posted", "posting"):
        await reply.tell(wording.DRAFT_BUSY)
        return
    try:
        await _post_again(flows, user_id, stored, stored.channel_id, reply)
    finally:
        await write_off_loop(store.update_draft, draft_id, status="posted")


async def _post_again(
    flows: Flows, user_id: str, stored: StoredDraft, where: str, reply: Reply
) -> None:
    draft_id = stored.id
    if isinstance(flows, CheckedFlows) and (
        refused := await flows.access.refused_draft(stored, "post", where)
    ):
        await reply.tell(refused)
        return
    try:
        if not await flows.people.check_member(user_id, where):
            log.info("refused to post draft=%s again: user=%s not in %s", draft_id, user_id, where)
            await reply.tell(wording.POST_NO_LONGER_A_MEMBER.format(channel=where))
            return
        out = previews.posted_draft(stored.text, user_id, typed=stored.request)
        await post_to_channel(flows.client, where, out)
    except SlackApiError as error:
        code = str(error.response.get("error"))
        log.info("could not post draft=%s again to %s: %s", draft_id, where, code)
        await reply.tell(cannot_post_reason(where, code))
        return
    except Exception as error:
        await reply.tell(flows.failure_message(error, f"posting draft {draft_id} again").text)
        return
    log.info("draft posted again draft=%s user=%s channel=%s", draft_id, user_id, where)
    await flows.services.sessions.events.record(
        draft_id, user_id, "posted", kind=stored.kind.name, channel_id=where, detail="again"
    )
    posted = notice(wording.POSTED.format(channel=where))
    await reply.show(flows.with_feedback(posted, draft_id, posted=True))
