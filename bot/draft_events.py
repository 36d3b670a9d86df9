"""Each draft's life as events with no text, for the outcome figures in reports
(bot/outcomes.py) and the person's own list of drafts (`/draft history`).

`DraftEvents.record` is the one way to record one; every part of Draftbot that changes a
draft calls it once the change is saved:

| event | recorded by | detail | channel |
|---|---|---|---|
| `created` | `DraftSessions.create`, once the draft is kept | | where it would be posted |
| `refined` | `DraftSessions.refine`, once the new text is kept | the refinement (`shorter`, …) | |
| `restored` | `handlers.versions.restore` (Back to; the new version) | `v2`: brought back | |
| `edited` | `Flows.post`, when the posted text differs from the preview's | | |
| `posted` | `Flows.post`, once Slack took the message | | where it was posted |
| `discarded` | `Flows.discard` | | |
| `expired` | the purge (`expire_unposted`), for a draft neither posted nor discarded | | |
| `feedback` | the feedback buttons | `up` or `down` | |

Each event is also added to its draft's row of `draft_outcomes` in the same transaction
(bot/storage/events.py), which is what the reports read.

`version`: give it when you know it (a restore names the version it brought back);
otherwise the store fills it in: 1 for `created`, the highest so far plus one for `refined`
and `edited`, the latest event's for the rest (the version on screen).

An event that cannot be written is logged (its name and draft id, no text) and dropped: the
events are statistics, never money, so unlike usage rows (kept in the journal until the
database takes them) they are not worth holding a person's request up for, nor keeping in
memory through an outage. A drop shows as a draft with fewer events; `dropped` counts them.
The one free text, a 👎's `reason` (a person's one line about the draft), is stored but
never logged.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from bot.storage import Storage
from bot.storage.offloop import write_off_loop

log = logging.getLogger(__name__)

EventName = Literal[
    "created", "refined", "restored", "edited", "posted", "discarded", "expired", "feedback"
]
# A 👎's reason: one line, this long at most (the form's limit too).
REASON_LIMIT = 150


class DraftEvents:
    def __init__(self, store: Storage) -> None:
        self.store = store
        self.dropped = 0

    async def record(
        self,
        draft_id: str,
        user_id: str,
        event: EventName,
        *,
        kind: str | None = None,
        channel_id: str | None = None,
        model: str | None = None,
        detail: str | None = None,
        reason: str | None = None,
        version: int | None = None,
    ) -> bool:
        """Write one event on the database thread; False (logged, dropped) if it failed.
        Never raises: a draft or a post never fails because its event could not be kept."""
        row = {
            "draft_id": draft_id,
            "user_id": user_id,
            "event": event,
            "kind": kind,
            "channel_id": channel_id,
            "model": model or None,
            "detail": detail,
            "reason": one_line(reason) if reason else None,
            "version": version,
        }
        try:
            # A method of this object: a failure here pauses only event writes (offloop.py).
            await write_off_loop(self._write, row)
        except Exception as error:
            self.dropped += 1
            log.warning(
                "could not record draft event %s for draft=%s (%s); dropped",
                event,
                draft_id,
                type(error).__name__,
            )
            return False
        return True

    def _write(self, row: dict[str, Any]) -> None:
        self.store.record_draft_event(row)

    async def add_reason(self, draft_id: str, user_id: str, reason: str) -> bool:
        """The optional reason for the person's latest 👎 of the draft, on that event (a 👍
        clicked while the reason's form was open stays the rating); False if not kept."""
        try:
            return await write_off_loop(self._add_reason, draft_id, user_id, one_line(reason))
        except Exception as error:
            log.warning(
                "could not keep a 👎's reason for draft=%s (%s)", draft_id, type(error).__name__
            )
            return False

    def _add_reason(self, draft_id: str, user_id: str, reason: str) -> bool:
        return self.store.add_feedback_reason(draft_id, user_id, reason)


def one_line(text: str) -> str:
    """A reason as stored: one line, at most `REASON_LIMIT` characters."""
    return " ".join(text.split())[:REASON_LIMIT]
