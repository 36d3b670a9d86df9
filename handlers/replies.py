"""Where a reply goes, and the one send loop of each destination.

A listener or use case says *what* to show (an `Outgoing`); a destination knows *where* and
owns Slack's limits there: splitting long Markdown, 12,000 characters of markdown per
message, 5 posts per response_url, a canvas (else a file) for drafts too long for messages, the
buttons on the last visible part, retries of transient failures, and falling back to the
person's DM with Draftbot when a response_url cannot be used. Destinations never raise:
what cannot be shown anywhere is logged.

    ResponseUrlReply   the private replies of slash commands, buttons, shortcuts and forms
    DirectMessageReply the person's DM with Draftbot (and the fallback of the others)
    StreamReply        the Messages tab: the draft streams in as it is written
    post_to_channel    a finished draft, posted for everyone (raises SlackApiError)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import wording
from bot.llm import TextCallback
from bot.slack_ids import RESPONSE_URL_POSTS, is_dm_channel
from handlers.blocks.feedback import plain_instead
from handlers.blocks.message import Layout, Outgoing, Payload, layout, section
from handlers.blocks.text import MentionSafeText
from handlers.canvases import open_canvas

log = logging.getLogger(__name__)

# Messages a draft may take in a DM before it goes as a file instead (chat.postMessage
# allows about one message per second per channel).
DM_MESSAGES = 4
# After the first words (sent at once), streamed text goes out in pieces of this many
# characters: small enough to feel live, large enough to stay inside Slack's rate limits.
STREAM_BUFFER = 64
# Status lines ("number 3 in the queue") never use the last posts of a response_url: the
# draft needs them.
POSTS_KEPT_FOR_THE_DRAFT = 2
# A DM post Slack answered with 500/503 is tried this many more times (see `_post`).
DM_SERVER_ERROR_RETRIES = 2


class Reply(Protocol):
    on_text: TextCallback | None  # streamed pieces of the draft, where the surface shows them

    async def update(self, out: Outgoing) -> None:
        """Best effort: a status ("Drafting…", queue position) in place of what is shown."""

    async def show(self, out: Outgoing) -> None:
        """Replace what the person sees (the status) with `out`."""

    async def tell(self, text: str) -> None:
        """A note below, leaving what is shown as it is."""


class _TransientFailures(AsyncRetryHandler):
    """A response_url sometimes answers 404, 429 or 5xx once, or drops the connection."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None:
            return isinstance(error, aiohttp.ClientError | asyncio.TimeoutError)
        status = response.status_code if response is not None else 0
        return status in (404, 408, 429) or status >= 500


def _response_url_retries() -> list[AsyncRetryHandler]:
    # Three more tries after about 0.25, 0.5 and 1 s.
    return [_TransientFailures(3, BackoffRetryIntervalCalculator(backoff_factor=0.25))]


