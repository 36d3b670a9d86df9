"""The only module that talks to Anthropic: one streamed completion, with our retry policy.

The SDK's own retries are off (`max_retries=0`) so that tenacity alone decides, and SDK
errors become a `ModelCallError` with a small set of categories whose user wording lives
in `bot.wording`.
"""

from __future__ import annotations

import email.utils
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from bot import wording
from bot.config import CacheTTL
from bot.gate import ModelGate, QueuedCallback
from bot.usage import TokenUsage

log = logging.getLogger(__name__)

DEFAULT_MAX_IN_FLIGHT = 100
# Statuses worth another try: timeouts, conflicts, rate limits and server trouble.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Error types that can arrive inside a 200 stream (`event: error`) and are transient.
RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


class ErrorCategory(enum.Enum):
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    MISCONFIGURED = "misconfigured"
    TOO_LONG = "too_long"
    REJECTED = "rejected"
    INTERNAL = "internal"

    @property
    def user_message(self) -> str:
        return {
            ErrorCategory.BUSY: wording.BUSY,
            ErrorCategory.UNAVAILABLE: wording.UNAVAILABLE,
            ErrorCategory.MISCONFIGURED: wording.MISCONFIGURED,
            ErrorCategory.TOO_LONG: wording.TOO_LONG,
            ErrorCategory.REJECTED: wording.REJECTED,
            ErrorCategory.INTERNAL: wording.UNEXPECTED,
        }[self]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_total_seconds: float = 45.0  # the user is watching "Drafting…"; give up in time
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 20.0  # a longer retry-after means "not soon": give up at once


@dataclass(frozen=True)
class ModelRequest:
    model: str
    system: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    max_tokens: int
    cache_ttl: CacheTTL = "5m"

    @property
    def prompt_chars(self) -> int:
        system = sum(len(block["text"]) for block in self.system)
        return system + sum(len(str(message["content"])) for message in self.messages)


@dataclass(frozen=True)
class BilledAttempt:
    """An attempt that reached the model (so may be billed) but failed part-way."""

    usage: TokenUsage
    request_id: str | None
    error: str


@dataclass(frozen=True)
class Completion:
    text: str
    stop_reason: str
    usage: TokenUsage
    model: str
    request_id: str | None
    ttft_ms: int | None
    latency_ms: int
    attempts: int
    billed_failures: tuple[BilledAttempt, ...] = ()


class ModelCallError(Exception):
    """The request failed for good. `detail` is for the admin's log, never for Slack."""

    def __init__(
        self,
        category: ErrorCategory,
        detail: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        attempts: int = 1,
        latency_ms: int = 0,
        billed_failures: tuple[BilledAttempt, ...] = (),
    ) -> None:
        super().__init__(detail)
        self.category = category
        self.detail = detail
        self.status = status
        self.request_id = request_id
        self.attempts = attempts
        self.latency_ms = latency_ms
        self.billed_failures = billed_failures

    @property
    def user_message(self) -> str:
        return self.category.user_message


TextCallback = Callable[[str], Awaitable[None]]


@dataclass
class _AttemptLog:
    started: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    billed_failures: list[BilledAttempt] = field(default_factory=list)


class ModelClient:
    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        policy: RetryPolicy | None = None,
        gate: ModelGate | None = None,
    ) -> None:
        self._client = client
        self.policy = policy or RetryPolicy()
        self.gate = gate or ModelGate(DEFAULT_MAX_IN_FLIGHT)

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(
        self,
        request: ModelRequest,
        on_text: TextCallback | None = None,
        on_queued: QueuedCallback | None = None,
    ) -> Completion:
        """Stream one completion, retrying transient failures; raise `ModelCallError`."""
        attempt_log = _AttemptLog()
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(self.policy.max_attempts)
            | stop_before_delay(self.policy.max_total_seconds)
            | _StopWhenServerAsksForLongWait(self.policy.max_retry_after),
            wait=self._wait,
            before_sleep=_log_retry,
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    async with self.gate.slot(on_queued if attempts == 1 else None):
                        return await self._attempt(request, attempt_log, attempts, on_text)
        except Exception as error:
            raise _to_model_call_error(error, attempts, attempt_log) from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(
        self,
        request: ModelRequest,
        attempt_log: _AttemptLog,
        attempt_number: int,
        on_text: TextCallback | None,
    ) -> Completion:
        usage: TokenUsage | None = None
        request_id: str | None = None
        try:
            async with self._client.messages.stream(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,  # type: ignore[arg-type]
                messages=request.messages,  # type: ignore[arg-type]
            ) as stream:
                request_id = stream.request_id
                self.gate.observe(stream.response.headers)
                async for event in stream:
                    if event.type == "message_start":
                        usage = _usage_from(event.message.usage, request.cache_ttl)
                    elif event.type == "text" and event.text:
                        if attempt_log.first_token_at is None:
                            attempt_log.first_token_at = time.monotonic()
                        if on_text is not None:
                            await on_text(event.text)
                message = await stream.get_final_message()
        except Exception as error:
            if usage is not None:
                attempt_log.billed_failures.append(
                    BilledAttempt(usage=usage, request_id=request_id, error=_describe(error))
                )
            raise
        text = "".join(block.text for block in message.content if block.type == "text")
        return Completion(
            text=text,
            stop_reason=message.stop_reason or "end_turn",
            usage=_usage_from(message.usage, request.cache_ttl),
            # The id we asked for, which is what prices.toml and reports use (the response may
            # name a dated snapshot of an alias).
            model=request.model,
            request_id=request_id,
            ttft_ms=_ms_since(attempt_log.started, attempt_log.first_token_at),
            latency_ms=_ms_since(attempt_log.started, time.monotonic()) or 0,
            attempts=attempt_number,
            billed_failures=tuple(attempt_log.billed_failures),
        )

    def _wait(self, retry_state: RetryCallState) -> float:
        """Honour the server's retry-after hint; otherwise exponential backoff with jitter."""
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hint = retry_after_seconds(error)
        if hint is not None:
            return hint
        backoff = wait_exponential_jitter(
            multiplier=self.policy.initial_backoff,
            max=self.policy.max_backoff,
            jitter=self.policy.jitter,
        )
        return float(backoff(retry_state))


