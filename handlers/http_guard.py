"""The door in front of Bolt at POST /slack/events (HTTP mode).

Bolt parses a request's body before it checks the signature, so a body that is not what its
Content-Type says (form data sent as JSON, `payload=` that is not a JSON object, bytes that
are not UTF-8) or a timestamp that is not a number raised inside Bolt or aiohttp: HTTP 500
and a traceback per request, from anyone. Here every request is checked first, in this
order, each refusal answered with a 4xx and at most one short log line per kind a minute:

1. signature headers present and well formed (401), timestamp within 5 minutes (401);
2. body readable as UTF-8 (400), signature matching SLACK_SIGNING_SECRET (401);
3. body the shape Bolt expects for its Content-Type (400);
4. not a replay: a signed request seen before is acknowledged (200, empty) and dropped.

Bolt still verifies the signature itself; this only adds checks. Socket Mode has no HTTP
requests and is not affected.

Replays are remembered per instance, in memory: each instance knows only the requests it
answered, so with several instances behind a load balancer a copy sent to another instance
is not recognised. Slack refuses timestamps older than 5 minutes, so that is as long as a
signature needs remembering; at most `REPLAY_MEMORY` are kept (the oldest go first).
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

from bot.logs import ThrottledLog
from bot.slack_ids import SIGNATURE_MAX_AGE_SECONDS

log = logging.getLogger(__name__)

REPLAY_MEMORY = 20_000  # signatures kept: 5 minutes of about 65 requests a second
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    kind: str  # one log line per kind a minute
    status: int
    reason: str  # for the log: what was wrong, never what the request said
    level: int = logging.INFO


UNSIGNED = Refusal("unsigned", 401, "no valid Slack signature headers")
STALE = Refusal(
    "stale", 401, "timestamp more than 5 minutes off (clock skew or a replay)", logging.WARNING
)
NOT_UTF8 = Refusal("not_utf8", 400, "body is not UTF-8")
BAD_SIGNATURE = Refusal(
    "bad_signature", 401, "signature does not match SLACK_SIGNING_SECRET", logging.WARNING
)
MALFORMED = Refusal("malformed", 400, "body is not the Slack payload its Content-Type says")
TOO_LARGE = Refusal("too_large", 413, "body too large")


class SeenSignatures:
    """Signatures of requests already let through, each until its timestamp is too old for
    any verifier to accept it again. Bounded: past `capacity` the oldest are forgotten."""

    def __init__(
        self,
        capacity: int = REPLAY_MEMORY,
        window: float = SIGNATURE_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._capacity = capacity
        self._window = window
        self._clock = clock
        self._until: OrderedDict[str, float] = OrderedDict()  # signature -> forget after

    def __len__(self) -> int:
        return len(self._until)

    def first_time(self, signature: str, timestamp: int) -> bool:
        now = self._clock()
        while self._until and next(iter(self._until.values())) < now:
            self._until.popitem(last=False)
        if signature in self._until:
            return False
        while len(self._until) >= self._capacity:
            self._until.popitem(last=False)
        self._until[signature] = timestamp + self._window + 1
        return True


class RequestGuard:
    """An aiohttp middleware for `path`: see the module docstring."""

    def __init__(
        self,
        signing_secret: str,
        path: str,
        *,
        clock: Callable[[], float] = time.time,
        seen: SeenSignatures | None = None,
    ) -> None:
        self._path = path
        self._clock = clock
        self._verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))
        self._seen = seen if seen is not None else SeenSignatures(clock=clock)
        self._log = ThrottledLog(log)

    def middleware(self) -> Middleware:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self.handle(request, handler)

        return guard

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != self._path:
            return await handler(request)
        verdict = await self._check(request)
        if isinstance(verdict, Refusal):
            self._log.log(
                verdict.level,
                verdict.kind,
                f"refused a request to {self._path}: {verdict.reason}",
                {"status": verdict.status},
            )
            error = "invalid request" if verdict.status == 401 else "bad request"
            return web.json_response({"error": error}, status=verdict.status)
        if verdict is not None and not self._seen.first_time(*verdict):
            self._log.log(
                logging.INFO,
                "replay",
                f"ignored a request to {self._path} already answered (same signature)",
            )
            return web.Response(status=200)
        return await handler(request)

    async def _check(self, request: web.Request) -> Refusal | tuple[str, int] | None:
        """A refusal, or the signature and timestamp of a request Bolt may have (None for
        Slack's SSL check, which carries no signature)."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return TOO_LARGE
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (TIMESTAMP.fullmatch(timestamp) and SIGNATURE.fullmatch(signature)):
            return None if _is_ssl_check(raw) else UNSIGNED
        if abs(self._clock() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
            return STALE
        try:
            text = raw.decode("utf-8")
            if request.charset:  # Bolt reads the body in the charset the request names
                raw.decode(request.charset)
        except (UnicodeDecodeError, LookupError):
            return NOT_UTF8
        if not self._verifier.is_valid(text, timestamp, signature):
            return BAD_SIGNATURE
        try:  # exactly what Bolt will build from it
            parsed = AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers={k: v for k, v in request.headers.items()},
            )
        except Exception:
            return MALFORMED
        return (signature, int(timestamp)) if isinstance(parsed.body, dict) else MALFORMED


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _is_ssl_check(raw: bytes) -> bool:
    """Slack's periodic SSL check (`ssl_check=1`), which Bolt answers before verifying."""
    try:
        form = parse_qs(raw.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == ["1"]
