"""Drafts as Slack canvases: a standalone canvas the author may edit and share when ready,
or, where the workspace allows no standalone canvases (free plans, an admin's policy), the
canvas of the channel the draft was asked for in.

No model call and no usage row: the canvas holds the text the person already has, made safe
by the caller exactly as the preview showed it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_ids import is_direct_message

log = logging.getLogger(__name__)

# What Slack answers when this workspace allows no standalone canvases (the plan or an
# admin's policy); older docs call the first one `free_teams_cannot_create_non_tabbed_canvases`.
STANDALONE_REFUSED = frozenset(
    {
        "free_teams_cannot_create_standalone_canvases",
        "free_teams_cannot_create_non_tabbed_canvases",
        "team_tier_cannot_create_standalone_canvases",
        "not_allowed",
        "restricted_action",
        "access_denied",
    }
)


@dataclass(frozen=True)
class Canvas:
    id: str
    url: str
    channel_id: str | None = None  # a channel's canvas: everyone in it can see it


async def open_canvas(
    client: AsyncWebClient,
    user_id: str,
    title: str,
    markdown: str,
    *,
    channel_id: str | None = None,
) -> Canvas | None:
    """A canvas holding `markdown` that `user_id` may edit: a standalone one, else (when the
    workspace refuses standalone canvases and `channel_id` is a channel) that channel's
    canvas; None (logged) when Slack makes neither."""
    content = {"type": "markdown", "markdown": markdown}
    try:
        try:
            created = await client.canvases_create(title=title, document_content=content)
            shared_in = None
        except SlackApiError as error:
            code = _code(error)
            if code not in STANDALONE_REFUSED or not channel_id or is_direct_message(channel_id):
                raise
            log.info("standalone canvases refused (%s); trying the channel's canvas", code)
            created = await client.conversations_canvases_create(
                channel_id=channel_id, title=title, document_content=content
            )
            shared_in = channel_id
        canvas_id = str(created["canvas_id"])
        await client.canvases_access_set(
            canvas_id=canvas_id, access_level="write", user_ids=[user_id]
        )
        return Canvas(canvas_id, await _link(client, canvas_id), shared_in)
    except (TimeoutError, SlackApiError, aiohttp.ClientError, KeyError) as error:
        log.warning("could not open a canvas for user=%s: %s", user_id, _why(error))
        return None


async def _link(client: AsyncWebClient, canvas_id: str) -> str:
    """The canvas's address in this workspace (`https://DOMAIN.slack.com/docs/TEAM/ID`)."""
    identity = await client.auth_test()
    workspace = str(identity.get("url") or "https://slack.com/").rstrip("/")
    return f"{workspace}/docs/{identity.get('team_id')}/{canvas_id}"


def _code(error: SlackApiError) -> str:
    return str(error.response.get("error"))


def _why(error: BaseException) -> str:
    return _code(error) if isinstance(error, SlackApiError) else type(error).__name__
