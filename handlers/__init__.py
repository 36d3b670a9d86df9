"""Thin Slack listeners: parse the payload, call `bot`, render. No business rules here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers import commands


def register(app: AsyncApp, services: Services) -> None:
    commands.register(app, services)
