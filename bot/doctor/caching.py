"""Whether each kind's system prompt, and the prefix every kind shares (the house style, and
the company pack when there is one), is long enough for Anthropic to cache, and whether the
company pack stays a useful size (measured with count_tokens)."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic

from bot.config import Settings
from bot.doctor.prompts import kind_model
from bot.doctor.report import Check, describe, not_checked
from bot.prompts import COMPANY_FILE, HOUSE_STYLE_FILE, PromptKind, PromptLibrary

CACHING_CHECK = "Prompt caching"

# The smallest system prompt that gets cached, by model family. Conservative: the docs say
# 1,024 for Sonnet 4.6 but it has been 2,048 in practice
# (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching).
MIN_CACHEABLE_TOKENS = {"sonnet": 2048, "opus": 4096, "haiku": 4096}
DEFAULT_MIN_CACHEABLE_TOKENS = 4096
# Past this, a company pack costs more (every request reads it, every cache write pays for
# it, and the kind's guidance gets less of the model's attention) than it adds to drafts:
# names, spellings, titles, a sign-off, a word list and two or three examples fit well within.
COMPANY_PACK_USEFUL_TOKENS = 4_000


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
    """Measure each kind's whole system prompt, the shared prefix (house style, and the
    company pack when there is one: the first cache breakpoint) and the house style alone,
    against the model's minimum cacheable prefix; and the company pack against a useful
    size."""
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

    ttl = settings.cache_ttl
    shared_blocks = library.system_blocks(kinds[0], ttl)[: library.shared_prefix_length()]
    try:
        kind_sizes = await asyncio.gather(
            *(
                measure(kind_model(kind, settings), library.system_blocks(kind, ttl))
                for kind in kinds
            )
        )
        house_sizes = await asyncio.gather(
            *(measure(model, [{"type": "text", "text": library.house_style}]) for model in models)
        )
        shared_sizes = (
            await asyncio.gather(*(measure(model, shared_blocks) for model in models))
            if library.company
            else house_sizes
        )
    except anthropic.APIError as error:
        return Check(
            CACHING_CHECK,
            ok=False,
            detail=f"Could not count the prompts' tokens ({describe(error)}).",
            fix="Run draftbot doctor again in a minute; if it keeps failing, check the Anthropic "
            "checks above.",
        )
    return _verdict(
        library, settings, kinds, models, list(kind_sizes), list(house_sizes), list(shared_sizes)
    )


def _verdict(
    library: PromptLibrary,
    settings: Settings,
    kinds: list[PromptKind],
    models: list[str],
    kind_sizes: list[int],
    house_sizes: list[int],
    shared_sizes: list[int],
) -> Check:
    house_path = settings.prompts_dir / HOUSE_STYLE_FILE
    company_path = settings.prompts_dir / COMPANY_FILE
    company = library.company is not None
    measured: list[str] = []
    for model, house, shared in zip(models, house_sizes, shared_sizes, strict=True):
        sizes = [
            f"{kind.name} {size:,}"
            for kind, size in zip(kinds, kind_sizes, strict=True)
            if kind_model(kind, settings) == model
        ]
        pack = f", company pack {shared - house:,}, shared prefix {shared:,}" if company else ""
        measured.append(
            f"{model} (minimum {min_cacheable_tokens(model):,}): house style alone "
            f"{house:,}{pack}, {', '.join(sizes)}"
        )
    numbers = f"Measured tokens: {'; '.join(measured)}."
    too_short = [
        f"caching silently never happens for {kind.name}: its system prompt is "
        f"{size:,} tokens, below the {minimum:,}-token minimum"
        for kind, size in zip(kinds, kind_sizes, strict=True)
        if size < (minimum := min_cacheable_tokens(kind_model(kind, settings)))
    ]
    if too_short:
        files = f"{house_path}, the company pack ({company_path})" if company else str(house_path)
        return Check(
            CACHING_CHECK,
            ok=False,
            detail=f"{'; '.join(too_short)}. {numbers}",
            fix=f"Lengthen {files} or the kind's file (with some margin above the minimum); "
            "until then every request pays full price for its system prompt.",
        )
    warnings: list[str] = []
    fixes: list[str] = []
    pack_tokens = max((s - h for s, h in zip(shared_sizes, house_sizes, strict=True)), default=0)
    if company and pack_tokens > COMPANY_PACK_USEFUL_TOKENS:
        warnings.append(
            f"the company pack is {pack_tokens:,} tokens, past the {COMPANY_PACK_USEFUL_TOKENS:,} "
            "that drafts make good use of: every request reads all of it, every cache write "
            "pays for it, and long packs crowd out the kind's own guidance"
        )
        fixes.append(
            f"Trim {company_path} to what drafts need (names, spellings, titles, sign-off, the "
            "Words to avoid list and two or three short examples)."
        )
    for model, shared in zip(models, shared_sizes, strict=True):
        minimum = min_cacheable_tokens(model)
        if shared >= minimum:
            continue
        what = "house style and company pack together are" if company else "house style alone is"
        warnings.append(
            f"every kind's system prompt is cached, but the shared {what} {shared:,} tokens, "
            f"below the {minimum:,}-token minimum for {model}, so kinds do not share one cached "
            "copy of it"
        )
        fixes.append(
            f"Add about {minimum - shared:,} tokens (an approved example draft or two) to "
            f"{company_path if company else house_path} if you want kinds to share its cache."
        )
        break
    if warnings:
        detail = "; ".join(warnings)
        return Check(
            CACHING_CHECK,
            ok=True,
            warning=True,
            detail=f"{detail[0].upper()}{detail[1:]}. {numbers}",
            fix=" ".join(fixes),
        )
    return Check(
        CACHING_CHECK, ok=True, detail=f"Every system prompt is long enough to cache. {numbers}"
    )
