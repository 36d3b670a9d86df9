"""Buttons under a draft preview: post, refine, edit, discard."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import DraftFailed
from bot.refinements import REFINEMENTS
from bot.services import Services
from bot.sessions import DraftUnavailable, StoredDraft
from handlers import render, views
from handlers.commands import budget_alerts

log = logging.getLogger(__name__)

_REFINE_ACTIONS = re.compile(r"^draft_(regenerate|shorter|longer|continue)$")


def register(app: AsyncApp, services: Services) -> None:
    async def on_refine(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        name = action["action_id"].removeprefix("draft_")
        await refine(services, body["user"]["id"], action["value"], name, body, respond, client)

    async def on_tone(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        tone, _, draft_id = action["selected_option"]["value"].partition(":")
        await refine(services, body["user"]["id"], draft_id, tone, body, respond, client)

    async def on_post(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        try:
            stored = services.sessions.load(action["value"], body["user"]["id"])
        except DraftUnavailable as refusal:
            await tell(respond, refusal.user_message)
            return
        if not stored.channel_id:  # written in the Messages tab: ask where it should go
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=views.choose_channel_modal(stored.id, body.get("response_url")),
            )
            return
        problem = await post_to_channel(services, body["user"]["id"], stored.id, client)
        if problem:
            await tell(respond, problem)
        else:
            await respond(
                replace_original=True, text=wording.POSTED.format(channel=stored.channel_id)
            )

    async def on_edit(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        try:
            stored = services.sessions.load(action["value"], body["user"]["id"])
        except DraftUnavailable as refusal:
            await tell(respond, refusal.user_message)
            return
        if len(stored.text) > render.EDIT_LIMIT:
            await tell(respond, wording.EDIT_TOO_LONG)
            return
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=views.edit_modal(stored.id, stored.text, body.get("response_url")),
        )

    async def on_discard(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            services.sessions.claim(action["value"], body["user"]["id"])
        except DraftUnavailable as refusal:
            await tell(respond, refusal.user_message)
            return
        services.sessions.release(action["value"], status="discarded")
        await respond(delete_original=True)

    app.action(_REFINE_ACTIONS)(on_refine)
    app.action("draft_tone")(on_tone)
    app.action("draft_post")(on_post)
    app.action("draft_edit")(on_edit)
    app.action("draft_discard")(on_discard)


async def tell(respond: AsyncRespond, text: str) -> None:
    """A private note below the preview, leaving the preview as it is."""
    await respond(replace_original=False, response_type="ephemeral", text=text)


async def refine(
    services: Services,
    user_id: str,
    draft_id: str,
    name: str,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """Show "Making it shorter…", ask the model, then show the new preview."""
    sessions = services.sessions
    try:
        stored = sessions.claim(draft_id, user_id)
    except DraftUnavailable as refusal:
        await tell(respond, refusal.user_message)
        return
    working = render.working_preview(stored.text, REFINEMENTS[name].working)
    try:
        await respond(replace_original=True, **working)
    except BaseException:  # never leave the draft stuck as "working"
        sessions.release(draft_id)
        raise
    try:
        async with services.in_flight.track():
            draft = await sessions.refine(stored, name, body.get("response_url"))
        messages = render.draft_messages(draft)
        await budget_alerts(services, client, draft, messages[-1])
    except DraftFailed as failure:
        messages = _previous_with_failure(services, stored, failure)
    except Exception:
        log.exception("unexpected error while refining draft=%s", draft_id)
        messages = _previous_with_failure(services, stored, DraftFailed(wording.UNEXPECTED))
    await _replace(respond, messages)


def _previous_with_failure(
    services: Services, stored: StoredDraft, failure: DraftFailed
) -> list[render.Payload]:
    """Keep the draft the person had, with its buttons, and say what went wrong."""
    messages = render.draft_messages(services.sessions.as_draft(stored))
    message = failure.user_message
    if failure.over_budget:
        from handlers.spending import over_budget_text

        message = over_budget_text(services, failure.over_budget)
    messages[-1]["blocks"].insert(-1, render.notice(f":warning: {message}")["blocks"][0])
    return messages


async def _replace(respond: AsyncRespond, messages: list[render.Payload]) -> None:
    # A refined preview replaces the old one; a longer-than-one-message draft adds parts.
    for index, message in enumerate(messages[:4]):
        await respond(response_type="ephemeral", replace_original=index == 0, **message)


async def post_to_channel(
    services: Services,
    user_id: str,
    draft_id: str,
    client: AsyncWebClient,
    text: str | None = None,
) -> str | None:
    """Post the draft (or `text`, an edited version) where it was asked for.

    Returns None once posted, or the plain-words reason it could not be.
    """
    try:
        stored = services.sessions.claim(draft_id, user_id)
    except DraftUnavailable as refusal:
        return refusal.user_message
    channel = stored.channel_id or ""
    body = text if text is not None else stored.text
    try:
        for message in render.posted_messages(body, user_id):
            await client.chat_postMessage(channel=channel, **message)
    except SlackApiError as error:
        services.sessions.release(draft_id)
        code = str(error.response.get("error"))
        log.info("could not post draft=%s to %s: %s", draft_id, channel, code)
        return cannot_post_reason(channel, code)
    except BaseException:  # network trouble: never leave the draft stuck as "working"
        services.sessions.release(draft_id)
        raise
    services.sessions.release(draft_id, status="posted", text=body)
    log.info("draft posted draft=%s user=%s channel=%s", draft_id, user_id, channel)
    return None


def cannot_post_reason(channel: str, error: str) -> str:
    if error in ("not_in_channel", "channel_not_found") and channel[:1] in ("D", ""):
        return wording.CANNOT_POST_DM
    if error in ("not_in_channel", "channel_not_found"):
        return wording.CANNOT_POST_NOT_IN_CHANNEL.format(channel=channel)
    return wording.CANNOT_POST.format(channel=channel, reason=error.replace("_", " "))
