"""The App Home tab: how to use Draftbot, your month so far, and a button for the form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.budgets import BudgetStatus
from bot.prompts import PromptLibrary
from bot.services import Services
from handlers import render, views

OPEN_FORM_ACTION = "home_open_form"


def home_view(library: PromptLibrary, command: str, status: BudgetStatus) -> dict[str, Any]:
    usage = render.usage_message(status)["text"]
    kinds = "\n".join(
        wording.HELP_KIND_LINE.format(
            name=kind.name, description=kind.description, command=command, example=kind.example
        )
        for kind in library.kinds
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Draftbot"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": wording.HOME_INTRO.format(command=command)},
            "accessory": {
                "type": "button",
                "action_id": OPEN_FORM_ACTION,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Draft something"},
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": usage}},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*What Draftbot can write*"}},
    ]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in render.split_markdown(kinds, render.SECTION_LIMIT)
    ]
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": wording.HOME_TIPS.format(command=command)}],
        }
    )
    return {"type": "home", "blocks": blocks}


def register(app: AsyncApp, services: Services) -> None:
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        view = home_view(
            services.library, services.settings.command, services.budgets.status(user_id)
        )
        await client.views_publish(user_id=user_id, view=view)

    async def on_open_form(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view=views.draft_form(
                services.library, channel_id=None, response_url=None, ask_for_channel=True
            ),
        )

    app.event("app_home_opened")(on_home_opened)
    app.action(OPEN_FORM_ACTION)(on_open_form)
