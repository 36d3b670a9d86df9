"""The long-lived objects a running Draftbot needs, built once from `Settings`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.drafting import Drafter
from bot.llm import ModelClient, RetryPolicy, build_anthropic_client
from bot.pricing import load_price_table
from bot.prompts import PromptLibrary, load_prompts
from bot.store import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    library: PromptLibrary
    store: Store
    drafter: Drafter

    async def aclose(self) -> None:
        await self.drafter.model_client.aclose()
        self.store.close()


def build_services(settings: Settings, retry_policy: RetryPolicy | None = None) -> Services:
    library = load_prompts(settings.prompts_dir)
    store = Store(settings.database_path)
    model_client = ModelClient(
        build_anthropic_client(settings.anthropic_api_key, settings.anthropic_base_url),
        retry_policy,
    )
    drafter = Drafter(
        model_client=model_client,
        store=store,
        library=library,
        prices=load_price_table(),
        default_model=settings.model,
        cache_ttl=settings.cache_ttl,
    )
    return Services(settings=settings, library=library, store=store, drafter=drafter)
