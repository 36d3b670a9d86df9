"""A preview's version: its label ("v3 · shorter") and, from v2 on, Changes and Back to."""

from __future__ import annotations

from dataclasses import dataclass

from bot import wording
from bot.drafting import Draft
from bot.versions import VersionTag, current, earlier
from handlers.blocks.message import Block, context

VERSIONS_BLOCK_ID = "draft_versions"


@dataclass(frozen=True)
class VersionRef:
    """What a Changes or Back to control carries: the draft, the version the preview showed
    (None from buttons made before it was carried) and, for Back to, the version to restore
    (None: the one before the current, as old buttons meant)."""

    draft_id: str
    shown: int | None = None
    target: int | None = None


def version_value(draft_id: str, shown: int, target: int | None = None) -> str:
    """A control's value: "shown:draft id" (Changes), "target:shown:draft id" (Back to).
    Draft ids are hex, so short: far inside Slack's 2,000-character limit for a value."""
    return f"{shown}:{draft_id}" if target is None else f"{target}:{shown}:{draft_id}"


def changes_ref(value: str) -> VersionRef:
    """A Changes value; a bare draft id (an old button) means the current version."""
    shown, _, draft_id = value.rpartition(":")
    return VersionRef(draft_id, _number(shown))


def restore_ref(value: str) -> VersionRef:
    """A Back to value: "target:shown:id"; older ones "target:id" (a menu's option) or the
    draft id alone (the button)."""
    *numbers, draft_id = value.split(":")
    if len(numbers) >= 2:
        return VersionRef(draft_id, _number(numbers[1]), _number(numbers[0]))
    return VersionRef(draft_id, None, _number(numbers[0]) if numbers else None)


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def made_by(tag: VersionTag) -> str:
    """What made a version, in words: "shorter", "restored v2"."""
    words = wording.VERSION_MADE_BY.get(tag.made_by, tag.made_by.replace("_", " "))
    return words.format(number=tag.restored_from)


def version_label(tag: VersionTag) -> str:
    return wording.VERSION_LABEL.format(number=tag.number, made_by=made_by(tag))


def version_blocks(draft: Draft) -> list[Block]:
    """The label, and from v2 on the buttons to compare and go back. Each carries the
    version this preview shows (Changes compares that one with the one before it; Back to
    does nothing twice: see handlers/versions.restore), Back to also the one it restores."""
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
        "value": version_value(draft.draft_id, now.number),
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
            "value": version_value(draft.draft_id, now.number, older[0].number),
        }
    else:  # newest first: the one just before is the likeliest
        back = {
            "type": "static_select",
            "action_id": "draft_restore",
            "placeholder": {"type": "plain_text", "text": wording.LABEL_BACK_TO_MENU},
            "options": [
                {
                    "text": {"type": "plain_text", "text": version_label(tag)},
                    "value": version_value(draft.draft_id, now.number, tag.number),
                }
                for tag in older
            ],
        }
    blocks.append({"type": "actions", "block_id": VERSIONS_BLOCK_ID, "elements": [changes, back]})
    return blocks
