"""A preview's version: its label ("v3 · shorter") and, from v2 on, Changes and Back to."""

from __future__ import annotations

from bot import wording
from bot.drafting import Draft
from bot.versions import VersionTag, current, earlier
from handlers.blocks.message import Block, context

VERSIONS_BLOCK_ID = "draft_versions"


def made_by(tag: VersionTag) -> str:
    """What made a version, in words: "shorter", "restored v2"."""
    words = wording.VERSION_MADE_BY.get(tag.made_by, tag.made_by.replace("_", " "))
    return words.format(number=tag.restored_from)


def version_label(tag: VersionTag) -> str:
    return wording.VERSION_LABEL.format(number=tag.number, made_by=made_by(tag))


def version_blocks(draft: Draft) -> list[Block]:
    """The label, and from v2 on the buttons to compare and go back. Buttons carry only the
    draft id, like every preview button (Changes: the current version against the one
    before it; Back to: the one before it); the menu's options carry "version:draft id"."""
    if not draft.draft_id:
        return []
    now = current(draft.versions)
    blocks: list[Block] = [context(version_label(now))]
    older = earlier(draft.versions)
    if not older:
        return blocks
    changes: Block = {
        "type": "button",
        "action_id": "draft_changes",
        "text": {"type": "plain_text", "text": wording.LABEL_CHANGES},
        "value": draft.draft_id,
    }
    back: Block
    if len(older) == 1:  # one way back: say where it goes
        back = {
            "type": "button",
            "action_id": "draft_restore",
            "text": {
                "type": "plain_text",
                "text": wording.LABEL_BACK_TO.format(number=older[0].number),
            },
            "value": draft.draft_id,
        }
    else:  # newest first: the one just before is the likeliest
        back = {
            "type": "static_select",
            "action_id": "draft_restore",
            "placeholder": {"type": "plain_text", "text": wording.LABEL_BACK_TO_MENU},
            "options": [
                {
                    "text": {"type": "plain_text", "text": version_label(tag)},
                    "value": f"{tag.number}:{draft.draft_id}",
                }
                for tag in older
            ],
        }
    blocks.append({"type": "actions", "block_id": VERSIONS_BLOCK_ID, "elements": [changes, back]})
    return blocks
