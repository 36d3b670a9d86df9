"""Whether each kind's system prompt, and the shared house style alone, is long enough for
Anthropic to cache (measured with count_tokens)."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic

from bot.config import Settings
from bot.doctor.prompts import kind_model
from bot.doctor.report import Check, describe, not_checked
from bot.prompts import HOUSE_STYLE_FILE, PromptLibrary

CACHING_CHECK = "Prompt caching"

# The smallest system prompt that gets cached, by model family. Conservative: the docs say
# 1,024 for Sonnet 4.6 but it has been 2,048 in practice
# (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching).
MIN_CACHEABLE_TOKENS = {"sonnet": 2048, "opus": 4096, "haiku": 4096}
DEFAULT_MIN_CACHEABLE_TOKENS = 4096


def min_cacheable_tokens(model: str) -> int:
    """The smallest cacheable prefix for `model`, by family (conservative)."""
    lowered = model.lower()
    for family, minimum in MIN_CACHEABLE_TOKENS.items():
        if family in lowered:
            return minimum
    return DEFAULT_MIN_CACHEABLE_TOKENS


async def caching_check(
    client: anthropic.AsyncAnthropic,
    library: PromptLibrary,
    settings: Settings,
    known_models: set[str],
) -> Check:
    """Measure each kind's whole system prompt, and the shared house style alone (the first
    cache breakpoint), against the model's minimum cacheable prefix."""
    kinds = [kind for kind in library.kinds if kind_model(kind, settings) in known_models]
    models = sorted({kind_model(kind, settings) for kind in kinds})
    if not kinds:
        return not_checked(CACHING_CHECK, "no kind's model is known")

    async def measure(model: str, system: list[dict[str, Any]]) -> int:
        counted = await client.messages.count_tokens(
            model=model,
            system=system,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "x"}],
        )
        return counted.input_tokens

    try:
        kind_sizes = await asyncio.gather(
            *(
                measure(kind_model(kind, settings), library.system_blocks(kind, settings.cache_ttl))
                for kind in kinds
            )
        )
        house_sizes = await asyncio.gather(
            *(
                measure(model, library.system_blocks(kinds[0], settings.cache_ttl)[:1])
                for model in models
            )
        )
    except anthropic.APIError as error:
        return Check(
            CACHING_CHECK,
            ok=False,
            detail=f"Could not count the prompts' tokens ({describe(error)}).",
            fix="Run draftbot doctor again in a minute; if it keeps failing, check the Anthropic "
            "checks above.",
        )

    house_path = settings.prompts_dir / HOUSE_STYLE_FILE
    measured: list[str] = []
    too_short: list[str] = []
    for model, house in zip(models, house_sizes, strict=True):
        minimum = min_cacheable_tokens(model)
        sizes = [
            f"{kind.name} {size:,}"
            for kind, size in zip(kinds, kind_sizes, strict=True)
            if kind_model(kind, settings) == model
        ]
        measured.append(
            f"{model} (minimum {minimum:,}): house style alone {house:,}, {', '.join(sizes)}"
        )
    for kind, size in zip(kinds, kind_sizes, strict=True):
        minimum = min_cacheable_tokens(kind_model(kind, settings))
        if size < minimum:
            too_short.append(
                f"caching silently never happens for {kind.name}: its system prompt is "
                f"{size:,} tokens, below the {minimum:,}-token minimum"
            )
    short_house = [
        (model, house)
        for model, house in zip(models, house_sizes, strict=True)
        if house < min_cacheable_tokens(model)
    ]
    numbers = f"Measured tokens: {'; '.join(measured)}."
    if too_short:
        return Check(
            CACHING_CHECK,
            ok=False,
            detail=f"{'; '.join(too_short)}. {numbers}",
            fix=f"Lengthen {house_path} or the kind's file (with some margin above the minimum); "
            "until then every request pays full price for its system prompt.",
        )
    if short_house:
        model, house = short_house[0]
        return Check(
            CACHING_CHECK,
            ok=True,
            warning=True,
            detail=f"Every kind's system prompt is cached, but the shared house style alone is "
            f"{house:,} tokens, below the {min_cacheable_tokens(model):,}-token minimum for "
            f"{model}, so kinds do not share one cached copy of it. {numbers}",
            fix=f"Lengthen {house_path} if you want kinds to share its cache.",
        )
    return Check(
        CACHING_CHECK, ok=True, detail=f"Every system prompt is long enough to cache. {numbers}"
    )
