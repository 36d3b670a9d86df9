"""👍 / 👎 under a draft: Slack's `feedback_buttons` element (valid only inside a
`context_actions` block), or two plain buttons where Slack refuses that block
(DRAFTBOT_FEEDBACK_BUTTONS); and the optional one-line reason a 👎 asks for.

Each button's value is `up:<draft id>` or `down:<draft id>`: no text of the draft.
"""

from __future__ import annotations

import json
from typing import Any

from bot import wording
from bot.config import FeedbackButtons
from bot.draft_events import REASON_LIMIT
from handlers.blocks.message import Block, Outgoing

FEEDBACK_BLOCK_ID = "draft_feedback"
FEEDBACK_ACTION = "draft_feedback"  # Slack's feedback buttons: one element, two buttons
PLAIN_ACTIONS = {"up": "draft_feedback_up", "down": "draft_feedback_down"}
REASON_CALLBACK = "draft_feedback_reason"
REASON_BLOCK = "reason"


def feedback_block(draft_id: str, style: FeedbackButtons) -> Block | None:
    """The 👍 / 👎 block for a draft, or None when feedback is off."""
    labels = {"up": wording.LABEL_FEEDBACK_UP, "down": wording.LABEL_FEEDBACK_DOWN}
    alts = {"up": wording.FEEDBACK_UP_ALT, "down": wording.FEEDBACK_DOWN_ALT}
    if style == "off" or not draft_id:
        return None
    if style == "plain":
        buttons = [
            {
                "type": "button",
                "action_id": PLAIN_ACTIONS[side],
                "text": {"type": "plain_text", "text": labels[side], "emoji": True},
                "value": f"{side}:{draft_id}",
                "accessibility_label": alts[side],
            }
            for side in ("up", "down")
        ]
        return {"type": "actions", "block_id": FEEDBACK_BLOCK_ID, "elements": buttons}
    sides = {"up": "positive_button", "down": "negative_button"}
    element: Block = {"type": "feedback_buttons", "action_id": FEEDBACK_ACTION}
    for side, key in sides.items():
        element[key] = {
            "text": {"type": "plain_text", "text": labels[side], "emoji": True},
            "value": f"{side}:{draft_id}",
            "accessibility_label": alts[side],
        }
    return {"type": "context_actions", "block_id": FEEDBACK_BLOCK_ID, "elements": [element]}


def with_feedback(
    out: Outgoing, draft_id: str | None, style: FeedbackButtons, *, posted: bool = False
) -> Outgoing:
    """A preview with buttons (or, `posted`, the "Posted in #channel" confirmation) with the
    👍 / 👎 block after its notes, just above the draft's buttons; anything else (a refusal,
    an empty draft, a failure) as it was."""
    block = feedback_block(draft_id or "", style)
    if block is None or (out.actions is None and not posted):
        return out
    return out.with_blocks(block)


def plain_instead(message: dict[str, Any]) -> dict[str, Any] | None:
    """`message` with Slack's feedback buttons swapped for the plain ones, for a Slack that
    refused it (`invalid_blocks`); None when it has none to swap (the refusal is another)."""
    blocks = message.get("blocks") or []
    if not any(_is_native(block) for block in blocks):
        return None
    swapped = [_plain_copy(block) if _is_native(block) else block for block in blocks]
    return {**message, "blocks": swapped}


def _is_native(block: Block) -> bool:
    return block.get("type") == "context_actions" and block.get("block_id") == FEEDBACK_BLOCK_ID


def _plain_copy(block: Block) -> Block:
    value = str(block["elements"][0]["positive_button"]["value"])
    _, _, draft_id = value.partition(":")
    plain = feedback_block(draft_id, "plain")
    assert plain is not None
    return plain


def parse_value(value: str) -> tuple[str, str] | None:
    """`up:<draft id>` → ("up", draft id); None for anything else."""
    side, _, draft_id = value.partition(":")
    return (side, draft_id) if side in ("up", "down") and draft_id else None


def reason_modal(draft_id: str) -> Block:
    """After a 👎: one optional line saying what was wrong."""
    return {
        "type": "modal",
        "callback_id": REASON_CALLBACK,
        "title": {"type": "plain_text", "text": wording.FEEDBACK_REASON_TITLE},
        "submit": {"type": "plain_text", "text": wording.LABEL_FEEDBACK_SEND},
        "close": {"type": "plain_text", "text": wording.LABEL_CANCEL},
        "private_metadata": json.dumps({"draft_id": draft_id}),
        "blocks": [
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": wording.FEEDBACK_REASON_LABEL},
                "hint": {"type": "plain_text", "text": wording.FEEDBACK_REASON_HINT},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": False,
                    "max_length": REASON_LIMIT,
                },
            }
        ],
    }
