"""The use cases the Slack surfaces share: deliver a draft, refine it, post it, summarize a
conversation, open a form. Listeners parse a payload, pick a destination and call one of
these; no listener imports another.

Every failure ends here as words for the person: a `UserFacingError` shows its own message,
anything else is logged and shown as the plain "something went wrong" (`failure_message`).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.budgets import BudgetStatus, over_budget_message
from bot.drafting import Draft, DraftFailed, DraftRequest
from bot.errors import UserFacingError
from bot.files import FileRefused, ReadFile
from bot.prompts import PromptKind
from bot.refinements import REFINEMENTS
from bot.services import Services
from bot.sessions import DraftUnavailable, StoredDraft
from bot.slack_ids import MessageRef
from bot.storage.offloop import off_loop, write_off_loop
from handlers.blocks import feedback, previews
from handlers.blocks.message import Block, Outgoing, notice
from handlers.blocks.reports import budget_admin_alert
from handlers.blocks.text import safe_draft
from handlers.conversations import conversation_material, fetch_transcript
from handlers.failures import cannot_post_reason, failure_words
from handlers.files import fetch_files
from handlers.people import People, Refusal
from handlers.replies import DirectMessageReply, Reply, ResponseUrlReply, post_to_channel

log = logging.getLogger(__name__)

# Refinements that need the conversation itself, not only the previous draft.
REREAD_FOR = frozenset({"regenerate", "continue"})
READ_REFUSALS: dict[Refusal, str] = {
    "private": wording.CANNOT_SEE_CONVERSATION,
    "shared": wording.CANNOT_SEE_SHARED,
    "guest": wording.CANNOT_SEE_AS_GUEST,
    "unchecked": wording.CANNOT_CHECK_ACCESS,
}


@dataclass(frozen=True)
class Asker:
    """Who asked, and where a posted draft should go."""

    user_id: str
    team_id: str | None
    channel_id: str | None  # None: ask when they click Post (the Messages tab, the Home form)


class Flows:
    def __init__(self, services: Services, people: People, client: AsyncWebClient) -> None:
        self.services = services
        self.people = people
        self.client = client
        self.library = services.library
        self.command = services.settings.command

    async def first_time(self, key: str) -> bool:
        """True the first time `key` is seen: makes Slack's redelivered events harmless.
        If the database cannot say, answer: a rare repeat beats silence."""
        try:
            return await write_off_loop(self.services.store.first_time, key)
        except Exception as error:
            log.warning("could not check for a repeated event (%s)", type(error).__name__)
            return True

    # ------------------------------------------------------------ destinations

    def private_reply(self, response_url: str | None, user_id: str) -> Reply:
        """The response_url when there is one, else (or when it fails) the DM."""
        dm = DirectMessageReply(self.client, user_id)
        return ResponseUrlReply(response_url, dm) if response_url else dm

    # ------------------------------------------------------------ drafting

    async def draft(
        self,
        request: DraftRequest,
        reply: Reply,
        *,
        notes: tuple[Block, ...] = (),
        announce: bool = False,
    ) -> None:
        """Draft and show the private preview, or say plainly why there is none."""
        async with self.services.in_flight.track():
            request = await self.people.into_a_language(request)
            if announce:
                await reply.update(notice(previews.working_text(request.kind)))

            async def on_queued(position: int) -> None:
                await reply.update(notice(wording.QUEUED.format(position=position)))

            try:
                draft = await self.services.sessions.create(
                    request, on_text=reply.on_text, on_queued=on_queued
                )
            except Exception as error:
                await reply.show(self.failure_message(error, f"drafting for {request.user_id}"))
                return
            preview = previews.draft_preview(draft, notes, self.library.avoid)
            preview = self.with_feedback(preview, draft.draft_id)
            await reply.show(await self._with_budget_alerts(draft, preview))

    async def draft_from_files(
        self, request: DraftRequest, files: list[dict[str, Any]], reply: Reply
    ) -> None:
        """Download and read `files` (Slack's file objects, or `{"id": …}` stubs), then draft
        from those that could be read, listing the others; none readable: say why."""
        read = await fetch_files(self.client, files)
        if not read.files:
            refusal = FileRefused(read.refusal_text(), name="")
            await reply.show(self.failure_message(refusal, "reading files"))
            return
        notes = tuple(map(previews.file_note, read.notes))
        await self.draft(replace(request, files=read.files), reply, notes=notes)

    async def draft_from_conversation(
        self,
        asker: Asker,
        kind: PromptKind,
        text: str,
        ref: MessageRef,
        reply: Reply,
        *,
        check_access: bool,
        source: str,
    ) -> None:
        """Read the conversation `ref` is in and draft from it (a summary, a reply)."""
        async with self.services.in_flight.track():  # shutdown waits for the reading too
            # The bot may be in conversations the person may not read: never leak them.
            try:
                refusal = None
                if check_access:
                    refusal = await self.cannot_read(asker.user_id, ref.channel_id)
                if refusal is not None:
                    await reply.show(notice(refusal))
                    return
                transcript = await fetch_transcript(self.client, self.people, ref)
            except Exception as error:  # Slack unreachable or refusing: say so, never silence
                await reply.show(self.failure_message(error, f"reading {ref.channel_id}"))
                return
            # Its files too: a conversation the person may read, so its files as well.
            read = await fetch_files(self.client, transcript.files) if transcript.files else None
            request = DraftRequest(
                kind=kind,
                text=text,
                user_id=asker.user_id,
                source=source,
                team_id=asker.team_id,
                channel_id=asker.channel_id,
                material=conversation_material(transcript),
                source_ref=ref.as_text(),
                files=read.files if read else (),
            )
            notes: tuple[Block, ...] = tuple(map(previews.file_note, read.notes if read else ()))
            if transcript.trimmed_count:
                recent = transcript.message_count - 1  # the first message is always kept
                total, left_out = transcript.total_count, transcript.trimmed_count
                notes += (previews.transcript_note(recent, total, left_out),)
            await self.draft(request, reply, notes=notes, announce=True)

    async def refine(self, user_id: str, draft_id: str, action: str, reply: Reply) -> None:
        """A preview button: "Making it shorter…", the model, then the new preview."""
        sessions = self.services.sessions
        try:
            stored = await write_off_loop(sessions.claim, draft_id, user_id)
        except Exception as error:  # someone else's, expired, busy; or the database failing
            await reply.tell(self.failure_message(error, f"opening draft {draft_id}").text)
            return
        async with self.services.in_flight.track():
            try:
                working = REFINEMENTS[action].working
                await reply.update(previews.working_preview(stored.text, working, stored.request))

                async def on_queued(position: int) -> None:
                    queued = wording.QUEUED.format(position=position)
                    await reply.update(
                        previews.working_preview(stored.text, queued, stored.request)
                    )

                material = await self._reread(stored) if action in REREAD_FOR else ""
                files = await self._reread_files(stored)
                draft = await sessions.refine(
                    stored, action, on_queued=on_queued, material=material, files=files
                )
            except BaseException as error:
                # Never leave the draft stuck as "working" (if the database refuses that too,
                # the stuck-draft takeover frees it later; the person still hears why).
                with contextlib.suppress(Exception):
                    await write_off_loop(sessions.release, draft_id)
                if not isinstance(error, Exception):
                    raise
                problem = self.failure_message(error, f"refining draft {draft_id}")
                await reply.show(self._previous_with_problem(stored, problem.text))
                return
            await reply.show(
                await self._with_budget_alerts(
                    draft,
                    self.with_feedback(
                        previews.draft_preview(draft, avoid=self.library.avoid), draft_id
                    ),
                )
            )

    async def _reread(self, stored: StoredDraft) -> str:
        """A summary's conversation, read again (it is not stored with the draft)."""
        ref = MessageRef.from_text(stored.source_ref or "")
        if ref is None:
            return ""
        if (refusal := await self.cannot_read(stored.user_id, ref.channel_id)) is not None:
            raise UserFacingError(refusal)
        return conversation_material(await fetch_transcript(self.client, self.people, ref))

    async def _reread_files(self, stored: StoredDraft) -> tuple[ReadFile, ...]:
        """A file draft's files, downloaded again (only their ids are kept with the draft)."""
        if not stored.file_ids:
            return ()
        ref = MessageRef.from_text(stored.source_ref or "")  # still theirs to read?
        if ref and (refusal := await self.cannot_read(stored.user_id, ref.channel_id)):
            raise UserFacingError(refusal)
        read = await fetch_files(self.client, [file_stub(file_id) for file_id in stored.file_ids])
        read.require_some()
        return read.files

    async def cannot_read(self, user_id: str, channel_id: str) -> str | None:
        """Why Draftbot will not read this conversation for this person, in words; None
        when they could read it themselves (`People.why_cannot_read`)."""
        refusal = await self.people.why_cannot_read(user_id, channel_id)
        if refusal is None:
            return None
        log.info("refused to read %s for user=%s: %s", channel_id, user_id, refusal)
        return READ_REFUSALS[refusal].format(channel=channel_id)

    def _previous_with_problem(self, stored: StoredDraft, problem: str) -> Outgoing:
        """Keep the draft the person had, with its buttons, and say what went wrong."""
        previous = previews.draft_preview(
            self.services.sessions.as_draft(stored), avoid=self.library.avoid
        )
        return previews.with_warning(previous, problem)

    async def _with_budget_alerts(self, draft: Draft, out: Outgoing) -> Outgoing:
        """The person's once-a-month 80 % notice rides on the draft; admins get a post."""
        alerts = draft.budget_alerts
        if alerts is None:
            return out
        if alerts.tell_user:
            out = out.with_blocks(previews.budget_notice(alerts.status))
        channel = self.services.settings.alert_channel
        if alerts.tell_admins and channel:
            try:
                user_id = alerts.status.user_id
                name = (await self.people.names([user_id])).get(user_id, user_id)
                await self.client.chat_postMessage(
                    channel=channel, text=budget_admin_alert(alerts.status, name)
                )
            except Exception as error:  # the draft is billed and ready: show it regardless
                log.warning("could not post budget alert to %s: %s", channel, _why(error))
        return out

    # ------------------------------------------------------------ posting

    async def load_draft(self, draft_id: str, user_id: str) -> StoredDraft:
        """The person's own draft; raises `DraftUnavailable` (expired, someone else's)."""
        return await off_loop(self.services.sessions.load, draft_id, user_id)

    async def own_draft(self, draft_id: str, user_id: str, reply: Reply) -> StoredDraft | None:
        """The person's draft, or None once they have been told why not."""
        try:
            return await self.load_draft(draft_id, user_id)
        except Exception as error:  # someone else's, expired; or the database failing
            await reply.tell(self.failure_message(error, f"opening draft {draft_id}").text)
            return None

    async def discard(self, draft_id: str, user_id: str) -> None:
        sessions = self.services.sessions
        stored = await write_off_loop(sessions.claim, draft_id, user_id)
        await write_off_loop(sessions.release, draft_id, status="discarded")
        await sessions.events.record(draft_id, user_id, "discarded", kind=stored.kind.name)

    async def post(
        self, user_id: str, draft_id: str, *, text: str | None = None, channel: str | None = None
    ) -> str | None:
        """Post the draft (or `text`, an edited version) in its channel, or in `channel`.

        Returns None once posted, or the plain-words reason it could not be.
        """
        sessions = self.services.sessions
        try:
            stored = await write_off_loop(sessions.claim, draft_id, user_id)
        except DraftUnavailable as refusal:
            return refusal.user_message
        where = channel or stored.channel_id or ""
        body = text if text is not None else stored.text
        try:
            # Asked again at every click: drafts are kept for days, and people leave or are
            # removed from channels in the meantime.
            if not await self.people.check_member(user_id, where):
                await write_off_loop(sessions.release, draft_id)
                log.info("refused to post draft=%s: user=%s not in %s", draft_id, user_id, where)
                return wording.POST_NO_LONGER_A_MEMBER.format(channel=where)
            out = previews.posted_draft(body, user_id, typed=stored.request)
            await post_to_channel(self.client, where, out)
        except SlackApiError as error:
            await write_off_loop(sessions.release, draft_id)
            code = str(error.response.get("error"))
            log.info("could not post draft=%s to %s: %s", draft_id, where, code)
            return cannot_post_reason(where, code)
        except BaseException:  # network trouble: never leave the draft stuck as "working"
            await write_off_loop(sessions.release, draft_id)
            raise
        edited = text is not None and text != safe_draft(stored.text, stored.request).strip()
        await write_off_loop(sessions.mark_posted, stored, body, where, edited=edited)
        log.info("draft posted draft=%s user=%s channel=%s", draft_id, user_id, where)
        if edited:  # a version of its own (`mark_posted`), and an event
            await sessions.events.record(draft_id, user_id, "edited", kind=stored.kind.name)
        await sessions.events.record(
            draft_id, user_id, "posted", kind=stored.kind.name, channel_id=where
        )
        return None

    async def post_and_confirm(self, user_id: str, draft_id: str, reply: Reply) -> None:
        try:
            problem = await self.post(user_id, draft_id)
        except Exception as error:
            await reply.tell(self.failure_message(error, f"posting draft {draft_id}").text)
            return
        if problem:
            await reply.tell(problem)
            return
        channel = (await self.load_draft(draft_id, user_id)).channel_id
        posted = notice(wording.POSTED.format(channel=channel))
        await reply.show(self.with_feedback(posted, draft_id, posted=True))

    async def confirm_posted(
        self, response_url: str | None, user_id: str, channel: str, draft_id: str | None = None
    ) -> None:
        """After a form posted the draft: "Posted in #channel" where the preview was."""
        if response_url:
            posted = notice(wording.POSTED.format(channel=channel))
            posted = self.with_feedback(posted, draft_id, posted=True)
            await self.private_reply(response_url, user_id).show(posted)

    def with_feedback(self, out: Outgoing, draft_id: str | None, posted: bool = False) -> Outgoing:
        """👍 / 👎 on a preview with buttons, or on "Posted in #channel" (`posted`)."""
        style = self.services.settings.feedback_buttons
        return feedback.with_feedback(out, draft_id, style, posted=posted)

    # ------------------------------------------------------------ forms

    async def open_form(
        self, trigger_id: str, view: dict[str, Any], reply: Reply, instead: Outgoing | None = None
    ) -> None:
        """Open a modal; if Slack won't (an expired trigger, a 5xx), show `instead` or say
        what happened."""
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except Exception as error:
            log.warning("could not open a form: %s", _why(error))
            if instead is not None:
                await reply.show(instead)
            else:
                await reply.tell(wording.CANNOT_OPEN_FORM)

    async def can_post_in(self, user_id: str, channel: str) -> bool:
        return await self.people.is_member(user_id, channel)

    # ------------------------------------------------------------ wording

    def failure_message(self, error: BaseException, doing: str) -> Outgoing:
        """The one place an exception becomes words for a person (handlers/failures.py)."""
        if isinstance(error, DraftFailed) and error.over_budget is not None:
            return previews.failure(self.over_budget_text(error.over_budget))
        return failure_words(error, doing)

    def over_budget_text(self, status: BudgetStatus) -> str:
        admins = previews.admin_contact(self.services.settings.admin_user_ids)
        return over_budget_message(status, admins=admins)


def file_stub(file_id: str) -> dict[str, Any]:
    """A file known only by its id, as Slack Connect events carry them: files.info first."""
    return {"id": file_id, "file_access": "check_file_info"}


def _why(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__
