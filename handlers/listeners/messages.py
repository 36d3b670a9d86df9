"""The Messages tab: people write to Draftbot directly and the draft streams in as it is written."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import DraftRequest
from bot.slack_ids import find_slack_link
from handlers.access import Access
from handlers.blocks import previews
from handlers.flows import Asker, Flows
from handlers.replies import DirectMessageReply, StreamReply


def register(app: AsyncApp, command: str) -> None:
    app.event("message")(on_message)


async def on_message(
    event: dict[str, Any], client: AsyncWebClient, flows: Flows, access: Access
) -> None:
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    if event.get("subtype") not in (None, "file_share"):
        return
    text = (event.get("text") or "").strip()
    files = [f for f in event.get("files") or [] if isinstance(f, dict)]
    if not (text or files) or not event.get("user"):
        return
    # Slack redelivers events it thinks were missed: answer each message once.
    if not await flows.first_time(f"im:{event['channel']}:{event['ts']}"):
        return
    channel, ts, user_id = event["channel"], event["ts"], event["user"]
    answer = DirectMessageReply(client, user_id, channel=channel)
    asked = DraftRequest(flows.library.default_kind, "", user_id, "dm", event.get("team"))
    if await access.turned_away(asked, answer):  # before anything, "Drafting…" included
        return
    if files:
        await _draft_from_files(event, text, files, client, flows)
        return
    route = flows.library.route(text)
    if route.kind is None:
        await answer.show(previews.help_message(flows.library, flows.command))
        return
    if route.needs_details:
        await answer.tell(previews.needs_details_text(route.kind, flows.command))
        return
    link = find_slack_link(route.text)
    if link is not None and link.ref is None:
        await answer.tell(wording.BAD_SLACK_LINK)
        return
    asker = Asker(user_id, event.get("team"), None)  # the channel is chosen at Post
    stream = StreamReply(client, user_id, asker.team_id, channel, ts, typed=route.text)
    await stream.start(previews.working_text(route.kind))
    if link is not None and link.ref is not None:
        await flows.draft_from_conversation(
            asker, route.kind, route.text, link.ref, stream, check_access=True, source="dm"
        )
        return
    request = DraftRequest(
        kind=route.kind, text=route.text, user_id=user_id, source="dm", team_id=asker.team_id
    )
    await flows.draft(request, stream)


async def _draft_from_files(
    event: dict[str, Any],
    text: str,
    files: list[dict[str, Any]],
    client: AsyncWebClient,
    flows: Flows,
) -> None:
    """A file shared with or without words: "summarize this", "draft a reply to this"."""
    channel, ts, user_id = event["channel"], event["ts"], event["user"]
    library = flows.library
    route = library.route(text) if text else None
    kind = route.kind if route and route.kind else library.find("summary") or library.default_kind
    asker = Asker(user_id, event.get("team"), None)
    stream = StreamReply(client, user_id, asker.team_id, channel, ts, typed=text)
    await stream.start(previews.working_text(kind))
    request = DraftRequest(
        kind=kind, text=text, user_id=user_id, source="dm", team_id=asker.team_id
    )
    await flows.draft_from_files(request, files, stream)
