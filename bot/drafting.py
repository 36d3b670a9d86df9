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
from bot.fact_check import Facts
from bot.files import ReadFile
from bot.gate import Admission, QueuedCallback, QueueFull, QueueRefused
from bot.llm import DEADLINE_STOP_REASON, Completion, ModelClient, ModelRequest, TextCallback
from bot.model_errors import ModelCallError
from bot.pricing import Cost, PriceTable
from bot.prompts import PromptKind, PromptLibrary
from bot.storage import Storage
from bot.storage.journal import UsageJournal
from bot.storage.offloop import write_off_loop
from bot.usage import TokenUsage
from bot.usage_rows import UsageRows, request_fields, usage_record
from bot.versions import VersionTag

log = logging.getLogger(__name__)

# Drafts that stop before their end: they keep their spacing and get a Continue button.
TRUNCATED_STOP_REASONS = frozenset(
    {"max_tokens", "model_context_window_exceeded", DEADLINE_STOP_REASON}
)
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
    # Files the model reads before the request, each one content block (`bot.files`); like
    # `material`, never stored with the draft.
    files: tuple[ReadFile, ...] = ()


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
    versions: tuple[VersionTag, ...] = ()  # kept versions, oldest first ((): only v1)
    facts: Facts | None = None  # what the model read, to check the draft against (sessions)

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


def file_blocks(files: tuple[ReadFile, ...], ttl: CacheTTL) -> list[dict[str, Any]]:
    """The files' blocks, the last one a cache breakpoint (the system prompt holds two, so
    a request has three of the four allowed): refinements send the same prefix and read
    the files from the cache instead of paying for them again."""
    blocks = [dict(file.block) for file in files]
    cache_control: dict[str, str] = {"type": "ephemeral"}
    if ttl == "1h":
        cache_control["ttl"] = "1h"
    blocks[-1]["cache_control"] = cache_control
    return blocks


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
        self.usage_rows = UsageRows(store, self.journal, prices)

    def model_request(self, request: DraftRequest) -> ModelRequest:
        text = f"{request.text}{request.material}"
        content: str | list[dict[str, Any]] = text
        if request.files:
            text = text if text.strip() else wording.FILE_ONLY_REQUEST
            content = [*file_blocks(request.files, self.cache_ttl), {"type": "text", "text": text}]
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
            file_tokens=sum(file.worst_tokens for file in request.files),
        )

    async def draft(
        self,
        request: DraftRequest,
        on_text: TextCallback | None = None,
        on_queued: QueuedCallback | None = None,
    ) -> Draft:
        """Wait for a place in the model queue, check the budget, call the model, log usage.
        Raises `DraftFailed`; a request the queue turns away has spent and reserved nothing."""
        self._refuse_if_usage_cannot_be_kept()
        model_request = self.model_request(request)
        admission = await self._admit(request, on_queued)
        try:
            reservation = await self._reserve_budget(request, model_request)
            try:
                draft = await self._call_model(request, model_request, on_text, admission)
            finally:
                await self._release(reservation)
        finally:
            admission.release()
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

    async def _admit(self, request: DraftRequest, on_queued: QueuedCallback | None) -> Admission:
        try:
            return await self.model_client.admit(on_queued)
        except QueueRefused as refused:
            log.warning("draft refused: %s user=%s", refused, request.user_id)
            full = isinstance(refused, QueueFull)
            raise DraftFailed(wording.QUEUE_FULL if full else wording.QUEUE_WAIT_TOO_LONG) from None

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
                model_request.file_tokens,
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

    async def _call_model(
        self,
        request: DraftRequest,
        model_request: ModelRequest,
        on_text: TextCallback | None,
        admission: Admission,
    ) -> Draft:
        rows = self.usage_rows
        try:
            completion = await self.model_client.complete(
                model_request, on_text=on_text, admission=admission
            )
        except ModelCallError as error:
            model = model_request.model
            await rows.record_billed_failures(request, model, error.billed_failures)
            last = error.last_billed  # the failing attempt reached the model: its row says why
            usage_id = await rows.record(
                usage_record(
                    request,
                    model=model,
                    status="error",
                    usage=last.usage if last else None,
                    cost=self.prices.cost(model, last.usage) if last else None,
                    error=f"{error.category.value}: {error.detail}",
                    latency_ms=error.latency_ms,
                    request_id=last.request_id if last else error.request_id,
                    attempts=error.attempts,
                )
            )
            log.error(
                "draft failed",
                extra={
                    "fields": {
                        **request_fields(request, model_request.model),
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
        rows = self.usage_rows
        await rows.record_billed_failures(request, completion.model, completion.billed_failures)
        cost = self.prices.cost(completion.model, completion.usage)
        usage = completion.usage
        usage_id = await rows.record(
            usage_record(
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
                    **request_fields(request, completion.model),
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