class DirectMessageReply:
    """The person's DM with Draftbot, optionally in a thread; updates its own last status."""

    on_text: TextCallback | None = None

    def __init__(
        self,
        client: AsyncWebClient,
        user_id: str,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        replace_ts: str | None = None,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.channel = channel  # None: chat.postMessage to the user id opens the DM
        self.thread_ts = thread_ts
        self.replace_ts = replace_ts  # a message of ours to replace with the next show()

    async def update(self, out: Outgoing) -> None:
        await self._send(layout(out, 1).messages, keep_for_update=True)

    async def show(self, out: Outgoing) -> None:
        shown = layout(out, DM_MESSAGES)
        if shown.as_file:
            shown = await self.elsewhere(out, DM_MESSAGES) or layout(replace(out, file_name=None))
        await self._send(shown.messages, keep_for_update=False)

    async def tell(self, text: str) -> None:
        await self._send([{"text": text, "blocks": [section(text)]}], keep_for_update=False)

    async def elsewhere(self, out: Outgoing, max_messages: int) -> Layout | None:
        """A body too long for `max_messages`: in a canvas only the person can see, else a
        file in their DM; the messages that say where it went, or None if neither worked."""
        canvas = await open_canvas(self.client, self.user_id, out.file_title, out.body)
        if canvas is not None:
            note = wording.SENT_AS_CANVAS.format(url=canvas.url)
            return layout(out, max_messages, elsewhere=note)
        return layout(out, max_messages) if await self.upload(out) else None

    async def upload(self, out: Outgoing) -> bool:
        """The whole body as a file in the DM; False (and logged) when Slack refuses."""
        try:
            if not is_dm_channel(self.channel):
                opened = await self.client.conversations_open(users=self.user_id)
                self.channel = str(opened["channel"]["id"])
            await self.client.files_upload_v2(
                channel=self.channel,
                content=out.body,
                filename=out.file_name or "draft.md",
                title=out.file_title or out.file_name or "draft",
                thread_ts=self.thread_ts,
            )
            return True
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as error:
            log.warning("could not upload a draft file for user=%s: %s", self.user_id, _why(error))
            return False

    async def _send(self, messages: list[Payload], *, keep_for_update: bool) -> None:
        channel = self.channel or self.user_id
        try:
            for index, message in enumerate(messages):
                if index == 0 and self.replace_ts:
                    await self._update(channel, self.replace_ts, message)
                    ts = self.replace_ts
                else:
                    sent = await self._post(channel=channel, thread_ts=self.thread_ts, **message)
                    self.channel, ts = str(sent["channel"]), str(sent["ts"])
                    channel = self.channel
                if index == 0:
                    self.replace_ts = ts if keep_for_update else None
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as error:
            log.warning("could not send a DM to user=%s: %s", self.user_id, _why(error))

    async def _update(self, channel: str, ts: str, message: Payload) -> None:
        try:
            await self.client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            plain = plain_instead(message) if _why(error) == "invalid_blocks" else None
            if plain is None:
                raise
            await self.client.chat_update(channel=channel, ts=ts, **plain)  # no feedback buttons

    async def _post(self, **message: Any) -> Any:
        """chat.postMessage, tried up to twice more after a 500/503: the Web API client never
        repeats a post (in a channel it could show twice), but in the person's own DM a
        stray second copy beats no answer at all."""
        for attempt in range(DM_SERVER_ERROR_RETRIES + 1):
            try:
                return await self.client.chat_postMessage(**message)
            except SlackApiError as error:
                plain = plain_instead(message) if _why(error) == "invalid_blocks" else None
                if plain is not None:  # a Slack without the feedback buttons
                    return await self.client.chat_postMessage(**plain)
                if error.response.status_code not in (500, 503):
                    raise
                if attempt == DM_SERVER_ERROR_RETRIES:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("the loop returns or raises")


class ResponseUrlReply:
    """Private replies through a response_url, with the person's DM as the fallback."""

    on_text: TextCallback | None = None

    def __init__(self, response_url: str, fallback: DirectMessageReply) -> None:
        self.response_url = response_url
        self.fallback = fallback
        self.posts = 0
        self.failed = False  # once the response_url has failed, everything goes to the DM

    @property
    def posts_left(self) -> int:
        return 0 if self.failed else RESPONSE_URL_POSTS - self.posts

    async def update(self, out: Outgoing) -> None:
        if self.posts_left > POSTS_KEPT_FOR_THE_DRAFT:
            await self._post(layout(out, 1).messages[0], replace=True)

    async def show(self, out: Outgoing) -> None:
        if self.posts_left < 1:
            await self._to_dm(out)
            return
        shown = layout(out, self.posts_left)
        if shown.as_file:
            cut = replace(out, file_name=None).with_blocks(section(wording.DRAFT_CUT_SHORT))
            shown = await self.fallback.elsewhere(out, self.posts_left) or layout(
                cut, self.posts_left
            )
        for index, message in enumerate(shown.messages):
            if not await self._post(message, replace=index == 0):
                await self._to_dm(out)
                return

    async def tell(self, text: str) -> None:
        message = {"text": text, "blocks": [section(text)]}
        if self.posts_left < 1 or not await self._post(message, replace=False):
            await self.fallback.tell(text)

    async def _to_dm(self, out: Outgoing) -> None:
        log.info("response_url unusable; sending to user=%s's DM", self.fallback.user_id)
        self.failed = True
        await self.fallback.show(out.with_blocks(section(wording.DELIVERED_TO_DM), first=True))

    async def _post(self, message: Payload, *, replace: bool) -> bool:
        self.posts += 1
        client = AsyncWebhookClient(self.response_url, retry_handlers=_response_url_retries())
        try:
            response = await client.send_dict(
                {"response_type": "ephemeral", "replace_original": replace, **message}
            )
        except (TimeoutError, aiohttp.ClientError) as error:
            log.warning("could not reach Slack's response_url: %s", _why(error))
            self.failed = True
            return False
        refused = response.status_code == 400 and response.body == "invalid_blocks"
        if refused and (plain := plain_instead(message)) is not None:  # no feedback buttons
            log.info("Slack refused its feedback buttons; sending plain ones instead")
            return await self._post(plain, replace=replace)
        if response.status_code != 200:
            log.warning(
                "Slack refused a response_url post: status=%s body=%.100s",
                response.status_code,
                response.body,
            )
            self.failed = True
            return False
        return True


class StreamReply:
    """The Messages tab: a working status at once, then the draft as the model writes it.

    Falls back to ordinary DM messages when Slack refuses the stream, when it breaks part-way
    (that message gets the result), or when what streamed is not the final draft (a retried
    call, a draft too long for one message)."""

    on_text: TextCallback | None

    def __init__(
        self,
        client: AsyncWebClient,
        user_id: str,
        team_id: str | None,
        channel: str,
        ts: str,
        typed: str = "",  # the person's request: mentions they typed stay live, as in previews
    ) -> None:
        self.channel, self.ts = channel, ts
        self.client = client
        self.user_id = user_id
        self.team_id = team_id
        self.dm = DirectMessageReply(client, user_id, channel=channel, thread_ts=ts)
        self.stream: Any = None
        self.safe = MentionSafeText(typed)
        self.streamed: list[str] = []
        self.on_text = self._on_text
        self.title = ""

    async def start(self, status: str) -> None:
        self.title = status
        try:
            self.stream = await self.client.chat_stream(
                channel=self.channel,
                thread_ts=self.ts,
                recipient_team_id=self.team_id,
                recipient_user_id=self.user_id,
                buffer_size=STREAM_BUFFER,
            )
            await self.stream.append(chunks=[_status(status, "in_progress")])
        except SlackApiError as error:
            log.info("Slack refused a chat stream (%s); falling back", _why(error))
            self.stream = None

    async def update(self, out: Outgoing) -> None:
        if self.stream is None:
            await self.dm.update(out)
            return
        try:
            await self.stream.append(chunks=[_status(out.text, "in_progress")])
        except (SlackApiError, aiohttp.ClientError) as error:
            log.info("could not update the chat stream: %s", _why(error))

    async def _on_text(self, piece: str) -> None:
        ready = self.safe.feed(piece)
        if self.stream is None or not ready:
            return
        try:
            if self.streamed:
                await self.stream.append(markdown_text=ready)
            else:  # the first words go out at once, not after a full buffer
                await self.stream.append(chunks=[MarkdownTextChunk(text=ready)])
            self.streamed.append(ready)
        except Exception as error:  # never let Slack trouble cancel a billed model call
            log.info("chat stream failed mid-way (%s); finishing without it", _why(error))
            self.dm.replace_ts = self.stream.ts
            self.stream = None

    async def show(self, out: Outgoing) -> None:
        if self.stream is not None:
            rest = self.safe.flush()
            whole = "".join(self.streamed) + rest == out.body
            one_message = len(layout(out, DM_MESSAGES).messages) == 1
            tail = [*out.blocks, *([out.actions] if out.actions else [])]
            done = "complete" if out.body else "error"
            try:
                try:
                    await self.stream.stop(
                        markdown_text=rest or None, chunks=[_status(self.title, done)], blocks=tail
                    )
                except SlackApiError as error:  # a Slack without the feedback buttons?
                    plain = plain_instead({"blocks": tail})
                    if _why(error) != "invalid_blocks" or plain is None:
                        raise
                    await self.stream.stop(  # `rest` is still in the stream's buffer: not again
                        chunks=[_status(self.title, done)], blocks=plain["blocks"]
                    )
                if not out.body or (whole and one_message and not layout(out, 1).as_file):
                    return
            except SlackApiError as error:
                log.info("could not finish the chat stream: %s", _why(error))
            self.dm.replace_ts = self.stream.ts
        await self.dm.show(out)

    async def tell(self, text: str) -> None:
        await self.dm.tell(text)


def _status(title: str, status: str) -> TaskUpdateChunk:
    return TaskUpdateChunk(id="draft", title=title, status=status)


async def post_to_channel(client: AsyncWebClient, channel: str, out: Outgoing) -> None:
    """Post `out` for everyone in `channel`, in as many messages as it needs."""
    for message in layout(out).messages:
        await client.chat_postMessage(channel=channel, **message)


def _why(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__
