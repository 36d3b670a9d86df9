"""`Outgoing`: what to show a person, before Slack's per-message limits are applied, and
`layout`, which turns it into the Slack messages a destination sends."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot import wording
from bot.slack_ids import BLOCKS_PER_MESSAGE, MARKDOWN_LIMIT, SECTION_LIMIT
from handlers.blocks.text import split_markdown

Block = dict[str, Any]
Payload = dict[str, Any]

FILE_PREVIEW_CHARS = 2_000


@dataclass(frozen=True)
class Outgoing:
    text: str  # the notification text ("": each part's own); the message if there's no body
    body: str = ""  # Markdown (a draft), split over as many messages as it needs
    blocks: tuple[Block, ...] = ()  # shown after the body: notes, notices
    actions: Block | None = None  # buttons: always on the last message the person sees
    file_name: str | None = None  # a body too long for the destination may go as this file
    file_title: str = ""

    def with_blocks(self, *blocks: Block, first: bool = False) -> Outgoing:
        added = (*blocks, *self.blocks) if first else (*self.blocks, *blocks)
        return replace(self, blocks=added)


@dataclass(frozen=True)
class Layout:
    messages: list[Payload] = field(default_factory=list)
    as_file: bool = False  # the body goes as a file; `messages` show its beginning


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def notice(text: str) -> Outgoing:
    return Outgoing(text=text, blocks=(section(text),))


def layout(
    out: Outgoing, max_messages: int | None = None, *, elsewhere: str = wording.SENT_AS_FILE
) -> Layout:
    """The messages that show `out`; when the body needs more than `max_messages`, the
    beginning only under `elsewhere`, saying where the whole body went (the destination
    puts `out.body` in a canvas or uploads it as a file)."""
    parts = split_markdown(out.body) if out.body else []
    tail = [*out.blocks, *([out.actions] if out.actions else [])]
    if max_messages is not None and len(parts) > max(max_messages, 1) and out.file_name:
        beginning = out.body[:FILE_PREVIEW_CHARS].rstrip() + "…"
        blocks = [section(elsewhere), _markdown(beginning), *tail]
        return Layout([{"text": elsewhere, "blocks": blocks}], as_file=True)
    if max_messages is not None:
        parts = parts[: max(max_messages, 1)]
    if not parts:
        only: Payload = {"text": out.text}
        if tail:
            only["blocks"] = tail[:BLOCKS_PER_MESSAGE]
        return Layout([only])
    messages: list[Payload] = [
        {"text": out.text or part, "blocks": [_markdown(part)]} for part in parts
    ]
    room = BLOCKS_PER_MESSAGE - 1 - (1 if out.actions else 0)
    messages[-1]["blocks"] += [*out.blocks[:room], *([out.actions] if out.actions else [])]
    return Layout(messages)


def _markdown(text: str) -> Block:
    return {"type": "markdown", "text": text[:MARKDOWN_LIMIT]}
