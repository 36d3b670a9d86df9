"""The long-lived objects a running Draftbot needs, built once from `Settings`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.access_overrides import AccessOverrides
from bot.budgets import Budgets
from bot.config import Settings
from bot.inflight import InFlight
from bot.pricing import PriceTable, load_price_table
from bot.storage import Storage, open_store
from bot.storage.journal import UsageJournal
from bot.storage.offloop import off_loop

if TYPE_CHECKING:  # loaded where they are used: `draftbot report` needs only the Slack client
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.drafting import Drafter
    from bot.llm import RetryPolicy
    from bot.prompts import PromptLibrary
    from bot.sessions import DraftSessions


@dataclass(frozen=True)
class Services:
    settings: Settings
    library: PromptLibrary
    store: Storage
    prices: PriceTable
    budgets: Budgets
    drafter: Drafter
    sessions: DraftSessions
    slack_client: AsyncWebClient | None  # None when no Slack token is configured
    access_rules: AccessOverrides  # the access settings, with admins' run-time overrides
    journal: UsageJournal = field(default_factory=lambda: UsageJournal(None))
    in_flight: InFlight = field(default_factory=InFlight)  # drafts started, for shutdown

    async def replay_journal(self) -> int:
        """Write usage rows (then drafts) kept while the database was failing; rows written."""
        written = 0
        if self.journal.pending:
            written = await off_loop(self.journal.replay, self.store)
        if self.sessions.unsaved and not self.journal.pending:
            await off_loop(self.sessions.save_unsaved)
        return written

    async def aclose(self) -> None:
        await self.drafter.model_client.aclose()
        self.store.close()


def build_slack_client(settings: Settings) -> AsyncWebClient | None:
    if not settings.slack_bot_token:
        return None
    from slack_sdk.http_retry.builtin_async_handlers import async_default_handlers
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack_retries import RateLimitRetries, ServerErrorRetries

    # slack-sdk retries only connection errors by default; 429s need their own handler (ours
    # reads any Retry-After, where slack-sdk's raises ValueError on "1.5"), and so do Slack's
    # passing 500/503s (else a DM that is the last way to answer stays empty).
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            *async_default_handlers(),
            RateLimitRetries(2),
            ServerErrorRetries(2),
        ],
    )


def stuck_after(settings: Settings) -> timedelta:
    """When a draft left "working" was abandoned: after the longest a model call can take
    (its wait in the queue, then its deadline), with a minute to spare; 5 minutes at least."""
    longest = settings.max_queue_wait_seconds + settings.model_deadline_seconds + 60
    return max(timedelta(minutes=5), timedelta(seconds=longest))


def build_services(settings: Settings, retry_policy: RetryPolicy | None = None) -> Services:
    from bot.drafting import Drafter  # with the Anthropic SDK, slow to import
    from bot.gate import ModelGate
    from bot.llm import ModelClient, build_anthropic_client
    from bot.prompts import load_prompts
    from bot.sessions import DraftSessions

    library = load_prompts(settings.prompts_dir)
    store = open_store(settings.database_url)
    journal = UsageJournal(settings.journal_path)
    journal.replay(store)  # rows kept while the database was failing, before this start
    prices = load_price_table(settings.prices_file)
    budgets = Budgets(
        store, prices, settings.user_monthly_budget_usd, unwritten=journal.pending_nano_usd
    )
    model_client = ModelClient(
        build_anthropic_client(settings.anthropic_api_key, settings.anthropic_base_url),
        retry_policy,
        ModelGate(settings.max_concurrency, settings.max_queue, settings.max_queue_wait_seconds),
        deadline_seconds=settings.model_deadline_seconds,
    )
    drafter = Drafter(
        model_client=model_client,
        store=store,
        library=library,
        prices=prices,
        default_model=settings.model,
        cache_ttl=settings.cache_ttl,
        budgets=budgets,
        admins_listening=settings.alert_channel is not None,
        journal=journal,
        outage_limit_seconds=settings.database_outage_seconds,
    )
    slack_client = build_slack_client(settings)
    return Services(
        settings=settings,
        library=library,
        store=store,
        prices=prices,
        budgets=budgets,
        drafter=drafter,
        sessions=DraftSessions(
            drafter, store, library, settings.draft_retention_days, stuck_after(settings)
        ),
        slack_client=slack_client,
        access_rules=AccessOverrides(store, settings.access),
        journal=journal,
    )
