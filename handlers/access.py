"""Who may use Draftbot, asked the same way by every surface (the slash command, the form,
the Summarize thread shortcut, the Messages tab and the preview buttons), before any model
call: the settings' rules (`bot.access.AccessRules`), plus what only Slack knows: whether
the person is a guest or from another organisation (users.info) and whether they are in an
allowed user group (usergroups.users.list).

`CheckedFlows` is the `Flows` the app runs: each use case that calls the model or posts
(`draft`, `draft_from_conversation`, `refine`, `post`) asks `Access` first, so a new surface
that uses them is covered without doing anything.

Both answers are cached for a few minutes. When Slack cannot answer, the person is refused
("unchecked"): access fails closed. A refusal is one sentence naming the admins, and a usage
row with status "refused", its reason, and no tokens, cost or request text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.access import REFUSED_STATUS, AccessRules, RefusalReason, place_refusal
from bot.drafting import DraftRequest
from bot.pricing import Cost
from bot.prompts import PromptKind
from bot.services import Services
from bot.sessions import StoredDraft
from bot.slack_ids import MessageRef
from bot.usage_rows import Asked, usage_record
from handlers.blocks import previews
from handlers.blocks.message import Block, Outgoing, notice
from handlers.flows import Asker, Flows
from handlers.people import People, is_guest_or_outsider
from handlers.replies import Reply

log = logging.getLogger(__name__)

PERSON_TTL_SECONDS = 300.0  # guest or not: asked of Slack again after five minutes
GROUP_TTL_SECONDS = 300.0  # a user group's members, likewise
FAILED_TTL_SECONDS = 30.0  # after Slack failed to answer, ask again no sooner than this

REFUSAL_WORDS: dict[RefusalReason, str] = {
    "not allowed": wording.REFUSED_NOT_ALLOWED,
    "channel": wording.REFUSED_CHANNEL,
    "dms": wording.REFUSED_DMS,
    "guest": wording.REFUSED_GUEST,
    "unchecked": wording.REFUSED_UNCHECKED,
}


class Access:
    def __init__(
        self,
        services: Services,
        people: People,
        client: AsyncWebClient,
        home_team: Callable[[], str | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.rules: AccessRules = services.settings.access
        self.people = people
        self.client = client
        self.home_team = home_team  # the workspace Draftbot is installed in (auth.test)
        self.clock = clock
        self._people: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._groups: dict[str, tuple[float, frozenset[str] | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def refusal(self, user_id: str, channel_id: str | None) -> RefusalReason | None:
        """Why this person may not use Draftbot here (None: they may). `channel_id` None
        (or a D… id) is a direct message with Draftbot."""
        rules = self.rules
        if (reason := place_refusal(rules, channel_id)) is not None:
            return reason
        if not rules.guests:
            user = await self._person(user_id)
            if not user:  # Slack could not say who this is: fail closed
                return "unchecked"
            if is_guest_or_outsider(user, self.home_team()):
                return "guest"
        if not rules.limits_people or user_id in rules.allowed_users:
            return None
        if user_id in self.services.settings.admin_user_ids:
            return None  # admins can't lock themselves out
        unchecked = False
        for group in rules.allowed_groups:
            members = await self._members(group)
            if members is not None and user_id in members:
                return None
            unchecked = unchecked or members is None
        return "unchecked" if unchecked else "not allowed"

    async def turned_away(
        self, asked: Asked, reply: Reply, *, keep: Outgoing | None = None
    ) -> bool:
        """The check every surface shares: True once a person who may not use Draftbot
        here has been told so, in one sentence, with no model call. `keep`: the preview
        they clicked a button under, left on screen above the sentence."""
        reason = await self.refusal(asked.user_id, asked.channel_id)
        if reason is None:
            return False
        text = await self.turn_away(asked, reason)
        await reply.show(notice(text) if keep is None else previews.with_warning(keep, text))
        return True

    async def refused_draft(
        self, stored: StoredDraft, source: str, channel_id: str | None = None
    ) -> str | None:
        """A saved draft's buttons: the sentence when its author may no longer use Draftbot
        where it is (or `channel_id`, where it would be posted), counted; None: they may."""
        where = channel_id or stored.channel_id
        if (reason := await self.refusal(stored.user_id, where)) is None:
            return None
        asked = DraftRequest(stored.kind, "", stored.user_id, source, stored.team_id, where)
        return await self.turn_away(asked, reason)

    async def turn_away(self, asked: Asked, reason: RefusalReason) -> str:
        """Count the refusal (a usage row, no text) and return the sentence to show."""
        log.info(
            "refused user=%s source=%s channel=%s: %s",
            asked.user_id,
            asked.source,
            asked.channel_id,
            reason,
        )
        settings = self.services.settings
        record = usage_record(
            asked,
            model=asked.kind.model or settings.model,
            status=REFUSED_STATUS,
            cost=Cost.from_nano_usd(0),
            error=reason,
            attempts=0,
        )
        await self.services.drafter.usage_rows.record(record)  # the journal keeps it if need be
        admins = previews.admin_contact(settings.admin_user_ids)
        return REFUSAL_WORDS[reason].format(admins=admins, command=settings.command)

    async def _person(self, user_id: str) -> dict[str, Any] | None:
        cached = self._people.get(user_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        async with self._locks.setdefault(f"user:{user_id}", asyncio.Lock()):
            cached = self._people.get(user_id)
            if cached is not None and cached[0] > self.clock():
                return cached[1]
            try:
                user = await self.people.user_info(user_id)
            except Exception as error:  # the network: fail closed
                log.warning("users.info failed for %s: %s", user_id, type(error).__name__)
                user = None
            ttl = PERSON_TTL_SECONDS if user else FAILED_TTL_SECONDS
            self._people[user_id] = (self.clock() + ttl, user)
            return user

    async def _members(self, group: str) -> frozenset[str] | None:
        """The user group's members; None when Slack would not say (then, for a while)."""
        cached = self._groups.get(group)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        async with self._locks.setdefault(f"group:{group}", asyncio.Lock()):
            cached = self._groups.get(group)
            if cached is not None and cached[0] > self.clock():
                return cached[1]
            members = await self._ask_members(group)
            ttl = GROUP_TTL_SECONDS if members is not None else FAILED_TTL_SECONDS
            self._groups[group] = (self.clock() + ttl, members)
            return members

    async def _ask_members(self, group: str) -> frozenset[str] | None:
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            log.warning(
                "usergroups.users.list failed for %s: %s", group, error.response.get("error")
            )
            return None
        except Exception as error:  # the network: fail closed, and say so in the log
            log.warning("usergroups.users.list failed for %s: %s", group, type(error).__name__)
            return None
        users = response.get("users")
        return frozenset(str(user) for user in users) if isinstance(users, list) else None


