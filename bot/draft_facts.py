"""The facts a draft may repeat: what the model read for it, as `bot.fact_check.Facts`.

Read from the request, the conversation transcript, the text of the files and the company
pack once, when the draft is made, and kept in memory beside the draft's id (normalised
values only, never the text itself, and never logged): the transcript and the file text
are not stored with the draft, and refinements other than Regenerate and Continue do not
read them again. A draft whose facts are not kept (Draftbot restarted, another instance
made it, or its retention period, counted from when it was made, has passed; posted and
discarded drafts are forgotten at once) is checked against its request alone, and, when
it was read from a conversation or files, for placeholders only: every finding might be in
what was not kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

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
    """Facts by draft id, at most `limit` of them, each for at most `max_age` after it was
    first kept (the draft was made): its row is purged no sooner, so the facts never
    outlive it. `drop` forgets a draft at once (posted, discarded). Oldest first out;
    thread-safe (refinements read the material on a worker thread)."""

    def __init__(
        self,
        limit: int = KEPT_DRAFTS,
        max_age: timedelta = timedelta(days=7),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.max_age = max_age.total_seconds()
        self._clock = clock
        self._facts: OrderedDict[str, tuple[float, Facts]] = OrderedDict()  # by first kept
        self._lock = threading.Lock()

    def keep(self, draft_id: str, facts: Facts) -> None:
        with self._lock:
            now = self._clock()
            kept_at = self._facts[draft_id][0] if draft_id in self._facts else now
            self._facts[draft_id] = (kept_at, facts)
            while self._facts and (
                len(self._facts) > self.limit or self._expired(next(iter(self._facts)), now)
            ):
                self._facts.popitem(last=False)

    def get(self, draft_id: str) -> Facts | None:
        with self._lock:
            if self._expired(draft_id, self._clock()):
                del self._facts[draft_id]
            kept = self._facts.get(draft_id)
            return kept[1] if kept else None

    def drop(self, draft_id: str) -> None:
        with self._lock:
            self._facts.pop(draft_id, None)

    def __len__(self) -> int:
        return len(self._facts)

    def _expired(self, draft_id: str, now: float) -> bool:
        kept = self._facts.get(draft_id)
        return kept is not None and now - kept[0] >= self.max_age
