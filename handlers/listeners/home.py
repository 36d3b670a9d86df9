"""The App Home tab, and its button for the draft form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.storage.offloop import off_loop
from handlers.blocks import modals
from handlers.blocks.home import OPEN_FORM_ACTION, home_view
from handlers.flows import Flows
from handlers.history import recent_drafts

log = logging.getLogger(__name__)
HOME_ADMIN_CHANGES = 5  # the newest admin changes an admin sees on the Home tab


def register(app: AsyncApp, command: str) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(OPEN_FORM_ACTION)(on_open_form)


async def on_home_opened(event: dict[str, Any], client: AsyncWebClient, flows: Flows) -> None:
    if event.get("tab", "home") != "home":
        return
    user_id = event["user"]
    status = await off_loop(flows.services.budgets.status, user_id)
    changes = None
    if await flows.people.is_admin(user_id):  # admins see what admins changed
        try:
            changes = await off_loop(flows.services.store.admin_changes, HOME_ADMIN_CHANGES)
        except Exception as error:  # the rest of the tab is worth showing all the same
            log.warning("could not read admin changes for the Home tab: %s", type(error).__name__)
    try:
        drafts = await recent_drafts(flows, user_id)
    except Exception as error:  # the rest of the tab is worth showing all the same
        log.warning("could not read recent drafts for the Home tab: %s", type(error).__name__)
        drafts = None
    view = home_view(flows.library, flows.command, status, changes, drafts)
    await client.views_publish(user_id=user_id, view=view)


async def on_open_form(ack: AsyncAck, body: dict[str, Any], flows: Flows) -> None:
    await ack()
    form = modals.draft_form(
        flows.library, channel_id=None, response_url=None, ask_for_channel=True
    )
    user_id = body["user"]["id"]
    await flows.open_form(body["trigger_id"], form, flows.private_reply(None, user_id))
