"""Builds the Bolt `AsyncApp` from `Services` and runs it over HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.logger import messages as bolt_messages

from bot import wording
from bot.doctor.access import user_group_problems
from bot.logs import quiet_logger
from bot.retention import PURGE_INTERVAL_SECONDS, PurgeTimer, purge
from bot.services import Services
from handlers import listeners
from handlers.access import Access, CheckedFlows
from handlers.authorization import (
    SharedAuthorization,
    SharedAuthorize,
    SlackIdentity,
    check_at_start,
)
from handlers.bolt_requests import events_handler
from handlers.http_guard import RequestGuard
from handlers.people import People

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
START_CHECK_SECONDS = 10.0  # the user groups' check before serving
JOURNAL_RETRY_SECONDS = 5.0  # how often kept usage rows are offered to the database again


class _OurOwnSetUp(logging.Filter):
    """Drops Bolt's notices about the set-up below, logged at every start as warnings: we
    give `client` (holding the bot token) and `authorize`, and Bolt also reads
    SLACK_BOT_TOKEN from the environment, so it says the token is unused. It is used: the
    client holds it, and `SharedAuthorize` hands it to every request."""

    NOTICES = frozenset(
        {
            bolt_messages.warning_client_prioritized_and_token_skipped(),
            bolt_messages.warning_token_skipped(),
        }
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.NOTICES


_OWN_SET_UP = _OurOwnSetUp()


def bolt_logger() -> logging.Logger:
    """The base logger for Bolt. Bolt copies its base logger's level into every logger it
    makes (without one, the root's level: INFO under `draftbot serve`, where a request with a
    bad signature was logged whole, text, user id and response_url). This one stays at
    WARNING or above."""
    logger = quiet_logger("slack_bolt")
    if _OWN_SET_UP not in logger.filters:
        logger.addFilter(_OWN_SET_UP)
    return logger


def slack_identity(services: Services) -> SlackIdentity:
    if services.slack_client is None:
        raise ValueError("Serving Slack needs SLACK_BOT_TOKEN")
    return SlackIdentity(services.slack_client)


def build_slack_app(services: Services, identity: SlackIdentity | None = None) -> AsyncApp:
    """The Bolt app. Requests are authorized from one shared auth.test (`identity`; a new
    one, asked by the first request, when not given)."""
    client = services.slack_client
    if client is None:
        raise ValueError("Serving Slack needs SLACK_BOT_TOKEN")
    identity = identity or SlackIdentity(client)
    app = AsyncApp(
        client=client,
        signing_secret=services.settings.slack_signing_secret,
        logger=bolt_logger(),
        name="draftbot",
        before_authorize=SharedAuthorization(identity),
        # Bolt's hint says AuthorizeResult; its own AsyncAuthorize returns `| None`, as ours does.
        authorize=SharedAuthorize(identity),  # type: ignore[arg-type]
        user_facing_authorize_error_message=wording.SLACK_UNREACHABLE,
        process_before_response=False,  # ack answers Slack at once; the listener continues
    )
    people = People(services.store, client, services.settings.admin_user_ids)
    known = identity  # the workspace Draftbot is in, for who is from another organisation
    access = Access(services, people, client, home_team=lambda: _team(known))
    flows = CheckedFlows(services, people, client, access)

    async def provide_flows(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        context["flows"] = flows  # listeners take it as an argument named `flows`
        context["access"] = access  # and this one as `access` (handlers/access.py)
        await next()

    app.middleware(provide_flows)
    listeners.register(app, services.settings.command)
    return app


def _team(identity: SlackIdentity) -> str | None:
    return identity.known.team_id if identity.known else None


def build_web_app(slack_app: AsyncApp, services: Services) -> web.Application:
    """Slack at POST /slack/events (checked by `RequestGuard`, then signature-verified by
    Bolt), and the health check."""
    guard = RequestGuard(services.settings.slack_signing_secret, EVENTS_PATH)
    web_app = web.Application(middlewares=[guard.middleware()])
    web_app.router.add_post(EVENTS_PATH, events_handler(slack_app))
    web_app.router.add_get(HEALTH_PATH, health_check(services))
    return web_app


def health_check(services: Services) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /healthz, the same in both modes. It never touches the database: it reports the
    usage rows waiting in the journal."""

    async def healthz(_: web.Request) -> web.Response:
        waiting = services.journal.pending
        database = "degraded" if waiting or services.journal.failing_since else "ok"
        return web.json_response({"ok": True, "database": database, "usage_rows_waiting": waiting})

    return healthz


