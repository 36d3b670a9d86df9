"""Who people are: display names (cached in the database) and who counts as an admin."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_ids import is_user_id
from bot.storage import Storage
from bot.storage.offloop import off_loop, write_off_loop

log = logging.getLogger(__name__)

NAME_CACHE_TTL = timedelta(days=7)


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
        """Could this person read the conversation themselves? Public channels: yes;
        private channels and DMs: only their members. Unknown: no."""
        if self.client is None:
            return False
        try:
            info = (await self.client.conversations_info(channel=channel_id))["channel"]
        except SlackApiError as error:
            log.info(
                "conversations.info failed for %s: %s", channel_id, error.response.get("error")
            )
            return False
        private = info.get("is_private") or info.get("is_im") or info.get("is_mpim")
        return not private or await self.is_member(user_id, channel_id)

    async def is_member(self, user_id: str, channel_id: str) -> bool:
        if self.client is None:
            return False
        try:
            pages = await self.client.conversations_members(channel=channel_id, limit=1000)
            async for page in pages:  # slack-sdk follows the cursor
                if user_id in page.get("members", []):
                    return True
            return False
        except SlackApiError as error:
            reason = error.response.get("error")
            log.info("conversations.members failed for %s: %s", channel_id, reason)
            return False

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


def _best_name(row: dict[str, Any]) -> str:
    return str(row.get("display_name") or row.get("real_name") or "")
