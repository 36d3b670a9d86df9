"""Draft previews people refine with buttons: saved drafts, author-only, one action at a time.

Knows nothing about Slack: handlers pass ids in and render what comes back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import wording
from bot.draft_events import DraftEvents
from bot.draft_facts import KeptFacts, facts_for, joined
from bot.drafting import TRUNCATED_STOP_REASONS, Draft, Drafter, DraftRequest, FollowUp
from bot.errors import UserFacingError
from bot.fact_check import Facts
from bot.files import ReadFile
from bot.gate import QueuedCallback
from bot.llm import TextCallback
from bot.prompts import PromptKind, PromptLibrary
from bot.refinements import REFINEMENTS, fix_style_instruction
from bot.storage import Storage
from bot.storage.offloop import write_off_loop
from bot.style_check import check_style
from bot.usage import TokenUsage
from bot.versions import EDIT, MAX_VERSIONS, VersionTag

log = logging.getLogger(__name__)

# Longer than any model call can take with the default queue wait and deadline (3.5 min).
STUCK_AFTER = timedelta(minutes=5)
# Drafts kept in memory while the database refuses writes, until they can be saved; past
# this many, new drafts arrive without buttons (their text is in Slack either way).
MAX_UNSAVED_DRAFTS = 1_000


class DraftUnavailable(UserFacingError):
    """The action cannot go ahead; `user_message` says why in plain words."""


@dataclass(frozen=True)
class StoredDraft:
    id: str
    user_id: str
    team_id: str | None
    channel_id: str | None
    kind: PromptKind
    request: str
    text: str
    stop_reason: str
    status: str
    source_ref: str | None = None  # the conversation a summary was read from
    file_ids: tuple[str, ...] = ()  # the Slack files it was read from, read again to refine
    versions: tuple[VersionTag, ...] = ()  # kept versions, oldest first ((): only v1)

    @property
    def truncated(self) -> bool:
        return self.stop_reason in TRUNCATED_STOP_REASONS


class DraftSessions:
    def __init__(
        self,
        drafter: Drafter,
        store: Storage,
        library: PromptLibrary,
        retention_days: int = 7,
        stuck_after: timedelta = STUCK_AFTER,
    ) -> None:
        self.stuck_after = stuck_after  # a draft "working" longer than this was abandoned
        self.drafter = drafter
        self.store = store
        self.library = library
        self.retention = timedelta(days=retention_days)
        # Drafts the database refused, by id: their buttons work once `save_unsaved` saves them.
        self._unsaved: dict[str, dict[str, Any]] = {}
        self.events = DraftEvents(store)  # each draft's life, no text (bot/draft_events.py)
        # What each draft's model read, for the check (memory), no longer than its row.
        self.kept_facts = KeptFacts(max_age=self.retention)

    async def create(
        self,
        request: DraftRequest,
        on_text: TextCallback | None = None,
        on_queued: QueuedCallback | None = None,
    ) -> Draft:
        """Draft (raises `DraftFailed`) and keep it, so its buttons can refine it."""
        draft = await self.drafter.draft(request, on_text=on_text, on_queued=on_queued)
        draft_id = secrets.token_hex(8)
        # Off the event loop: a file draft's material may be megabytes (docs/checks.md).
        facts = await asyncio.to_thread(facts_for, request, self.library.company)
        self.kept_facts.keep(draft_id, facts)
        draft = replace(draft, facts=facts)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        row = {
            "id": draft_id,
            "user_id": request.user_id,
            "team_id": request.team_id,
            "channel_id": request.channel_id,
            "kind": draft.request.kind.name,  # the channel's default kind, if it applied
            "request": request.text,
            "text": draft.text,
            "stop_reason": draft.stop_reason,
            # response_url is not kept: it works as a bearer link for 30 minutes; nor is a
            # conversation's transcript: only where it came from.
            "response_url": None,
            "source_ref": request.source_ref,
            # A file's id, never its bytes or text: a refinement downloads it again.
            "file_ids": ",".join(f.file_id for f in request.files if f.file_id) or None,
            "created_at": now,  # when it was made, even if it is saved later
            "updated_at": now,
        }
        try:
            await write_off_loop(self.store.save_draft, row)
        except Exception as error:  # the draft is billed and written: show it anyway
            if len(self._unsaved) >= MAX_UNSAVED_DRAFTS:
                log.warning("could not save draft for its buttons (%s)", type(error).__name__)
                return draft
            log.warning(
                "draft=%s kept in memory until the database takes it (%s)",
                draft_id,
                type(error).__name__,
            )
            self._unsaved[draft_id] = row
        await self.events.record(
            draft_id,
            request.user_id,
            "created",
            kind=request.kind.name,
            channel_id=request.channel_id,
            model=draft.model,
        )
        return replace(draft, draft_id=draft_id)

    @property
    def unsaved(self) -> int:
        return len(self._unsaved)

    def save_unsaved(self) -> int:
        """Save the drafts the database refused (on the database thread); how many were saved.

        Raises what the database raises, leaving the rest for the next try.
        """
        saved = 0
        for draft_id, row in list(self._unsaved.items()):
            try:
                self.store.save_draft(row)
            except Exception:
                if self.store.get_draft(draft_id) is None:  # not saved after all
                    raise
            self._unsaved.pop(draft_id, None)
            saved += 1
        return saved

    def load(self, draft_id: str, user_id: str) -> StoredDraft:
        if draft_id in self._unsaved:  # its buttons need it saved first
            self.save_unsaved()
        row = self.store.get_draft(draft_id)
        if row is None:
            raise DraftUnavailable(wording.DRAFT_EXPIRED.format(days=self.retention.days))
        if row["user_id"] != user_id:
            raise DraftUnavailable(wording.NOT_YOUR_DRAFT.format(author=f"<@{row['user_id']}>"))
        return replace(self._stored(row), versions=self.version_tags(draft_id))

    def version_tags(self, draft_id: str) -> tuple[VersionTag, ...]:
        return tags_of(self.store.draft_version_tags(draft_id))

    def add_version(
        self,
        stored: StoredDraft,
        text: str,
        made_by: str,
        *,
        stop_reason: str,
        restored_from: int | None = None,
        **changes: Any,
    ) -> tuple[VersionTag, ...]:
        """`text` as the draft's next version and current text, releasing the draft
        (`changes`: another status, its channel)."""
        rows = self.store.add_draft_version(
            stored.id,
            text,
            made_by,
            stop_reason=stop_reason,
            keep=MAX_VERSIONS,
            restored_from=restored_from,
            **{"status": "ready", **changes},
        )
        self._forget_if_finished(stored.id, changes.get("status"))
        return tags_of(rows)

    def mark_posted(self, stored: StoredDraft, text: str, channel_id: str, *, edited: bool) -> None:
        """Posted: `text` (from the Edit form when `edited`, a version of its own)."""
        if edited:
            self.add_version(
                stored,
                text,
                EDIT,
                stop_reason=stored.stop_reason,
                status="posted",
                channel_id=channel_id,
            )
        else:
            self.release(stored.id, status="posted", text=text, channel_id=channel_id)

    def claim(self, draft_id: str, user_id: str) -> StoredDraft:
        """Author only; and only one action at a time (a double click does nothing twice)."""
        stored = self.load(draft_id, user_id)
        if stored.status in ("posted", "discarded"):
            raise DraftUnavailable(wording.DRAFT_FINISHED.format(status=stored.status))
        if not self.store.claim_draft(draft_id) and not self._take_over_stuck(draft_id):
            raise DraftUnavailable(wording.DRAFT_BUSY)
        return stored

    def _take_over_stuck(self, draft_id: str) -> bool:
        """A draft left "working" by a process that died mid-action is freed after a while."""
        row = self.store.get_draft(draft_id)
        cutoff = (datetime.now(UTC) - self.stuck_after).isoformat(timespec="microseconds")
        if row is None or row["status"] != "working" or row["updated_at"] >= cutoff:
            return False
        log.warning(
            "draft=%s was stuck as working since %s; taking it over", draft_id, row["updated_at"]
        )
        return self.store.claim_draft(draft_id, from_status="working", to="working")

    def release(self, draft_id: str, status: str = "ready", **changes: Any) -> None:
        self.store.update_draft(draft_id, status=status, **changes)
        self._forget_if_finished(draft_id, status)

    def _forget_if_finished(self, draft_id: str, status: str | None) -> None:
        """A posted or discarded draft is never refined again: its facts go at once."""
        if status in ("posted", "discarded"):
            self.kept_facts.drop(draft_id)

    async def refine(
        self,
        stored: StoredDraft,
        action: str,
        on_queued: QueuedCallback | None = None,
        material: str = "",
        files: tuple[ReadFile, ...] = (),
    ) -> Draft:
        """Apply a preview button (`shorter`, `continue`, …) to a draft from `claim`;
        `files`: the draft's files read again (the same blocks, so read from the cache)."""
        refinement = REFINEMENTS[action]
        draft_id = stored.id
        instruction = refinement.instruction
        if refinement.fixes_style and instruction:
            hits = check_style(stored.text, self.library.avoid)
            if not hits:  # an old button on a draft edited since: no model call
                raise UserFacingError(wording.STYLE_NOTHING_TO_FIX)
            instruction = fix_style_instruction(instruction, hits)
        follow_up = (
            FollowUp(stored.text, instruction, continues=refinement.continues)
            if instruction
            else None
        )
        request = DraftRequest(
            kind=stored.kind,
            text=stored.request,
            user_id=stored.user_id,
            source=refinement.name,
            team_id=stored.team_id,
            channel_id=stored.channel_id,
            follow_up=follow_up,
            material=material,
            source_ref=stored.source_ref,
            files=files,
        )
        try:
            draft = await self.drafter.draft(request, on_queued=on_queued)
        except BaseException:
            await write_off_loop(self.release, draft_id)
            raise
        text = stored.text + draft.text if refinement.continues else draft.text
        versions = await write_off_loop(
            self.add_version, stored, text, refinement.name, stop_reason=draft.stop_reason
        )
        facts = await asyncio.to_thread(self.facts_of, stored, request)  # the files read again
        await self.events.record(
            draft_id, stored.user_id, "refined", kind=stored.kind.name, model=draft.model,
            detail=refinement.name, version=versions[-1].number if versions else None,
        )  # fmt: skip
        return replace(draft, text=text, draft_id=draft_id, versions=versions, facts=facts)

    def facts_of(self, stored: StoredDraft, read_again: DraftRequest | None = None) -> Facts:
        """What `stored`'s model read (kept since it was made, `bot.draft_facts`), with
        what a refinement read again (`read_again`: its transcript and files)."""
        request = read_again or DraftRequest(
            kind=stored.kind, text=stored.request, user_id=stored.user_id, source="stored"
        )
        whole = (not stored.source_ref or bool(request.material)) and (
            not stored.file_ids or bool(request.files)
        )
        fresh = facts_for(request, self.library.company, whole=whole)
        kept = self.kept_facts.get(stored.id)
        facts = joined(kept, fresh) if kept else fresh
        self.kept_facts.keep(stored.id, facts)
        return facts

    def as_draft(self, stored: StoredDraft) -> Draft:
        """A stored draft in the shape renderers take (no model call)."""
        return Draft(
            request=DraftRequest(
                kind=stored.kind,
                text=stored.request,
                user_id=stored.user_id,
                source="stored",
                team_id=stored.team_id,
                channel_id=stored.channel_id,
            ),
            text=stored.text,
            stop_reason=stored.stop_reason,
            usage=TokenUsage(),
            cost=None,
            model="",
            request_id=None,
            ttft_ms=None,
            latency_ms=0,
            usage_id=0,
            draft_id=stored.id,
            versions=stored.versions,
            facts=self.facts_of(stored),
        )

    def _stored(self, row: dict[str, Any]) -> StoredDraft:
        kind = self.library.find(row["kind"] or "") or self.library.default_kind
        return StoredDraft(
            id=row["id"],
            user_id=row["user_id"],
            team_id=row["team_id"],
            channel_id=row["channel_id"],
            kind=kind,
            request=row["request"] or "",
            text=row["text"] or "",
            stop_reason=row["stop_reason"] or "end_turn",
            status=row["status"],
            source_ref=row.get("source_ref"),
            file_ids=tuple(i for i in (row.get("file_ids") or "").split(",") if i),
        )


def tags_of(rows: list[dict[str, Any]]) -> tuple[VersionTag, ...]:
    return tuple(
        VersionTag(
            int(row["version"]),
            str(row["made_by"]),
            None if row["restored_from"] is None else int(row["restored_from"]),
        )
        for row in rows
    )
