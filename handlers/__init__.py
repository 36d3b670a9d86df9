"""Thin Slack listeners: parse the payload, call `bot`, render. No business rules here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers import actions, commands, home, messages, shortcuts, views


def register(app: AsyncApp, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    shortcuts.register(app, services)
    home.register(app, services)
    messages.register(app, services)
