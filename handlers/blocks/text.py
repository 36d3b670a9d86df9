"""Text that goes back into Slack: mentions made inert, Slack data escaped, links made
honest, long Markdown split."""

from __future__ import annotations

import html
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
from handlers.blocks.links import (
    FENCE_CLOSES,
    FENCE_OPENS,
    WORD_JOINER,
    defused,
    honest,
    honest_code,
    typed_mentions,
    unfinished_from,
    unfinished_token_from,
)

_FENCE = re.compile(r"^\s*(```|~~~)")
_HOLD_AT_MOST = 300  # characters of streamed text held back while a token may be unfinished


def neutralize_mentions(text: str) -> str:
    """Make `<!here>`, `<!channel>`, `<!everyone>`, `@here`… and user-group mentions inert."""
    text = BROADCAST_TOKEN.sub(lambda m: f"@{WORD_JOINER}{m.group(1).lower()}", text)
    text = SUBTEAM_TOKEN.sub(lambda m: f"@{WORD_JOINER}{m.group(1) or 'group'}", text)
    return BROADCAST_WORD.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def escape(text: str) -> str:
    """Slack data (a name, a channel name) made safe to put inside mrkdwn or markdown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralize_mentions(text)


def plain(text: str) -> str:
    """Form errors are plain text: turn Slack markup into readable words."""
    text = CHANNEL_MENTION.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = USER_MENTION.sub(lambda m: f"@{m.group(1)}", text)
    return text.replace("`", "").replace("*", "")


def quoted_message(text: str) -> str:
    """A Slack message as the model reads it after a request: data between `<message>` tags,
    with `&`, `<` and `>` escaped, so it can neither close the tag nor carry a live mention
    (as `handlers.conversations.conversation_material` quotes a conversation)."""
    return f":\n\n<message>\n{html.escape(text.strip(), quote=False)}\n</message>"


def safe_draft(text: str, typed: str = "") -> str:
    """Model output made safe to show, and to post in a person's name.

    - Broadcasts and user-group mentions are inert (`neutralize_mentions`), and so is every
      user mention (`<@U…>` becomes `@U…`) except those the person typed in `typed`, their
      own request.
    - Only http(s) links stay links: a `javascript:`, `data:` or relative link, in Slack's
      `<url|label>` form or Markdown's `[label](url)`, becomes its label as plain text
      (a `mailto:` link its label and address).
    - A link's label shows where the link goes: unless the label is that host's own address,
      the real host follows it (`paypal.com (evil.example)`, `Click here (evil.example)`).

    Code keeps its text (`<xsl:if>`, `arr[i](x)`), but for mentions and labelled or script
    links. Applying it twice changes nothing more.
    """
    return neutralize_mentions(honest(text, typed_mentions(typed)))


class MentionSafeText:
    """`safe_draft` for streamed text: what it returns, piece by piece, adds up to
    `safe_draft` of the whole, holding back what may still be cut in half (`<!he` + `re>`,
    `[paypal.com](https://ev` + `il.example)`, an open code span) until the next piece shows
    how it ends; inside a code block, pieces are read as code. (Should a later piece change
    what came before, the pieces may differ from the whole: the finished draft is then
    shown whole.)"""

    def __init__(self, typed: str = "") -> None:
        self.allowed = typed_mentions(typed)
        self.raw = ""  # everything fed
        self.released = 0  # how much of `raw` has been made safe and returned
        self.in_code = False  # inside a code block at `released`
        # Once a `[label` was released unfinished, a later `](url)` must not complete it.
        self.label_released = False

    def feed(self, piece: str) -> str:
        self.raw += piece
        if self.label_released:  # only the part not released yet (a `](` may span two pieces)
            tail = self.raw[self.released :].replace("](", f"]{WORD_JOINER}(")
            self.raw = self.raw[: self.released] + tail
        cut = unfinished_from(self.raw, self.released, in_code=self.in_code)
        if cut is not None and len(self.raw) - cut >= _HOLD_AT_MOST:  # waited long enough
            self.label_released = self.label_released or self.raw[cut] in "[!"
            cut = unfinished_token_from(self.raw, self.released)
        if cut is None or len(self.raw) - cut >= _HOLD_AT_MOST:
            self.raw = defused(self.raw, self.released)  # never released raw
            cut = len(self.raw)
        return self._release(cut)

    def flush(self) -> str:
        return self._release(len(self.raw))

    def _release(self, cut: int) -> str:
        pieces: list[str] = []
        position = self.released
        while position < cut:
            fence = (FENCE_CLOSES if self.in_code else FENCE_OPENS).search(self.raw, position, cut)
            if self.in_code:
                end = fence.end() if fence else cut
                pieces.append(honest_code(self.raw[position:end], self.allowed))
            elif fence is None:
                end = cut
                pieces.append(honest(self.raw[position:end], self.allowed))
            else:  # prose up to the fence, then its first line, as code
                line_end = self.raw.find("\n", fence.start(), cut)
                end = cut if line_end < 0 else line_end + 1
                pieces.append(honest(self.raw[position : fence.start()], self.allowed))
                pieces.append(honest_code(self.raw[fence.start() : end], self.allowed))
            if fence is not None:
                self.in_code = not self.in_code
            position = end
        self.released = max(self.released, cut)
        return neutralize_mentions("".join(pieces))


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
