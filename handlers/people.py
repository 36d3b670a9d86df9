"""Who people are: display names (cached in the database), who counts as an admin, and
which conversations they may have Draftbot read or post in."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import DraftRequest
from bot.languages import TRANSLATE_KIND, locale_language, named_language
from bot.slack_ids import is_user_id
from bot.storage import Storage
from bot.storage.offloop import off_loop, write_off_loop

log = logging.getLogger(__name__)

NAME_CACHE_TTL = timedelta(days=7)

# Why Draftbot will not read a conversation for someone: a private conversation (or one
# Slack will not describe), a Slack Connect channel, a guest or someone from another
# organisation, or Slack could not say who the person is. Each applies to non-members only.
Refusal = Literal["private", "shared", "guest", "unchecked"]


class People:
    def __init__(
        self, store: Storage, client: AsyncWebClient | None, admin_user_ids: frozenset[str]
    ) -> None:
        self.store = store
        self.client = client  # None: no Slack (terminal use): cached names only
        self.admin_user_ids = admin_user_ids

    async def names(self, user_ids: list[str]) -> dict[str, str]:
        """Display names by user id; falls back to the id when Slack cannot say."""
        cached = await off_loop(self.store.people, user_ids)
        fresh_after = (datetime.now(UTC) - NAME_CACHE_TTL).isoformat()
        names = {uid: _best_name(row) or uid for uid, row in cached.items()}
        if self.client is None:
            return {uid: names.get(uid, uid) for uid in user_ids}
        for user_id in user_ids:
            row = cached.get(user_id)
            if row is not None and row["updated_at"] >= fresh_after:
                continue
            if not is_user_id(user_id):
                names.setdefault(user_id, user_id)  # e.g. "cli"
                continue
            user = await self._user_info(user_id)
            if user is None:
                names.setdefault(user_id, user_id)
                continue
            if not user:  # Slack says there is no such user: remember that too
                await self._remember(user_id, "", "")
                names.setdefault(user_id, user_id)
                continue
            profile = user.get("profile") or {}
            display = profile.get("display_name") or ""
            real = profile.get("real_name") or user.get("real_name") or ""
            await self._remember(user_id, display, real)
            names[user_id] = display or real or user.get("name") or user_id
        return names

    async def _remember(self, user_id: str, display: str, real: str) -> None:
        try:
            await write_off_loop(self.store.save_person, user_id, display, real)
        except Exception as error:  # only a cache: the name is still known for this call
            log.info("could not cache a display name (%s)", type(error).__name__)

    async def is_admin(self, user_id: str) -> bool:
        """In ADMIN_USER_IDS, or a Slack workspace admin or owner (asked fresh every time)."""
        if user_id in self.admin_user_ids:
            return True
        user = await self._user_info(user_id)
        return bool(user and (user.get("is_admin") or user.get("is_owner")))

    async def can_read(self, user_id: str, channel_id: str) -> bool:
        return await self.why_cannot_read(user_id, channel_id) is None

    async def channel_names(self, channel_ids: list[str]) -> dict[str, str]:
        """ "#name" by channel id, for those Slack describes (conversations.info)."""
        if self.client is None:
            return {}
        names = {}
        for channel_id in channel_ids:
            try:
                info = (await self.client.conversations_info(channel=channel_id))["channel"]
            except SlackApiError as error:
                log.info(
                    "conversations.info failed for %s: %s", channel_id, error.response.get("error")
                )
                continue
            if info.get("name"):
                names[channel_id] = f"#{info['name']}"
        return names

    async def why_cannot_read(self, user_id: str, channel_id: str) -> Refusal | None:
        """None when this person could read the conversation themselves; else why not.

        Members may always. Everyone else: private channels, DMs and group DMs, no
        ("private"); Slack Connect channels, shared with another organisation or being
        shared, no ("shared"); public channels, yes for full members of the workspace, but
        not for guests (`is_restricted`, `is_ultra_restricted`) or people of another
        organisation (`is_stranger`, or a team that is not the channel's) ("guest"). When
        Slack cannot describe the channel: "private"; the person: members only
        ("unchecked").
        """
        if self.client is None:
            return "private"
        try:
            info = (await self.client.conversations_info(channel=channel_id))["channel"]
        except SlackApiError as error:
            reason = error.response.get("error")
            log.info("conversations.info failed for %s: %s", channel_id, reason)
            return "unchecked" if reason == "ratelimited" else "private"
        refusal: Refusal
        if info.get("is_private") or info.get("is_im") or info.get("is_mpim"):
            refusal = "private"
        elif shared_with_other_organisations(info):
            refusal = "shared"
        else:
            user = await self._user_info(user_id)
            if user and not reads_only_own_conversations(user, info):
                return None
            refusal = "guest" if user is not None else "unchecked"
        return None if await self.is_member(user_id, channel_id) else refusal

    async def is_member(self, user_id: str, channel_id: str) -> bool:
        """In the conversation's member list; False when Slack cannot say."""
        try:
            return await self.check_member(user_id, channel_id)
        except SlackApiError as error:
            reason = error.response.get("error")
            log.info("conversations.members failed for %s: %s", channel_id, reason)
            return False

    async def check_member(self, user_id: str, channel_id: str) -> bool:
        """In the conversation's member list; raises SlackApiError when Slack cannot say
        (`channel_not_found` where Draftbot is not in a private conversation)."""
        if self.client is None:
            return False
        pages = await self.client.conversations_members(channel=channel_id, limit=1000)
        async for page in pages:  # slack-sdk follows the cursor
            if user_id in page.get("members", []):
                return True
        return False

    async def into_a_language(self, request: DraftRequest) -> DraftRequest:
        """A translation that names no language goes into the person's Slack language,
        said in the request itself so that the buttons' new versions keep it."""
        if request.kind.name != TRANSLATE_KIND or named_language(request.text):
            return request
        language = locale_language(await self.locale(request.user_id))
        into = wording.TRANSLATE_INTO.format(language=language) if language else ""
        return replace(request, text=request.text + into)

    async def locale(self, user_id: str) -> str | None:
        """The person's Slack language setting ("pt-BR"); None when Slack cannot say."""
        if self.client is None:
            return None
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except Exception as error:  # best effort: a translation without it names no language
            reason = (
                error.response.get("error")
                if isinstance(error, SlackApiError)
                else type(error).__name__
            )
            log.warning("users.info (locale) failed for %s: %s", user_id, reason)
            return None
        locale = (response.get("user") or {}).get("locale")
        return str(locale) if locale else None

    async def user_info(self, user_id: str) -> dict[str, Any] | None:
        """users.info's user; {} when Slack has no such user, None when it could not answer."""
        return await self._user_info(user_id)

    async def _user_info(self, user_id: str) -> dict[str, Any] | None:
        """The user, {} when Slack has no such user, None when Slack could not answer."""
        if self.client is None:
            return None
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as error:
            reason = error.response.get("error")
            log.warning("users.info failed for %s: %s", user_id, reason)
            return {} if reason == "user_not_found" else None
        user = response.get("user")
        return user if isinstance(user, dict) else None


def shared_with_other_organisations(channel: Mapping[str, Any]) -> bool:
    """A Slack Connect channel (conversations.info), or one being shared: `is_ext_shared`,
    `is_pending_ext_shared`, or `is_shared` between workspaces that are not one Enterprise
    Grid organisation (`is_org_shared`)."""
    if channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"):
        return True
    return bool(channel.get("is_shared")) and not channel.get("is_org_shared")


def reads_only_own_conversations(user: Mapping[str, Any], channel: Mapping[str, Any]) -> bool:
    """Guests, and people of another organisation, see only the conversations they are in
    (`is_guest_or_outsider`, against the channel's workspace, `context_team_id`)."""
    return is_guest_or_outsider(user, channel.get("context_team_id"))


def is_guest_or_outsider(user: Mapping[str, Any], home_team: str | None) -> bool:
    """A guest, or someone of another organisation: `is_restricted` (multi-channel guest),
    `is_ultra_restricted` (single-channel guest), `is_stranger`, or a `team_id` other than
    `home_team` that is not one of their Enterprise Grid workspaces either."""
    if user.get("is_restricted") or user.get("is_ultra_restricted") or user.get("is_stranger"):
        return True
    team = user.get("team_id")
    if not home_team or not team or team == home_team:
        return False
    enterprise = user.get("enterprise_user")
    teams = enterprise.get("teams") if isinstance(enterprise, dict) else None
    return not (isinstance(teams, list) and home_team in teams)


def _best_name(row: dict[str, Any]) -> str:
    return str(row.get("display_name") or row.get("real_name") or "")