class CheckedFlows(Flows):
    """`Flows` with the access check before every use case that calls the model or posts."""

    def __init__(
        self, services: Services, people: People, client: AsyncWebClient, access: Access
    ) -> None:
        super().__init__(services, people, client)
        self.access = access

    async def draft(
        self,
        request: DraftRequest,
        reply: Reply,
        *,
        notes: tuple[Block, ...] = (),
        announce: bool = False,
    ) -> None:
        if not await self.access.turned_away(request, reply):
            await super().draft(request, reply, notes=notes, announce=announce)

    async def draft_from_files(
        self, request: DraftRequest, files: list[dict[str, Any]], reply: Reply
    ) -> None:
        """Refused before any file is downloaded; `draft` asks again (from the cache)."""
        if not await self.access.turned_away(request, reply):
            await super().draft_from_files(request, files, reply)

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
        """Refused before the conversation is read; `draft` asks again (from the cache)."""
        asked = DraftRequest(kind, "", asker.user_id, source, asker.team_id, asker.channel_id)
        if not await self.access.turned_away(asked, reply):
            await super().draft_from_conversation(
                asker, kind, text, ref, reply, check_access=check_access, source=source
            )

    async def refine(self, user_id: str, draft_id: str, action: str, reply: Reply) -> None:
        """Someone removed from the allow list can't keep refining: the draft stays on
        screen, with the sentence."""
        stored = await self._own(draft_id, user_id)
        if stored is not None and (refused := await self.access.refused_draft(stored, action)):
            await reply.show(self._previous_with_problem(stored, refused))
            return
        await super().refine(user_id, draft_id, action, reply)

    async def post(
        self, user_id: str, draft_id: str, *, text: str | None = None, channel: str | None = None
    ) -> str | None:
        stored = await self._own(draft_id, user_id)
        if stored is not None and (
            refused := await self.access.refused_draft(stored, "post", channel)
        ):
            return refused
        return await super().post(user_id, draft_id, text=text, channel=channel)

    async def _own(self, draft_id: str, user_id: str) -> StoredDraft | None:
        """The person's draft; None (and `Flows` says why) when it can't be had."""
        try:
            return await self.load_draft(draft_id, user_id)
        except Exception:
            return None
