"""The only module that talks to Anthropic: one streamed completion, with our retry policy
and one deadline over every attempt and the stream.

The SDK's own retries are off (`max_retries=0`) so that tenacity alone decides, and SDK
errors become a `ModelCallError` (`bot.model_errors`) with a small set of categories whose
user wording lives in `bot.wording`. Past the deadline, the text streamed so far is the draft
if there is enough of it (stop reason `deadline`), else the call fails as `SLOW`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
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

from bot.config import CacheTTL
from bot.gate import Admission, ModelGate, QueuedCallback
from bot.model_errors import (
    BilledAttempt,
    ErrorCategory,
    ModelCallError,
    categorize,
    describe,
    is_retryable,
    retry_after_seconds,
)
from bot.usage import TokenUsage

log = logging.getLogger(__name__)

DEFAULT_MAX_IN_FLIGHT = 100
# Long enough for the retries (45 s at most) and then a full stream of the longest kind
# (3,000 tokens, about 40 s); far inside the 30 minutes a response_url works.
DEFAULT_DEADLINE_SECONDS = 90.0
# Draftbot's own stop reason: the deadline cut the stream, and what had arrived is the draft.
DEADLINE_STOP_REASON = "deadline"
# Less streamed text than this by the deadline is no draft: the person is told Claude is slow.
MIN_USABLE_CHARS = 80
# No usage arrives for output cut off mid-stream; estimate it from the text (about 4
# characters a token in English) rather than count the 1 token `message_start` reports.
CHARS_PER_TOKEN = 4


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
    file_tokens: int = 0  # the worst case of the documents and images in `messages`

    @property
    def prompt_chars(self) -> int:
        """The characters of text sent (documents and images are in `file_tokens`)."""
        system = sum(len(block["text"]) for block in self.system)
        return system + sum(_text_chars(message["content"]) for message in self.messages)


def _text_chars(content: str | list[dict[str, Any]]) -> int:
    if isinstance(content, str):
        return len(content)
    return sum(len(block["text"]) for block in content if block.get("type") == "text")


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


TextCallback = Callable[[str], Awaitable[None]]


@dataclass
class _Streaming:
    """The attempt in progress: what the model has sent so far."""

    usage: TokenUsage | None = None  # from message_start: the attempt reached the model
    request_id: str | None = None
    text: list[str] = field(default_factory=list)

    def billed(self, error: str) -> BilledAttempt | None:
        if self.usage is None:
            return None
        written = math.ceil(len("".join(self.text)) / CHARS_PER_TOKEN)
        usage = replace(self.usage, output_tokens=max(self.usage.output_tokens, written))
        return BilledAttempt(usage=usage, request_id=self.request_id, error=error)


@dataclass
class _AttemptLog:
    started: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    billed_failures: list[BilledAttempt] = field(default_factory=list)
    last_billed: BilledAttempt | None = None  # the latest attempt's, if it reached the model
    current: _Streaming | None = None  # the attempt the deadline may cut short

    def latency_ms(self) -> int:
        return _ms_since(self.started, time.monotonic()) or 0


class ModelClient:
    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        policy: RetryPolicy | None = None,
        gate: ModelGate | None = None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    ) -> None:
        self._client = client
        self.policy = policy or RetryPolicy()
        self.gate = gate or ModelGate(DEFAULT_MAX_IN_FLIGHT)
        self.deadline_seconds = deadline_seconds

    async def aclose(self) -> None:
        await self._client.close()

    async def admit(self, on_queued: QueuedCallback | None = None) -> Admission:
        """A place for a new call (raises `bot.gate.QueueRefused`): take it before spending."""
        return await self.gate.admit(on_queued)

    async def complete(
        self,
        request: ModelRequest,
        on_text: TextCallback | None = None,
        on_queued: QueuedCallback | None = None,
        admission: Admission | None = None,
    ) -> Completion:
        """Stream one completion, retrying transient failures until the deadline, which runs
        from admission; raise `ModelCallError`. Without `admission`, wait for one first."""
        if admission is None:
            admission = await self.admit(on_queued)
        try:
            return await self._complete(request, on_text, admission)
        finally:
            admission.release()

    async def _complete(
        self, request: ModelRequest, on_text: TextCallback | None, admission: Admission
    ) -> Completion:
        attempt_log = _AttemptLog(started=admission.asked_at)
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(self.policy.max_attempts)
            | stop_before_delay(self.policy.max_total_seconds)
            | _StopWhenServerAsksForLongWait(self.policy.max_retry_after)
            | _StopBeforeDeadline(time.monotonic() + self.deadline_seconds),
            wait=self._wait,
            before_sleep=_log_retry,
            reraise=True,
        )
        attempts = 0
        deadline = asyncio.timeout(self.deadline_seconds)
        try:
            async with deadline:
                async for attempt in retrying:
                    with attempt:
                        attempts = attempt.retry_state.attempt_number
                        async with self.gate.slot(admission=admission):
                            return await self._attempt(request, attempt_log, attempts, on_text)
        except Exception as error:
            if deadline.expired():
                return self._past_deadline(request, attempt_log, attempts)
            raise _to_model_call_error(error, attempts, attempt_log) from error
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(
        self,
        request: ModelRequest,
        attempt_log: _AttemptLog,
        attempt_number: int,
        on_text: TextCallback | None,
    ) -> Completion:
        streaming = attempt_log.current = _Streaming()
        attempt_log.last_billed = None
        try:
            async with self._client.messages.stream(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,  # type: ignore[arg-type]
                messages=request.messages,  # type: ignore[arg-type]
            ) as stream:
                streaming.request_id = stream.request_id
                self.gate.observe(stream.response.headers)
                async for event in stream:
                    if event.type == "message_start":
                        streaming.usage = _usage_from(event.message.usage, request.cache_ttl)
                    elif event.type == "text" and event.text:
                        if attempt_log.first_token_at is None:
                            attempt_log.first_token_at = time.monotonic()
                        streaming.text.append(event.text)
                        if on_text is not None:
                            await on_text(event.text)
                message = await stream.get_final_message()
        except Exception as error:  # (the deadline's cancellation leaves `current` be)
            attempt_log.current = None
            billed = streaming.billed(describe(error))
            if billed is not None:
                attempt_log.billed_failures.append(billed)
                attempt_log.last_billed = billed
            raise
        attempt_log.current = None
        text = "".join(block.text for block in message.content if block.type == "text")
        return Completion(
            text=text,
            stop_reason=message.stop_reason or "end_turn",
            usage=_usage_from(message.usage, request.cache_ttl),
            # The id we asked for, which is what prices.toml and reports use (the response may
            # name a dated snapshot of an alias).
            model=request.model,
            request_id=streaming.request_id,
            ttft_ms=_ms_since(attempt_log.started, attempt_log.first_token_at),
            latency_ms=attempt_log.latency_ms(),
            attempts=attempt_number,
            billed_failures=tuple(attempt_log.billed_failures),
        )

    def _past_deadline(
        self, request: ModelRequest, attempt_log: _AttemptLog, attempts: int
    ) -> Completion:
        """The deadline passed: what the last attempt streamed is the draft if it is enough;
        otherwise `ModelCallError(SLOW)`. Either way that attempt, if billed, has one row."""
        streaming = attempt_log.current or _Streaming()
        text = "".join(streaming.text)
        detail = f"no complete reply within the {self.deadline_seconds:g} s deadline"
        billed = streaming.billed(detail)
        log.warning(
            "model call passed its %g s deadline after %d attempt(s), %d characters streamed",
            self.deadline_seconds,
            attempts,
            len(text),
        )
        if billed is not None and len(text.strip()) >= MIN_USABLE_CHARS:
            return Completion(
                text=text,
                stop_reason=DEADLINE_STOP_REASON,
                usage=billed.usage,
                model=request.model,
                request_id=streaming.request_id,
                ttft_ms=_ms_since(attempt_log.started, attempt_log.first_token_at),
                latency_ms=attempt_log.latency_ms(),
                attempts=max(attempts, 1),
                billed_failures=tuple(attempt_log.billed_failures),
            )
        if billed is not None:
            attempt_log.billed_failures.append(billed)
            attempt_log.last_billed = billed
        raise ModelCallError(
            ErrorCategory.SLOW,
            detail,
            request_id=streaming.request_id,
            attempts=max(attempts, 1),
            latency_ms=attempt_log.latency_ms(),
            **_billed(attempt_log),
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


class _StopBeforeDeadline(stop_base):
    """No retry that would start after the deadline: the person hears the real reason."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline  # time.monotonic()

    def __call__(self, retry_state: RetryCallState) -> bool:
        return time.monotonic() + retry_state.upcoming_sleep >= self.deadline


