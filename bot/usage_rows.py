"""The usage rows of model requests: built from what was asked, and written so none is lost.

A row the database refuses is kept in the journal (`bot.storage.journal`) and written back
later, exactly once; attempts cut off after reaching the model get rows of their own.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from bot.model_errors import BilledAttempt
from bot.pricing import Cost, PriceTable
from bot.prompts import PromptKind
from bot.storage import Storage
from bot.storage.journal import UsageJournal
from bot.storage.offloop import write_off_loop
from bot.storage.records import UsageRecord, utc_now_iso
from bot.usage import TokenUsage


class Asked(Protocol):
    """Who asked for what (a `bot.drafting.DraftRequest`)."""

    @property
    def user_id(self) -> str: ...
    @property
    def team_id(self) -> str | None: ...
    @property
    def channel_id(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def kind(self) -> PromptKind: ...


class UsageRows:
    def __init__(self, store: Storage, journal: UsageJournal, prices: PriceTable) -> None:
        self.store = store
        self.journal = journal
        self.prices = prices

    async def record(self, record: UsageRecord) -> int:
        """Write the usage row; if the database refuses it, the journal keeps it (id 0)."""
        # Timed now, so a retry of a write whose fate was unknown can recognise it.
        record = replace(record, created_at=record.created_at or utc_now_iso())
        try:
            usage_id = await write_off_loop(self.store.record_usage, record)
        except Exception as error:
            # Its fsync waits on the disk, which may be the one in trouble: not on the loop.
            await asyncio.to_thread(self.journal.keep, record, error)
            return 0
        if not self.journal.pending:
            self.journal.database_ok()
        return usage_id

    async def record_billed_failures(
        self, request: Asked, model: str, failures: tuple[BilledAttempt, ...]
    ) -> None:
        """Attempts cut off mid-stream reached the model, so they get rows of their own."""
        for failure in failures:
            await self.record(
                usage_record(
                    request,
                    model=model,
                    status="error",
                    usage=failure.usage,
                    cost=self.prices.cost(model, failure.usage),
                    error=f"interrupted: {failure.error}",
                    request_id=failure.request_id,
                )
            )


def request_fields(request: Asked, model: str) -> dict[str, str]:
    """Who asked for what: the start of every log line about a model request."""
    return {
        "user": request.user_id,
        "kind": request.kind.name,
        "source": request.source,
        "model": model,
    }


def usage_record(
    request: Asked,
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
