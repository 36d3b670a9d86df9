"""Modals: the draft form for people who don't like typing commands, and the Edit form."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.drafting import DraftRequest
from bot.prompts import PromptLibrary
from bot.services import Services

log = logging.getLogger(__name__)

FORM_CALLBACK = "draft_form"
EDIT_CALLBACK = "draft_edit_modal"
CHANNEL_CALLBACK = "draft_choose_channel"
TONES = ("Neutral", "Friendly", "Formal", "Firm", "Enthusiastic", "Apologetic")
LENGTHS = ("Short", "Medium", "Long")


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def _options(values: tuple[str, ...] | list[tuple[str, str]]) -> list[dict[str, Any]]:
    pairs = [(v, v) if isinstance(v, str) else v for v in values]
    return [{"text": _text(label), "value": value} for label, value in pairs]


def draft_form(
    library: PromptLibrary,
    *,
    channel_id: str | None,
    response_url: str | None,
    ask_for_channel: bool = False,
) -> dict[str, Any]:
    """What to draft, the details, and optional audience, tone and length."""
    kinds = [
        (f"{kind.name.capitalize()}: {kind.description}"[:75], kind.name) for kind in library.kinds
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": "kind",
            "label": _text("What should Draftbot write?"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": _options(kinds),
                "initial_option": _options(kinds)[0],
            },
        },
        {
            "type": "input",
            "block_id": "details",
            "label": _text("Details"),
            "hint": _text(
                "Who it's for, what it should say, anything to include. Paste text here."
            ),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 3000,
                "placeholder": _text("e.g. to Alex asking to move Friday's meeting to Monday"),
            },
        },
        {
            "type": "input",
            "block_id": "audience",
            "optional": True,
            "label": _text("Audience"),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "placeholder": _text("e.g. a new client, my team, the CFO"),
            },
        },
        {
            "type": "input",
            "block_id": "tone",
            "optional": True,
            "label": _text("Tone"),
            "element": {"type": "static_select", "action_id": "value", "options": _options(TONES)},
        },
        {
            "type": "input",
            "block_id": "length",
            "optional": True,
            "label": _text("Length"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": _options(LENGTHS),
            },
        },
    ]
    if ask_for_channel:
        blocks.append(
            {
                "type": "input",
                "block_id": "channel",
                "optional": True,
                "label": _text("Where will you post it?"),
                "element": {"type": "conversations_select", "action_id": "value"},
            }
        )
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _text("Draft with Draftbot"),
        "submit": _text("Draft it"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"channel_id": channel_id, "response_url": response_url}),
        "blocks": blocks,
    }


def edit_modal(draft_id: str, text: str, response_url: str | None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK,
        "title": _text("Edit draft"),
        "submit": _text("Post to channel"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"draft_id": draft_id, "response_url": response_url}),
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": _text("Your draft"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 3000,
                    "initial_value": text,
                },
            }
        ],
    }


def choose_channel_modal(draft_id: str, response_url: str | None) -> dict[str, Any]:
    """For drafts written in the Messages tab: where should this go?"""
    return {
        "type": "modal",
        "callback_id": CHANNEL_CALLBACK,
        "title": _text("Post draft"),
        "submit": _text("Post"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"draft_id": draft_id, "response_url": response_url}),
        "blocks": [
            {
                "type": "input",
                "block_id": "channel",
                "label": _text(wording.CHOOSE_CHANNEL),
                "element": {"type": "conversations_select", "action_id": "value"},
            }
        ],
    }


def plain(text: str) -> str:
    """Form errors are plain text: turn Slack markup into readable words."""
    text = re.sub(r"<#([A-Z0-9]+)(?:\|([^>]*))?>", lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = re.sub(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", r"@\1", text)
    return text.replace("`", "").replace("*", "")


def form_request_text(kind: str, values: dict[str, Any]) -> str:
    """The form's answers as one request, in the words a person would type."""

    def answer(block: str) -> str:
        value = values.get(block, {}).get("value", {})
        selected = value.get("selected_option") or {}
        return str(value.get("value") or selected.get("value") or "").strip()

    lines = [f"{kind} {answer('details')}"]
    for label, block in (("Audience", "audience"), ("Tone", "tone"), ("Length", "length")):
        if answer(block):
            lines.append(f"{label}: {answer(block)}")
    return "\n".join(lines)


def register(app: AsyncApp, services: Services) -> None:
    async def on_form(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = view["state"]["values"]
        details = (values["details"]["value"].get("value") or "").strip()
        if len(details) < 3:
            await ack(response_action="errors", errors={"details": wording.FORM_DETAILS_TOO_SHORT})
            return
        channel = (values.get("channel", {}).get("value", {}) or {}).get("selected_conversation")
        user = body["user"]
        if channel and not await services.people.is_member(user["id"], channel):
            text = plain(wording.POST_NOT_A_MEMBER.format(channel=channel))
            await ack(response_action="errors", errors={"channel": text})
            return
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        kind_name = values["kind"]["value"]["selected_option"]["value"]
        kind = services.library.find(kind_name) or services.library.default_kind
        request = DraftRequest(
            kind=kind,
            text=form_request_text(kind.name, values),
            user_id=user["id"],
            source="form",
            team_id=user.get("team_id") or body.get("team", {}).get("id"),
            channel_id=channel or meta.get("channel_id"),
        )
        from handlers.commands import draft_and_deliver  # the same path as /draft

        respond = (
            AsyncRespond(response_url=meta["response_url"]) if meta.get("response_url") else None
        )
        await draft_and_deliver(services, request, respond, client)

    async def on_edit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        from handlers.actions import post_to_channel

        text = (view["state"]["values"]["text"]["value"].get("value") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"text": wording.EDIT_EMPTY})
            return
        meta = json.loads(view.get("private_metadata") or "{}")
        # Post before closing the form, so a refusal shows in the form, not in thin air.
        problem = await post_to_channel(
            services, body["user"]["id"], meta["draft_id"], client, text=text
        )
        if problem:
            await ack(response_action="errors", errors={"text": plain(problem)})
            return
        await ack()
        if meta.get("response_url"):
            channel = services.sessions.load(meta["draft_id"], body["user"]["id"]).channel_id
            await AsyncRespond(response_url=meta["response_url"])(
                replace_original=True, text=wording.POSTED.format(channel=channel)
            )

    async def on_choose_channel(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        from handlers.actions import post_to_channel

        meta = json.loads(view.get("private_metadata") or "{}")
        channel = view["state"]["values"]["channel"]["value"].get("selected_conversation")
        user_id = body["user"]["id"]
        if not channel or not await services.people.is_member(user_id, channel):
            text = plain(wording.POST_NOT_A_MEMBER.format(channel=channel))
            await ack(response_action="errors", errors={"channel": text})
            return
        stored = services.store.get_draft(meta["draft_id"])
        if stored is not None and stored["user_id"] == user_id:
            services.store.update_draft(meta["draft_id"], channel_id=channel)
        problem = await post_to_channel(services, user_id, meta["draft_id"], client)
        if problem:
            await ack(response_action="errors", errors={"channel": plain(problem)})
            return
        await ack()
        if meta.get("response_url"):
            await AsyncRespond(response_url=meta["response_url"])(
                replace_original=True, text=wording.POSTED.format(channel=channel)
            )

    app.view(FORM_CALLBACK)(on_form)
    app.view(EDIT_CALLBACK)(on_edit)
    app.view(CHANNEL_CALLBACK)(on_choose_channel)
