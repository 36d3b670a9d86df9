"""Text that goes back into Slack: mentions made inert, Slack data escaped, long Markdown split."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.slack_ids import (
    BROADCAST_TOKEN,
    BROADCAST_WORD,
    CHANNEL_MENTION,
    MARKDOWN_LIMIT,
    SUBTEAM_TOKEN,
    USER_MENTION,
)

# A word joiner after "@" keeps the text readable but stops Slack from notifying anyone.
_WORD_JOINER = "\u2060"
_FENCE = re.compile(r"^\s*(```|~~~)")
_UNFINISHED_TOKEN = re.compile(r"(<[^<>]*|@\w*)$")


def neutralize_mentions(text: str) -> str:
    """Make `<!here>`, `<!channel>`, `<!everyone>`, `@here`… and user-group mentions inert."""
    text = BROADCAST_TOKEN.sub(lambda m: f"@{_WORD_JOINER}{m.group(1).lower()}", text)
    text = SUBTEAM_TOKEN.sub(lambda m: f"@{_WORD_JOINER}{m.group(1) or 'group'}", text)
    return BROADCAST_WORD.sub(lambda m: f"@{_WORD_JOINER}{m.group(1)}", text)


def escape(text: str) -> str:
    """Slack data (a name, a channel name) made safe to put inside mrkdwn or markdown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralize_mentions(text)


def plain(text: str) -> str:
    """Form errors are plain text: turn Slack markup into readable words."""
    text = CHANNEL_MENTION.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = USER_MENTION.sub(lambda m: f"@{m.group(1)}", text)
    return text.replace("`", "").replace("*", "")


class MentionSafeText:
    """Neutralises mentions in streamed text, holding back a token that may still be
    cut in half (`<!he` + `re>`) until the next piece shows how it ends."""

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        match = _UNFINISHED_TOKEN.search(self.pending)
        cut = match.start() if match and len(match.group(0)) < 64 else len(self.pending)
        ready, self.pending = self.pending[:cut], self.pending[cut:]
        return neutralize_mentions(ready)

    def flush(self) -> str:
        ready, self.pending = self.pending, ""
        return neutralize_mentions(ready)


# ------------------------------------------------------------------ splitting


@dataclass(frozen=True)
class _CodeBlock:
    opening: str  # "```python\n"
    body: list[str]
    closing: str | None  # None: the draft stopped inside the block

    @property
    def lines(self) -> list[str]:
        return [self.opening, *self.body, *([self.closing] if self.closing else [])]


def split_markdown(text: str, limit: int = MARKDOWN_LIMIT) -> list[str]:
    """Split Markdown into parts of at most `limit` characters, between lines.

    Parts end at paragraph breaks where they can. A code block that fits in one part is
    never split: it moves whole to the next part. Only a block longer than a part is split,
    on line boundaries, each piece closed and reopened with the block's own fence line, so
    every part renders (and copies) correctly on its own.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        if current:
            parts.append("".join(current))
        current, size = [], 0

    def add(lines: list[str]) -> None:
        nonlocal size
        length = sum(map(len, lines))
        if current and size + length > limit:
            flush()
        current.extend(lines)
        size += length

    for unit in _units(text, limit):
        if isinstance(unit, list):
            add(unit)
        elif len("".join(unit.lines)) <= limit:
            add(unit.lines)
        else:
            for piece in _code_pieces(unit, limit, first_room=limit - size):
                add(piece)
    flush()
    return [part.strip("\n") for part in parts if part.strip()]


def _units(text: str, limit: int) -> list[list[str] | _CodeBlock]:
    """Paragraphs (lists of lines, each at most `limit` long) and code blocks, in order."""
    lines = [line if line.endswith("\n") else line + "\n" for line in text.splitlines(True)]
    units: list[list[str] | _CodeBlock] = []
    paragraph: list[str] = []

    def end_paragraph() -> None:
        nonlocal paragraph
        if sum(map(len, paragraph)) <= limit:
            units.append(paragraph) if paragraph else None
        else:
            units.extend([piece] for piece in _wrap(paragraph, limit - 1))
        paragraph = []

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence is None:
            paragraph.append(line)
            if not line.strip():
                end_paragraph()
            index += 1
            continue
        end_paragraph()
        marker = fence.group(1)
        end = index + 1
        while end < len(lines) and not lines[end].lstrip().startswith(marker):
            end += 1
        closing = lines[end] if end < len(lines) else None
        units.append(_CodeBlock(line, lines[index + 1 : end], closing))
        index = end + 1
    end_paragraph()
    return units


def _code_pieces(block: _CodeBlock, limit: int, first_room: int) -> list[list[str]]:
    """A code block too long for one part, as fenced pieces of at most `limit` characters;
    the first piece fits in `first_room` when that leaves space for a few lines."""
    fence_close = _FENCE.match(block.opening).group(0) + "\n"  # type: ignore[union-attr]
    overhead = len(block.opening) + len(fence_close)
    body = _wrap(block.body, limit - overhead - 1)
    room = first_room - overhead if first_room - overhead >= limit // 4 else limit - overhead
    pieces: list[list[str]] = []
    chunk: list[str] = []
    used = 0
    for line in body:
        if chunk and used + len(line) > room:
            pieces.append([block.opening, *chunk, fence_close])
            chunk, used, room = [], 0, limit - overhead
        chunk.append(line)
        used += len(line)
    pieces.append([block.opening, *chunk, *([block.closing] if block.closing else [])])
    return pieces


def _wrap(lines: list[str], width: int) -> list[str]:
    """Lines longer than `width` cut into pieces (the only way such a line fits at all)."""
    wrapped: list[str] = []
    for line in lines:
        while len(line) > width:
            wrapped.append(line[:width] + "\n")
            line = line[width:]
        wrapped.append(line)
    return wrapped