async def start_health_site(services: Services, host: str) -> web.AppRunner:
    """Socket Mode with PORT set: GET /healthz alone on $PORT, for platforms that wait for a
    web process to bind its port (Heroku) or probe it (Render, Fly, Kubernetes)."""
    health_app = web.Application()
    health_app.router.add_get(HEALTH_PATH, health_check(services))
    runner = web.AppRunner(health_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, services.settings.port).start()
    log.info("Draftbot health checks on http://%s:%d%s", host, services.settings.port, HEALTH_PATH)
    return runner


async def serve(
    services: Services,
    host: str = "0.0.0.0",
    stop: asyncio.Event | None = None,
    purge_interval: float = PURGE_INTERVAL_SECONDS,
) -> None:
    """Run until `stop` is set, by default on SIGTERM or SIGINT. Expired drafts are purged at
    start and every `purge_interval` seconds, even when nobody drafts. The bot token is
    checked with Slack once, before serving."""
    identity = slack_identity(services)
    await check_at_start(identity)
    await check_access_at_start(services)
    slack_app = build_slack_app(services, identity)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    replaying = asyncio.create_task(replay_journal_forever(services))
    retention_days = services.settings.draft_retention_days
    purging = PurgeTimer(lambda: purge(services.store, retention_days), purge_interval)
    purging.start()
    try:
        if services.settings.socket_mode:
            await _run_socket_mode(slack_app, services, host, stop)
        else:
            await _run_http(slack_app, services, host, stop)
    finally:
        replaying.cancel()
        await services.replay_journal()  # a last try before exiting; the file keeps the rest
        await purging.stop()
        await services.aclose()


async def check_access_at_start(services: Services) -> None:
    """User groups in DRAFTBOT_ALLOWED_USERS that Slack won't list (a plan without user
    groups, a missing scope): said in plain words, once; Draftbot starts regardless."""
    client, rules = services.slack_client, services.settings.access
    if client is None or not rules.allowed_groups:
        return
    try:
        problems = await asyncio.wait_for(user_group_problems(client, rules), START_CHECK_SECONDS)
    except Exception as error:  # Slack unreachable: each request will ask again
        reason = type(error).__name__
        log.warning("could not check the user groups in DRAFTBOT_ALLOWED_USERS: %s", reason)
        return
    for problem in problems:
        log.warning(problem)


async def replay_journal_forever(services: Services, every: float = JOURNAL_RETRY_SECONDS) -> None:
    """Write usage rows kept while the database was failing, as soon as it takes writes."""
    while True:
        await asyncio.sleep(every)
        try:
            await services.replay_journal()
        except Exception:
            log.exception("journal replay failed")


async def _run_http(
    slack_app: AsyncApp, services: Services, host: str, stop: asyncio.Event
) -> None:
    runner = web.AppRunner(build_web_app(slack_app, services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, services.settings.port)
    await site.start()
    log.info("Draftbot listening on http://%s:%d%s", host, services.settings.port, EVENTS_PATH)
    await stop.wait()
    await site.stop()  # no new requests from here on
    await _finish_in_flight(services)
    await runner.cleanup()


async def _run_socket_mode(
    slack_app: AsyncApp, services: Services, host: str, stop: asyncio.Event
) -> None:
    health = await start_health_site(services, host) if services.settings.port_is_set else None
    try:
        handler = AsyncSocketModeHandler(slack_app, services.settings.slack_app_token)
        await handler.connect_async()
        log.info("Draftbot connected to Slack in Socket Mode")
        await stop.wait()
        await handler.disconnect_async()  # no new requests from here on
        await _finish_in_flight(services)
        await handler.close_async()
    finally:
        if health is not None:
            await health.cleanup()


async def _finish_in_flight(services: Services) -> None:
    """Let drafts already started finish, within the grace period (platforms usually kill
    30 s after SIGTERM, hence the 25 s default)."""
    grace = services.settings.shutdown_grace_seconds
    busy = services.in_flight.count
    log.info("shutting down: %d draft(s) in flight, waiting up to %.0f s", busy, grace)
    if not await services.in_flight.wait_idle(grace):
        left = services.in_flight.count
        log.warning("%d draft(s) still running after %.0f s; stopping anyway", left, grace)
