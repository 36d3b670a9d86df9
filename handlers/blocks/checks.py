"""Check before you post, in Block Kit (`bot.fact_check` finds what to say): the preview's
warnings, the confirm on its Post button, and the Edit form's second chance."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from bot import wording
from bot.draft_facts import facts_for
from bot.drafting import Draft
from bot.fact_check import Checked, check_draft, placeholders_in
from bot.slack_ids import CONFIRM_BUTTON_LIMIT, CONFIRM_TEXT_LIMIT, CONFIRM_TITLE_LIMIT
from handlers.blocks import modals
from handlers.blocks.message import Block, section
from handlers.blocks.text import escape, safe_draft

log = logging.getLogger(__name__)

CHECKS_SHOWN = 5  # findings listed on a preview; the rest are counted
PLACEHOLDERS_SHOWN = 8  # placeholders named on a preview and in the confirm


def checked(draft: Draft) -> Checked:
    """The draft's text checked against what its model read; recomputed for every text."""
    try:
        return check_draft(draft.text, draft.facts or facts_for(draft.request))
    except Exception as error:  # a bug in the check must never cost a draft its preview
        log.error("check before you post failed (%s)", type(error).__name__)
        return Checked()


def check_notes(checked: Checked) -> list[Block]:
    """One section: "⚠ check: *Thursday 14 March* in “…”" per finding (up to CHECKS_SHOWN),
    then the placeholders to fill in. The texts are model output: escaped, mentions inert."""
    lines = [
        wording.CHECK_FINDING.format(text=_inline(f.text), sentence=_inline(f.sentence))
        for f in checked.findings[:CHECKS_SHOWN]
    ]
    if (more := len(checked.findings) - CHECKS_SHOWN) > 0:
        lines.append(wording.CHECK_MORE.format(count=more))
    if checked.placeholders:
        listed = listed_placeholders([_inline(p) for p in checked.placeholders])
        lines.append(wording.CHECK_FILL_IN.format(placeholders=listed))
    return [section("\n".join(lines))] if lines else []


def post_confirm(placeholders: Sequence[str]) -> dict[str, Any] | None:
    """Block Kit's confirmation dialog for the Post button while placeholders remain."""
    if not placeholders:
        return None
    return {
        "title": _plain(wording.POST_CONFIRM_TITLE, CONFIRM_TITLE_LIMIT),
        "text": _plain(still_to_fill(wording.POST_CONFIRM_TEXT, placeholders), CONFIRM_TEXT_LIMIT),
        "confirm": _plain(wording.POST_CONFIRM_YES, CONFIRM_BUTTON_LIMIT),
        "deny": _plain(wording.POST_CONFIRM_NO, CONFIRM_BUTTON_LIMIT),
    }


def still_to_fill(sentence: str, placeholders: Sequence[str]) -> str:
    """`sentence` with {count} and {placeholders} filled in, naming as many as fit in a
    confirmation dialog."""
    count = wording.counted(len(placeholders), wording.PLACEHOLDER_ONE, wording.PLACEHOLDER_MANY)
    for shown in range(min(len(placeholders), PLACEHOLDERS_SHOWN), 0, -1):
        text = sentence.format(count=count, placeholders=listed_placeholders(placeholders, shown))
        if len(text) <= CONFIRM_TEXT_LIMIT:
            return text
    return sentence.format(count=count, placeholders="…")


def edit_still_to_fill(view: dict[str, Any], text: str) -> modals.View | None:
    """The Edit form again, saying which placeholders are left, when the submitted `text`
    has any it has not warned of yet; None when it may be posted."""
    left = placeholders_in(text)
    meta = modals.metadata(view)
    key = placeholders_key(left)
    if not left or meta.get("posting_anyway") == key:  # the ones warned of: post anyway
        return None
    warning = still_to_fill(
        wording.EDIT_STILL_HAS_PLACEHOLDERS, [_inline(placeholder) for placeholder in left]
    )
    return modals.edit_modal(
        str(meta.get("draft_id", "")),
        text,
        meta.get("response_url"),
        ask_for_channel="channel" in view["state"]["values"],
        warning=warning,
        posting_anyway=key,
        channel=modals.submitted(view, "channel") or None,
    )


def placeholders_key(placeholders: Sequence[str]) -> str:
    """A short key of a set of placeholders (16 hex digits of its SHA-256): the Edit form
    keeps it, not their texts, to know a second Post is for the same ones."""
    joined = "\n".join(sorted(set(placeholders)))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def listed_placeholders(placeholders: Sequence[str], shown: int = PLACEHOLDERS_SHOWN) -> str:
    named = ", ".join(placeholders[:shown])
    if len(placeholders) <= shown:
        return named
    return wording.CHECK_LIST_MORE.format(shown=named, count=len(placeholders) - shown)


def _inline(text: str) -> str:
    """A piece of the draft inside a line of mrkdwn: one line, its links honest and its
    mentions inert (`safe_draft`), escaped, no markup of its own."""
    text = escape(safe_draft(" ".join(text.split())))
    return text.replace("*", "").replace("`", "'").replace("~", "")


def _plain(text: str, limit: int) -> dict[str, str]:
    return {"type": "plain_text", "text": text[:limit]}