def _billed(attempt_log: _AttemptLog) -> dict[str, Any]:
    """`billed_failures` and `last_billed` for a `ModelCallError`: one row each."""
    failures = tuple(attempt_log.billed_failures)
    if attempt_log.last_billed is not None:
        return {"billed_failures": failures[:-1], "last_billed": attempt_log.last_billed}
    return {"billed_failures": failures}


def _to_model_call_error(error: Exception, attempts: int, attempt_log: _AttemptLog) -> Exception:
    if not isinstance(error, anthropic.APIError | httpx2.TransportError):
        # Not Anthropic's doing (a bug, or a callback failing): keep the traceback for the
        # admin, and still hand back the attempts that may have been billed.
        log.exception("unexpected error during a model call")
        return ModelCallError(
            ErrorCategory.INTERNAL,
            f"{type(error).__name__}: {error}",
            attempts=max(attempts, 1),
            latency_ms=attempt_log.latency_ms(),
            **_billed(attempt_log),
        )
    status = getattr(error, "status_code", None)
    return ModelCallError(
        categorize(error),
        describe(error),
        status=status,
        request_id=getattr(error, "request_id", None),
        attempts=max(attempts, 1),
        latency_ms=attempt_log.latency_ms(),
        **_billed(attempt_log),
    )


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
        describe(error) if error else "?",
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
