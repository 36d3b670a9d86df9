"""The facts a draft may repeat: what the model read for it, as `bot.fact_check.Facts`.

Read from the request, the conversation transcript, the text of the files and the company
pack once, when the draft is made, and kept in memory beside the draft's id (normalised
values only, never the text itself, and never logged): the transcript and the file text
are not stored with the draft, and refinements other than Regenerate and Continue do not
read them again. A draft whose facts are not kept (Draftbot restarted, another instance
made it) is checked against its request alone, and, when it was read from a conversation
or files, for placeholders only: every finding might be in what was not kept.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from bot.drafting import DraftRequest
from bot.fact_check import Facts, known_facts

log = logging.getLogger(__name__)

# Drafts whose facts are kept; the oldest are forgotten first (a few KB each).
KEPT_DRAFTS = 2_000


def facts_for(request: DraftRequest, company: str | None = None, *, whole: bool = True) -> Facts:
    """`whole`: the request carries all its material (not a stored draft read again)."""
    texts = [request.text, request.material, company or ""]
    complete = whole
    for file in request.files:
        if file.block.get("type") == "text":
            texts.append(str(file.block.get("text", "")))
        else:  # a PDF or an image: read by the model, not by this check
            complete = False
    try:
        return known_facts(texts, complete=complete)
    except Exception as error:  # a bug in the check must never cost a draft
        log.error("check before you post: could not read the material (%s)", type(error).__name__)
        return Facts(complete=False)


def joined(first: Facts, second: Facts) -> Facts:
    return Facts(first.keys | second.keys, first.complete or second.complete)


class KeptFacts:
    """Facts by draft id, at most `limit` of them (least recently used forgotten)."""

    def __init__(self, limit: int = KEPT_DRAFTS) -> None:
        self.limit = limit
        self._facts: OrderedDict[str, Facts] = OrderedDict()

    def keep(self, draft_id: str, facts: Facts) -> None:
        self._facts[draft_id] = facts
        self._facts.move_to_end(draft_id)
        while len(self._facts) > self.limit:
            self._facts.popitem(last=False)

    def get(self, draft_id: str) -> Facts | None:
        facts = self._facts.get(draft_id)
        if facts is not None:
            self._facts.move_to_end(draft_id)
        return facts
