"""A preview's Changes and Back to buttons: what changed from the previous version, and an
earlier version brought back as the newest. Neither calls the model or writes a usage row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import Any

from bot import wording
from bot.sessions import StoredDraft
from bot.storage.offloop import off_loop, write_off_loop
from bot.versions import MAX_VERSIONS, RESTORE, Version, VersionTag, current, earlier
from handlers.blocks import previews
from handlers.blocks.changes import changes_modal
from handlers.blocks.versions import changes_ref, restore_ref
from handlers.flows import Flows
from handlers.replies import Reply

log = logging.getLogger(__name__)


async def show_changes(
    flows: Flows, user_id: str, value: str, trigger_id: str, reply: Reply
) -> None:
    """The version the preview shows (an old button: the current one) against the one
    before it, in a modal."""
    ref = changes_ref(value)
    draft_id = ref.draft_id
    if (stored := await flows.own_draft(draft_id, user_id, reply)) is None:  # author only
        return
    number = ref.shown if ref.shown is not None else current(stored.versions).number
    try:
        pair = await off_loop(_with_previous, flows, stored, number)
    except Exception as error:
        await reply.tell(flows.failure_message(error, f"comparing versions of {draft_id}").text)
        return
    if isinstance(pair, str):
        await reply.tell(pair)
        return
    # A long draft's diff takes a while (about 10 ms for 2,000 words, a second for 20,000):
    # never on the event loop, where other people's clicks wait to be acknowledged.
    view = await asyncio.to_thread(changes_modal, *pair, stored.request)
    await flows.open_form(trigger_id, view, reply)


def _with_previous(flows: Flows, stored: StoredDraft, number: int) -> tuple[Version, Version] | str:
    """Version `number` and the newest kept before it, or why there are not two."""
    previous = [tag.number for tag in stored.versions if tag.number < number]
    after = _version(flows, stored.id, number)
    if after is None:
        return wording.VERSION_GONE.format(number=number, kept=MAX_VERSIONS)
    before = _version(flows, stored.id, previous[-1]) if previous else None
    if before is None:
        return wording.CHANGES_NO_EARLIER
    return before, after


def _version(flows: Flows, draft_id: str, number: int) -> Version | None:
    row = flows.services.store.draft_version(draft_id, number)
    if row is None:
        return None
    restored = row["restored_from"]
    tag = VersionTag(number, str(row["made_by"]), None if restored is None else int(restored))
    return Version(tag, row["text"] or "", row["stop_reason"] or "end_turn", row["created_at"])


async def restore(flows: Flows, user_id: str, value: str, reply: Reply) -> None:
    """`value` names the version to bring back and the version the preview showed (see
    handlers/blocks/versions.restore_ref; an old button: the one before the current). Its
    text becomes the next version, "restored v2", and the preview shows it with its buttons
    (Continue if it was cut off). A click that arrives twice (a double click, Slack sending
    it again) or from a preview that is no longer the newest adds nothing: the preview shows
    the current version again, so nobody ends with the text they were leaving."""
    ref = restore_ref(value)
    draft_id = ref.draft_id
    sessions = flows.services.sessions
    try:  # the author only, and one action at a time
        stored = await write_off_loop(sessions.claim, draft_id, user_id)
    except Exception as error:  # someone else's, expired, busy; or the database failing
        await reply.tell(flows.failure_message(error, f"opening draft {draft_id}").text)
        return
    older = earlier(stored.versions)
    number = ref.target if ref.target is not None else older[0].number if older else 0
    try:
        moved_on = ref.shown is not None and ref.shown != current(stored.versions).number
        version = None if moved_on else await off_loop(_version, flows, draft_id, number)
        if version is None and not moved_on:
            await write_off_loop(sessions.release, draft_id)
            gone = wording.VERSION_GONE.format(number=number, kept=MAX_VERSIONS)
            await reply.tell(gone if number else wording.NO_EARLIER_VERSION)
            return
        versions = None
        if version is None or version.text == stored.text:  # moved on, or its text already
            await write_off_loop(sessions.release, draft_id)
        else:
            versions = await write_off_loop(
                sessions.add_version,
                stored,
                version.text,
                RESTORE,
                stop_reason=version.stop_reason,
                restored_from=number,
            )
    except BaseException as error:
        with contextlib.suppress(Exception):  # never leave it "working"
            await write_off_loop(sessions.release, draft_id)
        if not isinstance(error, Exception):
            raise
        await reply.tell(flows.failure_message(error, f"restoring draft {draft_id}").text)
        return
    if version is None or versions is None:
        log.info("draft=%s v%d not restored again: the current version shown", draft_id, number)
        preview = previews.draft_preview(sessions.as_draft(stored), avoid=flows.library.avoid)
        await reply.show(flows.with_feedback(preview, draft_id))
        return
    log.info("draft=%s restored v%d as v%d", draft_id, number, versions[-1].number)
    await sessions.events.record(
        draft_id, user_id, "restored", kind=stored.kind.name, detail=f"v{number}",
        version=versions[-1].number,
    )  # fmt: skip
    draft = replace(
        sessions.as_draft(stored),
        text=version.text,
        stop_reason=version.stop_reason,
        versions=versions,
    )
    await reply.show(
        flows.with_feedback(previews.draft_preview(draft, avoid=flows.library.avoid), draft_id)
    )


def selected_value(action: dict[str, Any]) -> str:
    """A button's value, or the chosen option's in a menu."""
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
