"""👍 / 👎 under a draft (Slack's feedback buttons or the plain ones), and the 👎's reason."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from handlers.blocks import modals
from handlers.blocks.feedback import REASON_BLOCK, REASON_CALLBACK
from handlers.feedback import add_reason, give_feedback
from handlers.flows import Flows

_FEEDBACK_ACTIONS = re.compile(r"^draft_feedback(_up|_down)?$")


def register(app: AsyncApp, command: str) -> None:
    app.action(_FEEDBACK_ACTIONS)(on_feedback)
    app.view(REASON_CALLBACK)(on_reason)


async def on_feedback(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], flows: Flows
) -> None:
    await ack()
    user_id = body["user"]["id"]
    value = str(action.get("value") or "")
    await give_feedback(flows, user_id, value, body.get("trigger_id"), body.get("response_url"))


async def on_reason(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], flows: Flows
) -> None:
    await ack()
    reason = modals.submitted(view, REASON_BLOCK)
    if reason:  # the 👎 itself was recorded at the click
        draft_id = str(modals.metadata(view).get("draft_id") or "")
        await add_reason(flows, body["user"]["id"], draft_id, reason)
