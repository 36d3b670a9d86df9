"""My drafts: the person's recent drafts (`/draft history`, the Home tab), each with its
kind, status, when and first words, and **Open** / **Post again** where they still work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import wording
from handlers.blocks.message import Block, Outgoing, context, section
from handlers.blocks.text import escape, neutralize_mentions

OPEN_ACTION = "history_open"
POST_AGAIN_ACTION = "history_post_again"
FIRST_WORDS = 12
_FORMATTING = str.maketrans("", "", "*_~`")


def status_of(row: dict[str, Any]) -> str:
    """ready / posted / discarded / expired, from the draft (while kept) or its events."""
    if row.get("status") is not None:  # still retained
        status = str(row["status"])
        return {"working": "ready", "posting": "posted"}.get(status, status)
    return "expired" if row.get("ended") in (None, "expired") else str(row["ended"])


def first_words(text: str) -> str:
    """The draft's first words, as inert text: no mentions, links or formatting."""
    words = text.split()
    shown = " ".join(words[:FIRST_WORDS]) + ("…" if len(words) > FIRST_WORDS else "")
    return escape(neutralize_mentions(shown).translate(_FORMATTING))


def when(at: str) -> str:
    """Slack shows the date in the reader's own time zone; the fallback is UTC."""
    moment = datetime.fromisoformat(at)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def draft_rows(rows: list[dict[str, Any]]) -> list[Block]:
    """Two blocks per draft: what it is, and its buttons (when any still work)."""
    blocks: list[Block] = []
    for row in rows:
        status = status_of(row)
        line = wording.HISTORY_LINE.format(
            kind=escape(str(row.get("kind") or "")),
            status=wording.HISTORY_STATUS[status],
            when=when(str(row["at"])),
        )
        words = first_words(row["text"]) if row.get("text") else wording.HISTORY_NO_TEXT
        blocks.append(section(f"{line}\n{words}"))
        buttons = []
        if status == "ready":
            buttons.append(_button(OPEN_ACTION, wording.LABEL_HISTORY_OPEN, row["draft_id"]))
        if status == "posted" and row.get("text"):
            label = wording.LABEL_HISTORY_POST_AGAIN
            buttons.append(_button(POST_AGAIN_ACTION, label, row["draft_id"]))
        if buttons:
            block_id = f"history_{row['draft_id']}"
            blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})
    return blocks


def history_blocks(rows: list[dict[str, Any]], command: str) -> list[Block]:
    """The heading and the drafts, or a line saying there are none yet."""
    if not rows:
        return [
            section(wording.HISTORY_HEADING),
            context(wording.HISTORY_EMPTY.format(command=command)),
        ]
    return [section(wording.HISTORY_HEADING), *draft_rows(rows)]


def history_message(rows: list[dict[str, Any]], command: str) -> Outgoing:
    return Outgoing(text=wording.HISTORY_HEADING, blocks=tuple(history_blocks(rows, command)))


def _button(action_id: str, label: str, draft_id: str) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": draft_id,
    }
