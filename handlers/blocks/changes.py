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
from collections.abc import Callable, Iterator
from typing import Any

from bot import wording
from bot.slack_ids import BLOCKS_PER_MODAL, MODAL_TITLE_LIMIT, SECTION_LIMIT
from bot.versions import Version
from handlers.blocks.message import Block, context, section
from handlers.blocks.text import escape, safe_draft
from handlers.blocks.versions import version_label

CHANGES_CALLBACK = "draft_changes_modal"
_WORDS = re.compile(r"\S+\s*")  # a word and the spacing after it
_COARSE_AFTER = 1_000_000
_PIECE = 500  # characters of one run marked at a time, so a section never splits a mark
# The draft's Markdown emphasis would fight the diff's own marks: `**` goes, and single
# marks become look-alikes that format nothing.
_INERT = str.maketrans({"*": "∗", "~": "∼", "`": "ˋ"})


def shown(text: str, typed: str) -> str:
    """A version as its preview showed it, safe inside mrkdwn and free of live marks."""
    return escape(safe_draft(text, typed)).replace("**", "").translate(_INERT)


def diff_fragments(before: str, after: str) -> list[str]:
    """`after` compared with `before`, as mrkdwn pieces that each format on their own: line
    by line first, then word by word within lines that changed (a change of spacing alone
    is none; the spacing shown is `after`'s)."""
    fragments: list[str] = []

    def add(run: str, mark: str) -> None:
        if mark and fragments and not fragments[-1][-1:].isspace():
            fragments.append(" ")  # a mark needs a space before it to format
        fragments.extend(_pieces(run, mark))

    def words(old: str, new: str) -> None:
        _word_diff(_WORDS.findall(old), _WORDS.findall(new), add)

    old_lines, new_lines = before.split("\n"), after.split("\n")
    # Blank lines are everywhere: as anchors they would make this quadratic in paragraphs.
    lines = difflib.SequenceMatcher(_blank, old_lines, new_lines, autojunk=False)
    for number, (op, i1, i2, j1, j2) in enumerate(lines.get_opcodes()):
        if number:
            fragments.append("\n")
        if op == "equal":
            add("\n".join(new_lines[j1:j2]), "")
        elif op == "replace" and i2 - i1 == j2 - j1:  # the same paragraphs, reworded
            for pair, (old, new) in enumerate(zip(old_lines[i1:i2], new_lines[j1:j2], strict=True)):
                fragments.extend(["\n"] if pair else [])
                words(old, new)
        else:
            words("\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2]))
    return fragments


def _blank(line: str) -> bool:
    return not line.strip()


def _word_diff(old: list[str], new: list[str], add: Callable[[str, str], None]) -> None:
    """Words (each with the spacing after it) taken out and put in."""
    # Past a million comparisons, words found everywhere stop anchoring matches: fast, if
    # coarser (one block of text rewritten throughout).
    coarse = len(old) * len(new) > _COARSE_AFTER
    matcher = difflib.SequenceMatcher(
        None, [w.rstrip() for w in old], [w.rstrip() for w in new], autojunk=coarse
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        taken, put = "".join(old[i1:i2]), "".join(new[j1:j2])
        if op == "equal":
            add(put, "")
            continue
        if taken:
            add(taken.rstrip() if put else taken, "~")
        if put:
            add(put, "*")


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
