"""👍 / 👎 on a draft: recorded as a `feedback` event (bot/draft_events.py) with the draft's
id, kind and version, never its text; a 👎 then asks for an optional one-line reason.

Only the draft's author sees its preview and confirmation, and only they may rate it. A
person may change their mind: every click is an event, and the reports count the last.
"""

from __future__ import annotations

import logging

from bot import wording
from handlers.blocks.feedback import parse_value, reason_modal
from handlers.flows import Flows
from handlers.replies import Reply

log = logging.getLogger(__name__)


async def give_feedback(
    flows: Flows, user_id: str, value: str, trigger_id: str | None, response_url: str | None
) -> None:
    """A click on 👍 or 👎 (`value`: `up:<draft id>` or `down:<draft id>`)."""
    reply = flows.private_reply(response_url, user_id)
    parsed = parse_value(value)
    if parsed is None:
        log.info("ignored feedback with an unexpected value from user=%s", user_id)
        return
    side, draft_id = parsed
    if not await record(flows, user_id, draft_id, side, reply=reply):
        return
    if side == "down" and trigger_id:
        await flows.open_form(trigger_id, reason_modal(draft_id), reply)
        return
    await reply.tell(wording.FEEDBACK_THANKS)


async def record(
    flows: Flows,
    user_id: str,
    draft_id: str,
    side: str,
    *,
    reason: str | None = None,
    reply: Reply | None = None,
) -> bool:
    """Record one rating of the person's own draft; False once they were told why not."""
    try:
        stored = await flows.load_draft(draft_id, user_id)
    except Exception as error:  # someone else's, expired; or the database failing
        if reply is not None:
            await reply.tell(flows.failure_message(error, f"rating draft {draft_id}").text)
        return False
    await flows.services.sessions.events.record(
        draft_id, user_id, "feedback", kind=stored.kind.name, detail=side, reason=reason
    )
    log.info("feedback %s on draft=%s user=%s", side, draft_id, user_id)  # never the reason
    return True


async def add_reason(flows: Flows, user_id: str, draft_id: str, reason: str) -> None:
    """The 👎's optional reason, on the 👎 recorded at the click (never logged)."""
    await flows.services.sessions.events.add_reason(draft_id, user_id, reason)
