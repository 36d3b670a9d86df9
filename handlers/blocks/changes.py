"""The Changes modal: what changed from one version of a draft to the next, word by word,
as Slack's mrkdwn can show it: ~struck~ words taken out, *bold* words put in.

Both texts are shown as the preview showed them (`safe_draft`), escaped for mrkdwn, with the
draft's own formatting characters made inert so that only the diff's marks format anything.
Long diffs fill the modal's sections up to Slack's block limit, then end with a plain note.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from typing import Any

from bot import wording
from bot.slack_ids import BLOCKS_PER_MODAL, MODAL_TITLE_LIMIT, SECTION_LIMIT
from bot.versions import Version
from handlers.blocks.message import Block, context, section
from handlers.blocks.text import escape, safe_draft
from handlers.blocks.versions import version_label

CHANGES_CALLBACK = "draft_changes_modal"
_TOKENS = re.compile(r"\s+|\S+")
_PIECE = 500  # characters of one run marked at a time, so a section never splits a mark
# The draft's Markdown emphasis would fight the diff's own marks: `**` goes, and single
# marks become look-alikes that format nothing.
_INERT = str.maketrans({"*": "∗", "~": "∼", "`": "ˋ"})


def shown(text: str, typed: str) -> str:
    """A version as its preview showed it, safe inside mrkdwn and free of live marks."""
    return escape(safe_draft(text, typed)).replace("**", "").translate(_INERT)


def diff_fragments(before: str, after: str) -> list[str]:
    """`after` compared with `before`, as mrkdwn pieces that each format on their own."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    fragments: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        taken, put = "".join(old[i1:i2]), "".join(new[j1:j2])
        if op == "equal":
            fragments += _pieces(put, "")
            continue
        if taken.strip():
            fragments += _pieces(taken.rstrip() if put.strip() else taken, "~")
            if put.strip():
                fragments.append(" ")
        if put.strip():
            fragments += _pieces(put, "*")
        elif not taken.strip():  # only the spacing changed: show the new spacing
            fragments.append(put)
    return fragments


def _pieces(run: str, mark: str) -> Iterator[str]:
    """`run` with `mark` around each line's words (marks cannot span lines), cut into
    pieces of about `_PIECE` characters at spaces."""
    for number, line in enumerate(run.split("\n")):
        if number:
            yield "\n"
        while line:
            cut = len(line) if len(line) <= _PIECE else line.rfind(" ", 0, _PIECE) + 1 or _PIECE
            piece, line = line[:cut], line[cut:]
            core = piece.strip()
            if not mark or not core:
                yield piece
                continue
            start = piece.index(core)
            yield f"{piece[:start]}{mark}{core}{mark}{piece[start + len(core) :]}"


def _sections(fragments: list[str], room: int) -> tuple[list[str], bool]:
    """The fragments packed into at most `room` section texts; True when some were left out."""
    texts: list[str] = []
    current = ""
    for fragment in fragments:
        if len(current) + len(fragment) > SECTION_LIMIT:
            if len(texts) + 1 >= room:
                texts.append(current)
                return texts, True
            texts.append(current)
            current = ""
        current += fragment
    if current.strip():
        texts.append(current)
    return texts, False


def changes_modal(before: Version, after: Version, typed: str) -> dict[str, Any]:
    """What changed from `before` to `after` (`typed`: the request, whose mentions the
    preview kept live), with no submit button: it only shows."""
    names = {"before": version_label(before.tag), "after": version_label(after.tag)}
    fragments = diff_fragments(shown(before.text, typed), shown(after.text, typed))
    changed = any(part.strip() and part.strip()[0] in "~*" for part in fragments)
    blocks: list[Block]
    if not changed:
        blocks = [section(wording.CHANGES_NONE.format(**names))]
    else:
        texts, cut = _sections(fragments, BLOCKS_PER_MODAL - 2)
        blocks = [context(wording.CHANGES_INTRO.format(**names))]
        blocks += [section(text) for text in texts if text.strip()]
        if cut:
            blocks.append(context(wording.CHANGES_CUT))
    title = wording.CHANGES_TITLE.format(number=after.tag.number)[:MODAL_TITLE_LIMIT]
    return {
        "type": "modal",
        "callback_id": CHANGES_CALLBACK,
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": wording.CHANGES_CLOSE},
        "private_metadata": json.dumps({"versions": [before.tag.number, after.tag.number]}),
        "blocks": blocks,
    }
