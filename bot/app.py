"""Builds the Bolt `AsyncApp` from `Services` and runs it over HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.services import Services

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_slack_app(services: Services) -> AsyncApp:
    settings = services.settings
    # slack-sdk retries only connection errors by default; 429s need their own handler.
    client = AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(2)],
    )
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=False,  # ack answers Slack at once; the listener continues
    )
    handlers.register(app, services)
    return app


def build_web_app(slack_app: AsyncApp) -> web.Application:
    """Slack at POST /slack/events (signature-verified by Bolt), and a health check."""
    web_app = slack_app.web_app(path=EVENTS_PATH)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app.router.add_get(HEALTH_PATH, healthz)
    return web_app


async def serve(
    services: Services, host: str = "0.0.0.0", stop: asyncio.Event | None = None
) -> None:
    """Run until `stop` is set, by default on SIGTERM or SIGINT."""
    slack_app = build_slack_app(services)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    try:
        if services.settings.socket_mode:
            await _run_socket_mode(slack_app, services, stop)
        else:
            await _run_http(slack_app, services, host, stop)
    finally:
        await services.aclose()


async def _run_http(
    slack_app: AsyncApp, services: Services, host: str, stop: asyncio.Event
) -> None:
    runner = web.AppRunner(build_web_app(slack_app), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, services.settings.port).start()
    log.info("Draftbot listening on http://%s:%d%s", host, services.settings.port, EVENTS_PATH)
    await stop.wait()
    log.info("shutting down")
    await runner.cleanup()


async def _run_socket_mode(slack_app: AsyncApp, services: Services, stop: asyncio.Event) -> None:
    handler = AsyncSocketModeHandler(slack_app, services.settings.slack_app_token)
    await handler.connect_async()
    log.info("Draftbot connected to Slack in Socket Mode")
    await stop.wait()
    log.info("shutting down")
    await handler.close_async()
