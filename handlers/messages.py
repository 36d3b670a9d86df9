"""The Messages tab: people write to Draftbot directly and the draft streams in as it is written."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import Draft, DraftFailed, DraftRequest
from bot.prompts import PromptKind
from bot.services import Services
from handlers import render
from handlers.commands import budget_alerts

log = logging.getLogger(__name__)

# After the first words (sent at once), text goes out in pieces of this many characters:
# small enough to feel live, large enough to stay well inside Slack's rate limits.
STREAM_BUFFER = 64
_UNFINISHED_TOKEN = re.compile(r"(<[^<>]*|@\w*)$")


class MentionSafeText:
    """Neutralises mentions in streamed text, holding back a token that may still be
    cut in half (`<!he` + `re>`) until the next piece shows how it ends."""

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        match = _UNFINISHED_TOKEN.search(self.pending)
        cut = match.start() if match and len(match.group(0)) < 64 else len(self.pending)
        ready, self.pending = self.pending[:cut], self.pending[cut:]
        return render.neutralize_mentions(ready)

    def flush(self) -> str:
        ready, self.pending = self.pending, ""
        return render.neutralize_mentions(ready)


def register(app: AsyncApp, services: Services) -> None:
    async def on_message(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        text = (event.get("text") or "").strip()
        if not text or not event.get("user"):
            return
        # Slack redelivers events it thinks were missed: answer each message once.
        if not services.store.first_time(f"im:{event['channel']}:{event['ts']}"):
            return
        async with services.in_flight.track():
            await answer_direct_message(services, client, event, text)

    app.event("message")(on_message)


async def answer_direct_message(
    services: Services, client: AsyncWebClient, event: dict[str, Any], text: str
) -> None:
    channel, ts, user = event["channel"], event["ts"], event["user"]
    route = services.library.route(text)
    if route.kind is None or route.needs_details:
        command = services.settings.command
        reply = (
            render.help_message(services.library, command)
            if route.kind is None
            else {"text": render.needs_details_text(route.kind, command)}
        )
        reply.pop("response_type", None)
        await client.chat_postMessage(channel=channel, **reply)
        return
    request = DraftRequest(
        kind=route.kind,
        text=route.text,
        user_id=user,
        source="dm",
        team_id=event.get("team"),
        channel_id=None,  # chosen when they click "Post to channel"
    )
    await stream_draft(services, client, request, channel, ts)


async def stream_draft(
    services: Services,
    client: AsyncWebClient,
    request: DraftRequest,
    channel: str,
    thread_ts: str,
) -> None:
    """Stream the draft into the DM, then finish the message with the preview buttons.

    Falls back to a plain message updated at the end if Slack refuses the stream.
    """
    stream = await _start_stream(client, request, channel, thread_ts)
    failed_ts: str | None = None  # a stream that broke part-way: its message gets the result
    safe = MentionSafeText()
    streamed: list[str] = []

    async def on_text(piece: str) -> None:
        nonlocal stream, failed_ts
        ready = safe.feed(piece)
        if stream is None or not ready:
            return
        try:
            if streamed:
                await stream.append(markdown_text=ready)
            else:  # the first words go out at once, not after a full buffer
                await stream.append(chunks=[MarkdownTextChunk(text=ready)])
            streamed.append(ready)
        except Exception as error:  # never let Slack trouble cancel a billed model call
            log.info("chat stream failed mid-way (%s); finishing without it", type(error).__name__)
            failed_ts = stream.ts
            stream = None

    draft: Draft | None = None
    try:
        draft = await services.sessions.create(request, on_text=on_text)
        messages = render.draft_messages(draft)
        await budget_alerts(services, client, draft, messages[-1])
    except DraftFailed as failure:
        messages = [render.failure_message(failure.user_message, failure.reference)]
    except Exception:
        log.exception("unexpected error while drafting in a DM for user=%s", request.user_id)
        messages = [render.failure_message(wording.UNEXPECTED, None)]

    if stream is not None:
        rest = safe.flush()
        complete = draft is not None and len(messages) == 1
        whole = "".join(streamed) + rest == render.neutralize_mentions(draft.text if draft else "")
        # The streamed text stays; the buttons (or the error) are added as blocks.
        extra = [b for b in messages[-1]["blocks"] if b["type"] != "markdown"]
        try:
            await stream.stop(
                markdown_text=rest or None,
                chunks=[_status(request.kind, "complete" if draft else "error")],
                blocks=extra,
            )
            if (complete and whole) or draft is None:
                return
        except SlackApiError as error:
            log.info("could not finish the chat stream: %s", error.response.get("error"))
    # No stream, or what streamed is not the final draft (a retried call, a draft too long
    # for one message): show the final version as ordinary messages.
    await _show_final(client, channel, thread_ts, stream.ts if stream else failed_ts, messages)


async def _start_stream(
    client: AsyncWebClient, request: DraftRequest, channel: str, thread_ts: str
) -> Any:
    try:
        stream = await client.chat_stream(
            channel=channel,
            thread_ts=thread_ts,
            recipient_team_id=request.team_id,
            recipient_user_id=request.user_id,
            buffer_size=STREAM_BUFFER,
        )
        # Shows "Drafting your email…" as a working step straight away.
        await stream.append(chunks=[_status(request.kind, "in_progress")])
        return stream
    except SlackApiError as error:
        log.info("Slack refused a chat stream (%s); falling back", error.response.get("error"))
        return None


def _status(kind: PromptKind, status: str) -> TaskUpdateChunk:
    return TaskUpdateChunk(id="draft", title=wording.WORKING.format(kind=kind.name), status=status)


async def _show_final(
    client: AsyncWebClient,
    channel: str,
    thread_ts: str,
    ts: str | None,
    messages: list[dict[str, Any]],
) -> None:
    try:
        for index, message in enumerate(messages):
            if index == 0 and ts:
                await client.chat_update(channel=channel, ts=ts, **message)
            else:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    except SlackApiError as error:
        log.warning("could not show the draft in %s: %s", channel, error.response.get("error"))
