"""The Messages tab: people write to Draftbot directly and the draft streams in as it is written."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import DraftRequest
from bot.slack_ids import find_slack_link
from handlers.blocks import previews
from handlers.flows import Asker, Flows
from handlers.replies import DirectMessageReply, StreamReply


def register(app: AsyncApp, command: str) -> None:
    app.event("message")(on_message)


async def on_message(event: dict[str, Any], client: AsyncWebClient, flows: Flows) -> None:
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    text = (event.get("text") or "").strip()
    if not text or not event.get("user"):
        return
    # Slack redelivers events it thinks were missed: answer each message once.
    if not await flows.first_time(f"im:{event['channel']}:{event['ts']}"):
        return
    channel, ts, user_id = event["channel"], event["ts"], event["user"]
    answer = DirectMessageReply(client, user_id, channel=channel)
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
    asked = DraftRequest(route.kind, "", user_id, "dm", asker.team_id)
    if await flows.access.turned_away(asked, answer):  # before "Drafting…" appears
        return
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
