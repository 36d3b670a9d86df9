"""The "Summarize thread" message shortcut, and Slack links inside `/draft` requests."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import DraftRequest
from bot.prompts import PromptKind
from bot.services import Services
from bot.threads import CannotReadConversation, MessageRef, Transcript, fetch_transcript

log = logging.getLogger(__name__)

SUMMARIZE_CALLBACK = "summarize_thread"


def register(app: AsyncApp, services: Services) -> None:
    async def on_summarize(
        ack: AsyncAck,
        shortcut: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        async with services.in_flight.track():  # shutdown waits for the whole summary
            await summarize(services, shortcut, respond, client)

    app.shortcut(SUMMARIZE_CALLBACK)(on_summarize)


async def summarize(
    services: Services, shortcut: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    """Read the thread the shortcut was used on and draft its summary privately."""
    message = shortcut["message"]
    ref = MessageRef(
        channel_id=shortcut["channel"]["id"],
        ts=message["ts"],
        thread_ts=message.get("thread_ts"),
    )
    kind = services.library.find("summary") or services.library.default_kind
    await respond(response_type="ephemeral", text=wording.READING_CONVERSATION)
    request = await request_with_conversation(
        services,
        client,
        respond,
        kind=kind,
        text=wording.SUMMARIZE_REQUEST,
        ref=ref,
        user_id=shortcut["user"]["id"],
        team_id=(shortcut.get("team") or {}).get("id"),
        source="shortcut",
    )
    if request is None:
        return
    from handlers.commands import draft_and_deliver

    await draft_and_deliver(services, request, respond, client)


async def request_with_conversation(
    services: Services,
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    kind: PromptKind,
    text: str,
    ref: MessageRef,
    user_id: str,
    team_id: str | None,
    source: str,
) -> DraftRequest | None:
    """The request with the linked conversation attached as material; None (and the
    person told what to do) when Draftbot cannot read it."""
    try:
        transcript = await fetch_transcript(client, services.people, ref)
    except CannotReadConversation as problem:
        log.info("cannot read %s for user=%s: %s", ref.channel_id, user_id, problem.reason)
        await respond(response_type="ephemeral", replace_original=True, text=problem.user_message)
        return None
    except Exception:  # rate limits, network trouble: say so rather than stay on "Reading…"
        log.exception("could not read %s for user=%s", ref.channel_id, user_id)
        await respond(response_type="ephemeral", replace_original=True, text=wording.UNEXPECTED)
        return None
    return DraftRequest(
        kind=kind,
        text=attach_conversation(text, transcript),
        user_id=user_id,
        source=source,
        team_id=team_id,
        channel_id=ref.channel_id,
    )


def attach_conversation(text: str, transcript: Transcript) -> str:
    return (
        f"{text}\n\nThe Slack conversation ({transcript.message_count} messages, "
        f"times in UTC):\n<conversation>\n{transcript.text}\n</conversation>"
    )
