"""A Slack member's id from what an admin types: `U012AB3CD`, `@alex` or `alex@example.com`.

Names are matched against every member's username, display name and real name (case and
a leading @ ignored), reading `users.list` page by page; e-mail addresses go to
`users.lookupByEmail`, which needs the `users:read.email` scope.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_ids import is_user_id

PAGE_SIZE = 200  # Slack's recommended users.list page size


class NotAMember(Exception):
    """`str(error)` says, in plain words, why nobody (or more than one person) matched."""


async def find_member(client: AsyncWebClient | None, who: str) -> str:
    """The member id `who` names; raises `NotAMember`."""
    who = who.strip()
    if is_user_id(who):
        return who
    if client is None:
        raise NotAMember(
            f"{who!r} is not a Slack member ID (U… or W…). Set SLACK_BOT_TOKEN to look people "
            "up by @name or e-mail, or copy the member ID from their Slack profile (⋮ → Copy "
            "member ID)."
        )
    if "@" in who.lstrip("@"):
        return await _by_email(client, who)
    return await _by_name(client, who.lstrip("@"))


async def _by_email(client: AsyncWebClient, email: str) -> str:
    try:
        found = await client.users_lookupByEmail(email=email)
    except SlackApiError as error:
        code = error.response.get("error")
        if code == "users_not_found":
            raise NotAMember(f"Nobody in this Slack workspace has the e-mail {email}.") from error
        if code == "missing_scope":
            raise NotAMember(
                "Looking people up by e-mail needs the users:read.email scope, which Draftbot's "
                "app does not have: use @name or the member ID instead."
            ) from error
        raise NotAMember(f"Slack could not look up {email}: {code}.") from error
    return str(found["user"]["id"])


async def _by_name(client: AsyncWebClient, name: str) -> str:
    wanted = name.casefold()
    matches: dict[str, str] = {}
    pages = await client.users_list(limit=PAGE_SIZE)
    async for page in pages:
        for member in page.get("members") or []:
            if member.get("deleted") or member.get("is_bot"):
                continue
            profile = member.get("profile") or {}
            names = (member.get("name"), profile.get("display_name"), profile.get("real_name"))
            if any(str(n or "").casefold() == wanted for n in names):
                matches[str(member["id"])] = str(profile.get("real_name") or member.get("name"))
    if not matches:
        raise NotAMember(f"Nobody in this Slack workspace is called {name!r}.")
    if len(matches) > 1:
        listed = ", ".join(f"{label} ({uid})" for uid, label in sorted(matches.items()))
        raise NotAMember(f"More than one person is called {name!r}: {listed}. Use the member ID.")
    return next(iter(matches))
