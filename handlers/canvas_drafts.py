"""The "Open as canvas" button: a draft, exactly as its preview showed it, in a canvas the
author may edit and share when ready; where the workspace allows no canvas of its own, the
channel's canvas (said plainly), else a file in the author's DM. No model call, no usage row.
"""

from __future__ import annotations

import logging

from bot import wording
from bot.sessions import StoredDraft
from bot.storage.offloop import write_off_loop
from handlers.blocks.message import Outgoing
from handlers.blocks.text import safe_draft
from handlers.canvases import open_canvas
from handlers.flows import Flows
from handlers.replies import DirectMessageReply, Reply

log = logging.getLogger(__name__)


async def open_as_canvas(flows: Flows, user_id: str, draft_id: str, reply: Reply) -> None:
    sessions = flows.services.sessions
    try:  # the author only, and one canvas for a double click
        stored = await write_off_loop(sessions.claim, draft_id, user_id)
    except Exception as error:  # someone else's, expired, busy; or the database failing
        await reply.tell(flows.failure_message(error, f"opening draft {draft_id}").text)
        return
    try:
        said = await _put_where_its_author_can_open_it(flows, stored)
    finally:
        await write_off_loop(sessions.release, draft_id)
    await reply.tell(said)  # once the draft is free again for its other buttons


async def _put_where_its_author_can_open_it(flows: Flows, stored: StoredDraft) -> str:
    """A canvas, else a file in the DM; what to tell the author."""
    title = wording.CANVAS_TITLE.format(kind=stored.kind.name.capitalize())
    body = safe_draft(stored.text, stored.request)  # what the preview showed
    canvas = await open_canvas(
        flows.client, stored.user_id, title, body, channel_id=stored.channel_id
    )
    if canvas is not None:
        log.info("draft=%s opened as canvas=%s", stored.id, canvas.id)
        said = wording.CANVAS_IN_CHANNEL if canvas.channel_id else wording.CANVAS_READY
        return said.format(url=canvas.url, channel=canvas.channel_id)
    out = Outgoing(title, body, file_name=f"{stored.kind.name}-draft.md", file_title=title)
    if await DirectMessageReply(flows.client, stored.user_id).upload(out):
        return wording.CANVAS_AS_FILE
    return wording.CANVAS_UNAVAILABLE