class _StopWhenServerAsksForLongWait(stop_base):
    """A retry-after longer than we can wait means "not soon": tell the user now."""

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        hint = retry_after_seconds(error)
        return hint is not None and hint > self.max_wait


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, anthropic.APIStatusError):
        should_retry = error.response.headers.get("x-should-retry")
        if should_retry in ("true", "false"):
            return should_retry == "true"
        if error.status_code == 200:  # an `error` event inside the stream
            return error.type in RETRYABLE_STREAM_ERRORS
        return error.status_code in RETRYABLE_STATUSES or error.status_code >= 500
    return isinstance(error, anthropic.APIConnectionError | httpx2.TransportError)


def retry_after_seconds(error: BaseException | None) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    if not isinstance(error, anthropic.APIStatusError):
        return None
    headers = error.response.headers
    try:
        return max(float(headers["retry-after-ms"]) / 1000, 0.0)
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # a hint we cannot read: fall back to our own backoff
    return max(parsed.timestamp() - time.time(), 0.0)


def _to_model_call_error(error: Exception, attempts: int, attempt_log: _AttemptLog) -> Exception:
    if not isinstance(error, anthropic.APIError | httpx2.TransportError):
        # Not Anthropic's doing (a bug, or a callback failing): keep the traceback for the
        # admin, and still hand back the attempts that may have been billed.
        log.exception("unexpected error during a model call")
        return ModelCallError(
            ErrorCategory.INTERNAL,
            f"{type(error).__name__}: {error}",
            attempts=max(attempts, 1),
            latency_ms=_ms_since(attempt_log.started, time.monotonic()) or 0,
            billed_failures=tuple(attempt_log.billed_failures),
        )
    status = getattr(error, "status_code", None)
    return ModelCallError(
        categorize(error),
        _describe(error),
        status=status,
        request_id=getattr(error, "request_id", None),
        attempts=max(attempts, 1),
        latency_ms=_ms_since(attempt_log.started, time.monotonic()) or 0,
        billed_failures=tuple(attempt_log.billed_failures),
    )


def categorize(error: BaseException) -> ErrorCategory:
    if isinstance(error, anthropic.APIStatusError):
        status, error_type = error.status_code, error.type
        message = (error.api_message or "").lower()
        if status == 200:
            status = {"overloaded_error": 529, "rate_limit_error": 429}.get(error_type or "", 500)
        if status in (429, 503, 529):
            return ErrorCategory.BUSY
        if status >= 500 or status == 408 or status == 409:
            return ErrorCategory.UNAVAILABLE
        if status == 413 or "too long" in message or "context window" in message:
            return ErrorCategory.TOO_LONG
        if status in (401, 402, 403, 404):
            return ErrorCategory.MISCONFIGURED
        return ErrorCategory.REJECTED
    return ErrorCategory.UNAVAILABLE


def _describe(error: BaseException) -> str:
    """A log-safe one-liner: the error class, status, API error type and message."""
    if isinstance(error, anthropic.APIStatusError):
        return (
            f"{type(error).__name__} status={error.status_code} type={error.type} "
            f"message={error.api_message!r}"
        )
    return f"{type(error).__name__}: {error}"


def _usage_from(usage: Any, ttl: CacheTTL) -> TokenUsage:
    creation = usage.cache_creation_input_tokens or 0
    split = getattr(usage, "cache_creation", None)
    five = getattr(split, "ephemeral_5m_input_tokens", None)
    hour = getattr(split, "ephemeral_1h_input_tokens", None)
    if five is None and hour is None:  # no split given: it is the TTL we asked for
        five, hour = (0, creation) if ttl == "1h" else (creation, 0)
    return TokenUsage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_creation_input_tokens=creation,
        cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        cache_creation_5m_input_tokens=five or 0,
        cache_creation_1h_input_tokens=hour or 0,
    )


def _ms_since(start: float, end: float | None) -> int | None:
    return None if end is None else round((end - start) * 1000)


def _log_retry(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    log.warning(
        "anthropic attempt %d failed (%s, request_id=%s); retrying in %.2f s",
        retry_state.attempt_number,
        _describe(error) if error else "?",
        getattr(error, "request_id", None),
        wait,
    )


def build_anthropic_client(api_key: str, base_url: str | None) -> anthropic.AsyncAnthropic:
    # max_retries=0: tenacity owns retrying (else 3 × N attempts); 60 s between stream chunks.
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url,
        max_retries=0,
        timeout=httpx2.Timeout(60.0, connect=5.0),
    )
