"""How Draftbot's Slack Web API client waits out a rate limit (HTTP 429 with Retry-After).

slack-sdk's own `AsyncRateLimitErrorRetryHandler` reads Retry-After with `int()`: a decimal
("1.5") or anything unexpected raises ValueError from inside the API call, and a very long
value ("86400") would hold the request for a day. This handler reads the header leniently
and gives up at once when Slack asks for a longer wait than a person should sit through;
the caller then gets Slack's `ratelimited` error and says "Slack is busy".
"""

from __future__ import annotations

import asyncio
import math
import random

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# A Retry-After that cannot be read (missing, a date, garbage): wait this long.
DEFAULT_WAIT_SECONDS = 1.0
# Slack asking for a longer wait than this means "not soon": give up and say so.
MAX_WAIT_SECONDS = 30.0
# Spread the retries of requests that were limited together (seconds, at most).
JITTER_SECONDS = 0.5


def retry_after_seconds(value: str | None) -> float:
    """Seconds to wait for a Retry-After value: whole or decimal seconds, never negative;
    DEFAULT_WAIT_SECONDS for anything else."""
    try:
        seconds = float((value or "").strip())
    except ValueError:
        return DEFAULT_WAIT_SECONDS
    if math.isnan(seconds):
        return DEFAULT_WAIT_SECONDS
    return max(seconds, 0.0)


def _retry_after(response: HttpResponse) -> str | None:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            return values[0] if isinstance(values, list) and values else str(values)
    return None


class RateLimitRetries(AsyncRetryHandler):
    """Retry a 429 after the wait Slack asks for (read leniently), up to `max_wait`."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = MAX_WAIT_SECONDS) -> None:
        super().__init__(max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after_seconds(_retry_after(response)) <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = retry_after_seconds(_retry_after(response)) if response is not None else 0.0
        await asyncio.sleep(wait + random.uniform(0, JITTER_SECONDS))
        state.increment_current_attempt()


# Calls that change what people see are never repeated after a 500: Slack may have done the
# work before it answered, so a second post would show the draft twice in the person's name.
# (The DM fallback retries its own posts: a second copy in one's own DM is only untidy.)
_NEVER_AGAIN = ("chat.postMessage", "chat.startStream", "chat.appendStream", "chat.stopStream",
                "chat.update", "files.completeUploadExternal", "canvases.create")  # fmt: skip


class ServerErrorRetries(AsyncServerErrorRetryHandler):
    """slack-sdk's retry of a 500 or 503, except for calls that could then happen twice."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").rsplit("/", 1)[-1] in _NEVER_AGAIN:
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )
