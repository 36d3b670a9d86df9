"""The real Draftbot on loopback HTTP, wired to the local fakes, for the benches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.config import load_settings
from bot.services import Services, build_services
from handlers.app import build_slack_app, build_web_app
from tests.fakes.slack import FakeSlack

SECRET = "bench-signing-secret"


@asynccontextmanager
async def serving(
    fake_slack: FakeSlack, anthropic_url: str, folder: str, **settings: str
) -> AsyncIterator[tuple[Services, str]]:
    """Draftbot in HTTP mode on a free port; yields its services and its events URL.
    `settings` adds to (or replaces) the bench's settings."""
    services = build_services(
        load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake_slack.api_url,
                "ANTHROPIC_API_KEY": "sk-ant-bench",
                "ANTHROPIC_BASE_URL": anthropic_url,
                "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                **settings,
            }
        )
    )
    runner = web.AppRunner(build_web_app(build_slack_app(services), services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield services, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    finally:
        await runner.cleanup()
        await services.aclose()
