"""Who Draftbot is in Slack, asked once and shared.

Bolt's built-in single-workspace authorization calls auth.test for every request until the
first answer is back, so a burst of commands on a cold start sent one auth.test each (84 in
a burst of 300), and Slack rate-limits auth.test. Here the bot token is checked at start-up
(`check_at_start`), or by the first request after a cold start, and every request waiting
meanwhile shares that one call (single flight). A success is kept for the life of the
process, as Bolt keeps it; a failure is not kept, so the next request asks again.

A failed auth.test is tried again a few times within the request's time (its ack is due
within 3 seconds); if Slack still does not answer, the person is asked to try again in a
minute. Only Slack refusing the token itself (`TOKEN_REFUSED_ERRORS`) means "reinstall".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot import wording
from bot.logs import ThrottledLog
from bot.slack_ids import TOKEN_REFUSED_ERRORS

log = logging.getLogger(__name__)

ATTEMPTS = 3  # auth.test calls per check when Slack fails (the shared check, not per request)
REQUEST_WAIT_SECONDS = 2.0  # a request waits this long for the check: its ack is due in 3 s
START_WAIT_SECONDS = 10.0  # `draftbot serve` waits this long before listening anyway
# What Bolt itself lets through without authorization: Slack's URL and SSL checks, and the
# events that say the token is gone (answering them needs no token).
NO_AUTHORIZATION_TYPES = frozenset({"url_verification", "ssl_check"})
REVOCATION_EVENTS = frozenset({"app_uninstalled", "tokens_revoked", "team_access_revoked"})


class SlackCheckFailed(Exception):
    """auth.test did not confirm the bot token."""

    def __init__(self, reason: str, *, refused: bool) -> None:
        super().__init__(reason)
        self.reason = reason  # an error code or exception name: no token, no request data
        self.refused = refused  # Slack refused the token itself: trying again won't help

    @property
    def words(self) -> str:
        return wording.SLACK_TOKEN_REFUSED if self.refused else wording.SLACK_UNREACHABLE


@dataclass(frozen=True)
class BotIdentity:
    """auth.test's answer for the bot token."""

    token: str
    team_id: str | None
    enterprise_id: str | None
    bot_user_id: str | None
    bot_id: str | None
    scopes: str | None  # as Slack sent them in x-oauth-scopes

    def authorize_result(self, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=self.enterprise_id,
            team_id=self.team_id,
            bot_user_id=self.bot_user_id,
            bot_id=self.bot_id,
            bot_token=self.token,
            bot_scopes=self.scopes,
            user_id=user_id,
        )


