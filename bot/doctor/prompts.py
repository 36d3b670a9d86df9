"""The prompt files (DRAFTBOT_PROMPTS_DIR): they load, and each kind's `max_tokens` fits its
model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from anthropic.types import ModelInfo

from bot.config import Settings
from bot.doctor.report import Check, not_checked
from bot.prompts import COMPANY_FILE, PromptKind, PromptLibrary, load_prompts

LIMITS_CHECK = "Prompt length limits"


def kind_model(kind: PromptKind, settings: Settings) -> str:
    return kind.model or settings.model


def prompt_files_check(prompts_dir: Path | None) -> tuple[PromptLibrary | None, Check]:
    name = "Prompt files"
    if prompts_dir is None:
        return None, not_checked(name, "DRAFTBOT_PROMPTS_DIR is not a folder (see above)")
    try:
        library = load_prompts(prompts_dir)
    except Exception as error:  # PromptError, or an unreadable file
        return None, Check(
            name,
            ok=False,
            detail=f"The prompts in {prompts_dir} do not load: {error}",
            fix="Fix the file named above; README.md → 'Adding a kind of draft' shows the "
            "front matter every prompt file needs.",
        )
    kinds = ", ".join(
        f"{kind.name} (default)" if kind.is_default else kind.name for kind in library.kinds
    )
    detail = f"{len(library.kinds)} kinds load from {prompts_dir}: {kinds}. {company_line(library)}"
    return library, Check(name, ok=True, detail=detail)


def company_line(library: PromptLibrary) -> str:
    """What doctor says about the company pack and the words drafts are checked for."""
    counts = Counter(rule.source for rule in library.avoid)
    words = f"drafts are checked for {counts['house']} words the house style avoids"
    if library.company is None:
        return f"No company pack ({COMPANY_FILE} is absent or only comments); {words}."
    return (
        f"Company pack loaded from {COMPANY_FILE}; {words} and {counts['company']} the "
        "company pack avoids."
    )


def limits_check(
    library: PromptLibrary, settings: Settings, infos: Mapping[str, ModelInfo]
) -> Check:
    """Each kind's `max_tokens` must fit its model's maximum output."""
    fits: list[str] = []
    too_big: list[str] = []
    fixes: list[str] = []
    unchecked: list[str] = []
    for kind in library.kinds:
        model = kind_model(kind, settings)
        info = infos.get(model)
        if info is None or not info.max_tokens:
            unchecked.append(kind.name)
        elif kind.max_tokens > info.max_tokens:
            too_big.append(
                f"{kind.name} asks for max_tokens {kind.max_tokens:,} but {model} allows at most "
                f"{info.max_tokens:,}"
            )
            fixes.append(f"{kind.name}: at most {info.max_tokens:,}")
        else:
            fits.append(f"{kind.name} {kind.max_tokens:,} (≤ {info.max_tokens:,})")
    skipped = f" Not checked: {', '.join(unchecked)} (model unknown)." if unchecked else ""
    if too_big:
        return Check(
            LIMITS_CHECK,
            ok=False,
            detail=f"{'; '.join(too_big)}: every draft of that kind would fail.{skipped}",
            fix=f"Lower `max_tokens:` in the front matter of the prompt file ({'; '.join(fixes)}) "
            f"in {settings.prompts_dir}, or give that kind a model that allows more.",
        )
    if not fits:
        return not_checked(LIMITS_CHECK, "no kind's model is known")
    return Check(
        LIMITS_CHECK, ok=True, detail=f"Every kind fits its model: {', '.join(fits)}.{skipped}"
    )
