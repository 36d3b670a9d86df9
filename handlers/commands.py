"""The `/draft` slash command: parse, acknowledge at once, draft, reply privately."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import Draft, DraftFailed, DraftRequest
from bot.prompts import PromptKind
from bot.services import Services
from bot.threads import MessageRef, find_permalink
from handlers import render, shortcuts, spending, views

log = logging.getLogger(__name__)

# A response_url takes at most 5 posts (../shared/FACTS.md); keep one for a late error.
MAX_RESPONSE_MESSAGES = 4


def register(app: Any, services: Services) -> None:
    async def on_draft_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await handle_draft_command(services, ack, command, respond, client)

    app.command(services.settings.command)(on_draft_command)


async def handle_draft_command(
    services: Services,
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    slash = services.settings.command
    text = command.get("text") or ""
    subcommand = spending.parse_subcommand(text)
    if subcommand is not None:
        await spending.handle_subcommand(subcommand, services, ack, command, respond, client)
        return
    if not text.strip():
        # No words at all: the form, for people who would rather not type commands.
        await ack()
        try:
            await client.views_open(
                trigger_id=command["trigger_id"],
                view=views.draft_form(
                    services.library,
                    channel_id=command.get("channel_id"),
                    response_url=command.get("response_url"),
                ),
            )
        except SlackApiError as error:  # e.g. an expired trigger: fall back to the help text
            log.warning("could not open the draft form: %s", error.response.get("error"))
            await respond(**render.help_message(services.library, slash))
        return
    route = services.library.route(text)
    if route.kind is None:
        await ack(**render.help_message(services.library, slash))
        return
    if route.needs_details:
        await ack(text=render.needs_details_text(route.kind, slash))
        return
    link = find_permalink(route.text)
    if link is not None:
        async with services.in_flight.track():  # shutdown waits for the whole summary
            await _draft_from_link(
                services, ack, command, respond, client, route.kind, route.text, link
            )
        return
    # Slack shows "operation_timeout" unless we answer within 3 s: ack first, draft after.
    await ack(text=render.working_text(route.kind))
    request = DraftRequest(
        kind=route.kind,
        text=route.text,
        user_id=command["user_id"],
        source="slash",
        team_id=command.get("team_id"),
        channel_id=command.get("channel_id"),
    )
    await draft_and_deliver(services, request, respond, client, announced=True)


async def _draft_from_link(
    services: Services,
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    kind: PromptKind,
    text: str,
    link: MessageRef,
) -> None:
    """A link to a Slack message: read that conversation and draft from it."""
    await ack(text=wording.READING_CONVERSATION)
    if not await services.people.can_read(command["user_id"], link.channel_id):
        # The bot may be in a private conversation the person is not: never leak it.
        await respond(
            replace_original=True,
            text=wording.CANNOT_SEE_CONVERSATION.format(channel=link.channel_id),
        )
        return
    linked = await shortcuts.request_with_conversation(
        services,
        client,
        respond,
        kind=kind,
        text=text,
        ref=link,
        user_id=command["user_id"],
        team_id=command.get("team_id"),
        source="slash",
    )
    if linked is not None:
        # Post where /draft was typed, not where the conversation was.
        linked = replace(linked, channel_id=command.get("channel_id"))
        await draft_and_deliver(services, linked, respond, client)


async def draft_and_deliver(
    services: Services,
    request: DraftRequest,
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    *,
    announced: bool = False,
) -> None:
    """Draft and show the private preview: via the response_url when there is one,
    otherwise in the person's DM with Draftbot (forms opened from the Home tab)."""
    async with services.in_flight.track():
        await _draft_and_deliver(services, request, respond, client, announced=announced)


async def _draft_and_deliver(
    services: Services,
    request: DraftRequest,
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    *,
    announced: bool,
) -> None:
    if respond is not None and not announced:
        await respond(
            response_type="ephemeral", replace_original=True, text=render.working_text(request.kind)
        )

    async def on_queued(position: int) -> None:
        if respond is not None:
            await respond(
                response_type="ephemeral",
                replace_original=True,
                text=wording.QUEUED.format(position=position),
            )

    try:
        draft = await services.sessions.create(
            request, respond.response_url if respond else None, on_queued=on_queued
        )
        messages = render.draft_messages(draft)
        if len(messages) > MAX_RESPONSE_MESSAGES:
            messages = await _send_as_file(client, draft, messages)
        await budget_alerts(services, client, draft, messages[-1])
    except DraftFailed as failure:
        message = failure.user_message
        if failure.over_budget:
            message = spending.over_budget_text(services, failure.over_budget)
        messages = [render.failure_message(message, failure.reference)]
    except Exception:
        log.exception("unexpected error while drafting for user=%s", request.user_id)
        messages = [render.failure_message(wording.UNEXPECTED, None)]
    if respond is not None:
        await deliver_privately(respond, messages)
    else:
        await _deliver_to_dm(client, request.user_id, messages)


async def _deliver_to_dm(
    client: AsyncWebClient, user_id: str, messages: list[render.Payload]
) -> None:
    try:
        for message in messages:
            await client.chat_postMessage(channel=user_id, **message)
    except SlackApiError as error:
        log.warning("could not send a draft to user=%s: %s", user_id, error.response.get("error"))


async def budget_alerts(
    services: Services, client: AsyncWebClient, draft: Draft, last: render.Payload
) -> None:
    """The user's once-a-month 80 % notice rides on the draft; admins get a channel post."""
    alerts = draft.budget_alerts
    if alerts is None:
        return
    if alerts.tell_user:
        blocks = last["blocks"]
        at = len(blocks) - 1 if blocks and blocks[-1]["type"] == "actions" else len(blocks)
        blocks.insert(at, render.budget_notice(alerts.status))
    if alerts.tell_admins and services.settings.alert_channel:
        try:
            user_id = alerts.status.user_id
            name = (await services.people.names([user_id])).get(user_id, user_id)
            await client.chat_postMessage(
                channel=services.settings.alert_channel,
                text=render.budget_admin_alert(alerts.status, name),
            )
        except SlackApiError as error:
            log.warning(
                "could not post budget alert to %s: %s",
                services.settings.alert_channel,
                error.response.get("error"),
            )


async def _send_as_file(
    client: AsyncWebClient, draft: Draft, messages: list[render.Payload]
) -> list[render.Payload]:
    """Too long for the messages a response_url allows: put the whole draft in a DM file."""
    user_id = draft.request.user_id
    try:
        opened = await client.conversations_open(users=user_id)
        await client.files_upload_v2(
            channel=opened["channel"]["id"],
            content=render.neutralize_mentions(draft.text),
            filename=f"{draft.request.kind.name}-draft.md",
            title=f"Your {draft.request.kind.name} draft",
        )
    except SlackApiError as error:
        log.warning(
            "could not upload long draft as a file for user=%s usage_id=%d: %s",
            user_id,
            draft.usage_id,
            error.response.get("error"),
        )
        return messages[:MAX_RESPONSE_MESSAGES]
    return [render.draft_file_preview(draft)]


async def deliver_privately(respond: AsyncRespond, messages: list[render.Payload]) -> bool:
    """Replace the "Drafting…" line with the first message; add the rest below it."""
    for index, message in enumerate(messages):
        try:
            response = await respond(
                response_type="ephemeral", replace_original=index == 0, **message
            )
        except Exception as error:  # network trouble reaching Slack
            log.warning("could not post to Slack's response_url: %s", type(error).__name__)
            return False
        if response.status_code != 200:
            log.warning(
                "Slack refused a response_url post: status=%s body=%.100s",
                response.status_code,
                response.body,
            )
            return False
    return True