class SlackIdentity:
    """The bot's identity, from one auth.test shared by everyone who needs it."""

    def __init__(
        self, client: AsyncWebClient, *, attempts: int = ATTEMPTS, backoff: float = 0.2
    ) -> None:
        self._client = client
        self._attempts = attempts
        self._backoff = backoff
        self._known: BotIdentity | None = None
        self._flight: asyncio.Task[BotIdentity] | None = None
        self._failures = ThrottledLog(log)

    @property
    def known(self) -> BotIdentity | None:
        return self._known

    async def check(self, within: float) -> BotIdentity:
        """The identity, asking Slack when it is not known yet: one call in flight at a time,
        whoever waits for it. Raises `SlackCheckFailed`; a slow answer (past `within`) is
        still awaited in the background and kept for the next request."""
        if self._known is not None:
            return self._known
        if self._flight is None:
            self._flight = asyncio.create_task(self._ask_slack())
            self._flight.add_done_callback(self._landed)
        try:
            async with asyncio.timeout(within):
                return await asyncio.shield(self._flight)
        except TimeoutError:
            raise SlackCheckFailed(f"no answer within {within:.0f} s", refused=False) from None

    def _landed(self, flight: asyncio.Task[BotIdentity]) -> None:
        if self._flight is flight:
            self._flight = None
        if not flight.cancelled() and (failure := flight.exception()) is not None:
            refused = isinstance(failure, SlackCheckFailed) and failure.refused
            self._failures.log(
                logging.ERROR if refused else logging.WARNING,
                "token refused" if refused else "token unchecked",
                f"Slack did not confirm the bot token (auth.test: {failure})"
                + ("; reinstall the app and update SLACK_BOT_TOKEN" if refused else ""),
            )

    async def _ask_slack(self) -> BotIdentity:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=self._backoff, max=1.0),
            retry=retry_if_exception(_worth_retrying),
            reraise=True,
        )
        identity: BotIdentity = await retrying(self._auth_test)
        self._known = identity
        return identity

    async def _auth_test(self) -> BotIdentity:
        try:
            response = await self._client.auth_test()
        except SlackApiError as error:
            data = error.response.data if isinstance(error.response.data, dict) else {}
            code = str(data.get("error") or f"HTTP {error.response.status_code}")
            raise SlackCheckFailed(code, refused=code in TOKEN_REFUSED_ERRORS) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise SlackCheckFailed(type(error).__name__, refused=False) from None
        headers: Mapping[str, Any] = response.headers or {}
        scopes = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
        return BotIdentity(
            token=str(self._client.token),
            team_id=response.get("team_id"),
            enterprise_id=response.get("enterprise_id"),
            bot_user_id=response.get("user_id"),
            bot_id=response.get("bot_id"),
            scopes=str(scopes) if scopes is not None else None,
        )


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, SlackCheckFailed) and not error.refused


async def check_at_start(identity: SlackIdentity, within: float = START_WAIT_SECONDS) -> None:
    """Check the bot token before serving. A failure is logged, not fatal: requests ask
    again (and tell people plainly), so a Slack hiccup at deploy time heals by itself."""
    try:
        me = await identity.check(within)
    except SlackCheckFailed:
        return  # logged once by the check itself
    log.info("Slack token checked: workspace %s, bot user %s", me.team_id, me.bot_user_id)


class SharedAuthorization(AsyncMiddleware):
    """Bolt's `before_authorize`: makes sure the identity is known before Bolt authorizes the
    request from it (`SharedAuthorize`); if Slack can't confirm the token, answers the
    person itself, in plain words, and nothing else runs."""

    def __init__(self, identity: SlackIdentity, wait: float = REQUEST_WAIT_SECONDS) -> None:
        self._identity = identity
        self._wait = wait

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        if not _needs_authorization(req.body):
            return await next()
        try:
            await self._identity.check(self._wait)
        except SlackCheckFailed as failure:
            return await _tell(req, failure.words)
        return await next()


class SharedAuthorize(AsyncAuthorize):
    """Bolt's `authorize`: every request gets the one identity that `SharedAuthorization`
    made sure of."""

    def __init__(self, identity: SlackIdentity) -> None:
        self._identity = identity

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        try:  # known already, unless Bolt skipped `SharedAuthorization` for this request
            identity = await self._identity.check(REQUEST_WAIT_SECONDS)
        except SlackCheckFailed:
            return None  # Bolt then shows user_facing_authorize_error_message
        return identity.authorize_result(user_id)


def _needs_authorization(body: Mapping[str, Any]) -> bool:
    if body.get("type") in NO_AUTHORIZATION_TYPES or body.get("ssl_check") == "1":
        return False
    event = body.get("event")
    return not (isinstance(event, dict) and event.get("type") in REVOCATION_EVENTS)


async def _tell(req: AsyncBoltRequest, text: str) -> BoltResponse:
    """A slash command's ack shows its text; a click's does not, so that goes to its
    response_url (when Slack gave one)."""
    response_url = req.context.response_url
    if "command" in req.body or response_url is None or req.context.respond is None:
        return BoltResponse(status=200, body=text)
    try:
        await req.context.respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as error:
        log.warning("could not tell the person Slack is unavailable (%s)", type(error).__name__)
    return BoltResponse(status=200, body="")
