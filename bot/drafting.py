"""The drafting use case: a `DraftRequest` in, a `Draft` out. Knows nothing about Slack.

Every model request leaves a `usage` row, success or failure, before the caller gets the
result, so nothing billed goes unrecorded even if posting to Slack fails afterwards.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from bot import wording
from bot.budgets import Budgets, BudgetStatus, OverBudget, ThresholdAlerts, over_budget_message
from bot.config import CacheTTL
from bot.errors import UserFacingError
from bot.gate import QueuedCallback
from bot.llm import (
    BilledAttempt,
    Completion,
    ModelCallError,
    ModelClient,
    ModelRequest,
    TextCallback,
)
from bot.pricing import Cost, PriceTable
from bot.prompts import PromptKind, PromptLibrary
from bot.storage import Storage
from bot.storage.journal import UsageJournal
from bot.storage.offloop import write_off_loop
from bot.storage.records import UsageRecord, utc_now_iso
from bot.usage import TokenUsage

log = logging.getLogger(__name__)

TRUNCATED_STOP_REASONS = frozenset({"max_tokens", "model_context_window_exceeded"})
# The few-shot examples wrap drafts in <draft> tags; the model sometimes copies them.
_DRAFT_TAGS = re.compile(r"^\s*<draft>\s*|\s*</draft>\s*$")


@dataclass(frozen=True)
class FollowUp:
    """A refinement: the model sees its previous draft and then this instruction."""

    previous_draft: str
    instruction: str
    continues: bool = False  # the reply carries on the previous draft, so keep its spacing


@dataclass(frozen=True)
class DraftRequest:
    kind: PromptKind
    text: str  # the original request, as the person typed it
    user_id: str
    source: str  # slash, cli, shorter, …: what started this model call, for the usage log
    team_id: str | None = None
    channel_id: str | None = None
    follow_up: FollowUp | None = None
    # Material the model reads after the request (a conversation transcript) but that is
    # never stored with the draft; `source_ref` says where to read it again.
    material: str = ""
    source_ref: str | None = None


@dataclass(frozen=True)
class Draft:
    request: DraftRequest
    text: str
    stop_reason: str
    usage: TokenUsage
    cost: Cost | None
    model: str
    request_id: str | None
    ttft_ms: int | None
    latency_ms: int
    usage_id: int
    budget_alerts: ThresholdAlerts | None = None
    draft_id: str | None = None  # set once the preview is saved, so buttons can refer to it

    @property
    def truncated(self) -> bool:
        return self.stop_reason in TRUNCATED_STOP_REASONS

    @property
    def refused(self) -> bool:
        return self.stop_reason == "refusal"


class DraftFailed(UserFacingError):
    """No draft: `user_message` is safe to show; the details went to the log."""

    def __init__(
        self,
        user_message: str,
        *,
        reference: str | None = None,
        usage_id: int | None = None,
        over_budget: BudgetStatus | None = None,
    ) -> None:
        super().__init__(user_message, reference=reference)
        self.usage_id = usage_id
        self.over_budget = over_budget  # set when the budget stopped the draft: no model call


class Drafter:
    def __init__(
        self,
        *,
        model_client: ModelClient,
        store: Storage,
        library: PromptLibrary,
        prices: PriceTable,
        default_model: str,
        cache_ttl: CacheTTL = "5m",
        budgets: Budgets | None = None,
        admins_listening: bool = False,
        journal: UsageJournal | None = None,
        outage_limit_seconds: float = 300.0,
    ) -> None:
        self.journal = journal or UsageJournal(None)
        self.outage_limit_seconds = outage_limit_seconds
        self.budgets = budgets
        self.admins_listening = admins_listening  # an alert channel is set
        self.model_client = model_client
        self.store = store
        self.library = library
        self.prices = prices
        self.default_model = default_model
        self.cache_ttl = cache_ttl

    def model_request(self, request: DraftRequest) -> ModelRequest:
        content = f"{request.text}{request.material}"
        messages: list[dict[str, Any]] = [{"role": "user", "content": content}]
        if request.follow_up:
            # Claude 4.6 rejects assistant prefill, so a follow-up always ends on a user turn.
            messages += [
                {"role": "assistant", "content": request.follow_up.previous_draft},
                {"role": "user", "content": request.follow_up.instruction},
            ]
        return ModelRequest(
            model=request.kind.model or self.default_model,
            system=self.library.system_blocks(request.kind, self.cache_ttl),
            messages=messages,
            max_tokens=request.kind.max_tokens,
            cache_ttl=self.cache_ttl,
        )

    async def draft(
        self,
        request: DraftRequest,
        on_text: TextCallback | None = None,
        on_queued: QueuedCallback | None = None,
    ) -> Draft:
        """Check the budget, call the model, log usage. Raises `DraftFailed`."""
        self._refuse_if_usage_cannot_be_kept()
        model_request = self.model_request(request)
        reservation = await self._reserve_budget(request, model_request)
        try:
            draft = await self._call_model(request, model_request, on_text, on_queued)
        finally:
            await self._release(reservation)
        if self.budgets:
            draft = replace(draft, budget_alerts=await self._threshold_alerts(request.user_id))
        return draft

    def _refuse_if_usage_cannot_be_kept(self) -> None:
        """A short database outage is bridged by the journal; a long one, or a full journal,
        stops new model calls: Draftbot would be spending what it cannot account for."""
        outage = self.journal.outage_seconds()
        if self.journal.full or outage > self.outage_limit_seconds:
            waiting = self.journal.pending
            log.error("draft refused: database failing %.0f s, %d rows waiting", outage, waiting)
            raise DraftFailed(wording.DATABASE_DOWN)

    async def _reserve_budget(
        self, request: DraftRequest, model_request: ModelRequest
    ) -> int | None:
        if self.budgets is None:
            return None
        try:
            return await write_off_loop(
                self.budgets.reserve,
                request.user_id,
                model_request.model,
                model_request.prompt_chars,
                model_request.max_tokens,
            )
        except OverBudget as over:
            status = over.status
            log.info(
                "draft refused: over budget user=%s spent=%s limit=%s",
                request.user_id,
                status.spent.display(),
                status.limit.display() if status.limit else "-",
            )
            raise DraftFailed(over_budget_message(status), over_budget=status) from over
        except Exception as error:  # the database: draft anyway, within the outage limit
            log.warning("budget check skipped: the database failed (%s)", type(error).__name__)
            self.journal.database_failed()
            return None

    async def _release(self, reservation: int | None) -> None:
        if self.budgets is None or reservation is None:
            return
        try:
            await write_off_loop(self.budgets.release, reservation)
        except Exception as error:  # a reservation left behind expires by itself
            log.warning("could not release a budget reservation (%s)", type(error).__name__)

    async def _threshold_alerts(self, user_id: str) -> ThresholdAlerts | None:
        assert self.budgets is not None
        try:
            return await write_off_loop(
                self.budgets.threshold_alerts, user_id, admins_listening=self.admins_listening
            )
        except Exception as error:
            log.warning("budget alerts skipped: the database failed (%s)", type(error).__name__)
            return None

    async def _record(self, record: UsageRecord) -> int:
        """Write the usage row; if the database refuses it, the journal keeps it (id 0)."""
        # Timed now, so a retry of a write whose fate was unknown can recognise it.
        record = replace(record, created_at=record.created_at or utc_now_iso())
        try:
            usage_id = await write_off_loop(self.store.record_usage, record)
        except Exception as error:
            self.journal.keep(record, error)
            return 0
        if not self.journal.pending:
            self.journal.database_ok()
        return usage_id

    async def _call_model(
        self,
        request: DraftRequest,
        model_request: ModelRequest,
        on_text: TextCallback | None,
        on_queued: QueuedCallback | None,
    ) -> Draft:
        try:
            completion = await self.model_client.complete(
                model_request, on_text=on_text, on_queued=on_queued
            )
        except ModelCallError as error:
            await self._record_billed_failures(request, model_request.model, error.billed_failures)
            usage_id = await self._record(
                _usage_record(
                    request,
                    model=model_request.model,
                    status="error",
                    error=f"{error.category.value}: {error.detail}",
                    latency_ms=error.latency_ms,
                    request_id=error.request_id,
                    attempts=error.attempts,
                )
            )
            log.error(
                "draft failed",
                extra={
                    "fields": {
                        **_request_fields(request, model_request.model),
                        "category": error.category.value,
                        "status": error.status,
                        "attempts": error.attempts,
                        "latency_ms": error.latency_ms,
                        "request_id": error.request_id,
                        "usage_id": usage_id,
                        "detail": error.detail,
                    }
                },
            )
            raise DraftFailed(
                error.user_message, reference=error.request_id, usage_id=usage_id
            ) from error
        return await self._finish(request, completion)

    async def _finish(self, request: DraftRequest, completion: Completion) -> Draft:
        await self._record_billed_failures(request, completion.model, completion.billed_failures)
        cost = self.prices.cost(completion.model, completion.usage)
        usage = completion.usage
        usage_id = await self._record(
            _usage_record(
                request,
                model=completion.model,
                status="ok",
                usage=usage,
                cost=cost,
                stop_reason=completion.stop_reason,
                latency_ms=completion.latency_ms,
                ttft_ms=completion.ttft_ms,
                request_id=completion.request_id,
                attempts=completion.attempts,
            )
        )
        log.info(
            "draft ok",
            extra={
                "fields": {
                    **_request_fields(request, completion.model),
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cache_write_tokens": usage.cache_creation_input_tokens,
                    "cache_read_tokens": usage.cache_read_input_tokens,
                    "cost_usd": cost.exact() if cost else "unknown",
                    "stop_reason": completion.stop_reason,
                    "latency_ms": completion.latency_ms,
                    "ttft_ms": completion.ttft_ms,
                    "attempts": completion.attempts,
                    "request_id": completion.request_id,
                    "usage_id": usage_id,
                }
            },
        )
        text = _DRAFT_TAGS.sub("", completion.text)
        if completion.stop_reason not in TRUNCATED_STOP_REASONS:
            text = text.rstrip()
        if not (request.follow_up and request.follow_up.continues):
            text = text.lstrip()
        return Draft(
            request=request,
            text=text,
            stop_reason=completion.stop_reason,
            usage=usage,
            cost=cost,
            model=completion.model,
            request_id=completion.request_id,
            ttft_ms=completion.ttft_ms,
            latency_ms=completion.latency_ms,
            usage_id=usage_id,
        )

    async def _record_billed_failures(
        self, request: DraftRequest, model: str, failures: tuple[BilledAttempt, ...]
    ) -> None:
        """Attempts cut off mid-stream reached the model, so they get rows of their own."""
        for failure in failures:
            await self._record(
                _usage_record(
                    request,
                    model=model,
                    status="error",
                    usage=failure.usage,
                    cost=self.prices.cost(model, failure.usage),
                    error=f"interrupted: {failure.error}",
                    request_id=failure.request_id,
                )
            )


def _request_fields(request: DraftRequest, model: str) -> dict[str, str]:
    """Who asked for what: the start of every log line about a model request."""
    return {
        "user": request.user_id,
        "kind": request.kind.name,
        "source": request.source,
        "model": model,
    }


def _usage_record(
    request: DraftRequest,
    *,
    model: str,
    status: str,
    usage: TokenUsage | None = None,
    cost: Cost | None = None,
    stop_reason: str | None = None,
    error: str | None = None,
    latency_ms: int | None = None,
    ttft_ms: int | None = None,
    request_id: str | None = None,
    attempts: int = 1,
) -> UsageRecord:
    usage = usage or TokenUsage()
    return UsageRecord(
        user_id=request.user_id,
        team_id=request.team_id,
        channel_id=request.channel_id,
        source=request.source,
        kind=request.kind.name,
        model=model,
        status=status,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_5m_input_tokens=usage.cache_creation_5m_input_tokens,
        cache_creation_1h_input_tokens=usage.cache_creation_1h_input_tokens,
        cost_usd=float(cost.usd) if cost else None,
        cost_nano_usd=cost.nano_usd if cost else None,
        stop_reason=stop_reason,
        error=error[:500] if error else None,
        latency_ms=latency_ms,
        ttft_ms=ttft_ms,
        request_id=request_id,
        attempts=attempts,
    )
