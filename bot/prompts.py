"""Prompt kinds as data: `prompts/*.md` files (front matter + body) and routing to them.

An admin adds a kind by dropping a new file in `prompts/`; no code changes.
The system prompt is the shared house style, the company pack (`_company.md`, optional),
then the kind's body. House style and company pack end one cache breakpoint together, the
kind another, so a request keeps two of its four for a channel's block and an attached file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import CacheTTL
from bot.errors import SetupError
from bot.languages import is_language
from bot.style_check import AvoidRule, merge_rules, parse_avoid_list

HOUSE_STYLE_FILE = "_house_style.md"
COMPANY_FILE = "_company.md"
# The shipped company pack is all inside HTML comments: a pack with nothing left once the
# comments are removed is no pack at all. Admins may keep notes in comments; the model
# never sees them.
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
HELP_WORDS = frozenset({"help", "?", "-h", "--help", "examples"})

# Words people put before the kind ("please write me a quick email…"). They are skipped
# when looking for the kind, but kept in the text sent to the model.
FILLER_WORDS = frozenset(
    {
        *("please", "pls", "can", "could", "would", "you", "u", "i", "we", "need", "want"),
        *("me", "us", "a", "an", "the", "some", "my", "our", "quick", "short", "brief"),
        *("little", "new", "nice", "polite", "draft", "write", "create", "make", "compose"),
        *("prepare", "give", "help"),
    }
)
_MAX_LEADING_WORDS = 6
# `output:` in a kind's front matter: `canvas-ok` marks document-like drafts (agendas,
# guides, plans, summaries), whose previews offer "Open as canvas" however short they are.
OUTPUT_KINDS = ("canvas-ok",)
# An alias such as `in <language>` matches "in Spanish", "in Portuguese", … (bot/languages.py).
LANGUAGE_SLOT = "<language>"
_PUNCTUATION = ".,:!?\"'()[]“”‘’"


class PromptError(SetupError):
    """A prompt file is missing or malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class PromptKind:
    name: str
    aliases: tuple[str, ...]
    description: str
    example: str
    max_tokens: int
    model: str | None
    body: str
    is_default: bool = False
    noun: str | None = None  # "Drafting your {noun}…"; None: just "Drafting…"
    canvas_ok: bool = False  # `output: canvas-ok`: document-like, offered as a canvas

    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Route:
    """What a line of `/draft` text asks for."""

    kind: PromptKind | None  # None: the user asked for help
    text: str  # the request as typed, sent to the model unchanged
    needs_details: bool = False  # only a kind word, nothing to draft from
    defaulted: bool = False  # no kind named: the default kind (or the channel's) applies

    @property
    def is_help(self) -> bool:
        return self.kind is None


@dataclass(frozen=True)
class PromptLibrary:
    house_style: str
    kinds: tuple[PromptKind, ...]
    company: str | None = None  # the company pack, comments removed; None: not filled in
    avoid: tuple[AvoidRule, ...] = ()  # both `## Words to avoid` lists, checked on drafts

    @property
    def default_kind(self) -> PromptKind:
        return next(kind for kind in self.kinds if kind.is_default)

    def find(self, word: str) -> PromptKind | None:
        """The kind named `word` or having it as an alias (case and punctuation ignored)."""
        wanted = _normalise(word)
        for kind in self.kinds:
            if wanted in kind.words():
                return kind
        return None

    def route(self, text: str) -> Route:
        """Pick the kind from the first few words; fall back to the default kind.

        `email to Alex…`, `an email to Alex…`, `please write a quick email…` and
        `summarize this: …` all route by their first non-filler word.
        """
        text = text.strip()
        words = text.split()
        if not words or (len(words) == 1 and _is_help_word(words[0])):
            return Route(kind=None, text=text)
        filler_match: tuple[int, PromptKind] | None = None
        for index, word in enumerate(words[:_MAX_LEADING_WORDS]):
            normalised = _normalise(word)
            kind = self.find(normalised)
            if kind is None and (phrase := self._language_phrase(words, index)) is not None:
                return self._route_to(phrase, words, index + 1, text)
            if normalised in FILLER_WORDS:
                if kind and not filler_match:
                    filler_match = (index, kind)
                continue
            if kind:
                return self._route_to(kind, words, index, text)
            break
        if filler_match:
            return self._route_to(filler_match[1], words, filler_match[0], text)
        return Route(kind=self.default_kind, text=text, defaulted=True)

    def _language_phrase(self, words: list[str], index: int) -> PromptKind | None:
        """The kind with an alias like `in <language>` when `words[index:]` read "in Spanish"."""
        if index + 1 >= len(words) or not is_language(_normalise(words[index + 1])):
            return None
        return self.find(f"{_normalise(words[index])} {LANGUAGE_SLOT}")

    def _route_to(self, kind: PromptKind, words: list[str], index: int, text: str) -> Route:
        details = [w for w in words[index + 1 :] if _normalise(w) not in FILLER_WORDS]
        return Route(kind=kind, text=text, needs_details=not details)

    def system_blocks(
        self, kind: PromptKind, ttl: CacheTTL = "5m", channel: str | None = None
    ) -> list[dict[str, Any]]:
        """House style (and company pack), then the kind, each ending a cache breakpoint;
        then `channel`, a channel preset's block (`bot.channel_settings`), ending a third.

        The first breakpoint lets every kind share the house-style (and company) prefix; the
        second lets repeated requests of one kind reuse the whole system prompt; the third,
        every request of that kind from that channel. The company pack shares the house
        style's breakpoint: one breakpoint, not two, for the prefix every kind reads, which
        leaves the fourth for an attached file.
        """
        cache_control: dict[str, str] = {"type": "ephemeral"}
        if ttl == "1h":
            cache_control["ttl"] = "1h"
        shared: list[dict[str, Any]] = [{"type": "text", "text": self.house_style}]
        if self.company:
            shared.append({"type": "text", "text": self.company})
        shared[-1]["cache_control"] = dict(cache_control)
        blocks = [
            *shared,
            {"type": "text", "text": kind.body, "cache_control": dict(cache_control)},
        ]
        if channel:
            blocks.append({"type": "text", "text": channel, "cache_control": dict(cache_control)})
        return blocks

    def shared_prefix_length(self) -> int:
        """How many of `system_blocks` every kind shares (up to the first breakpoint)."""
        return 2 if self.company else 1


def load_prompts(directory: Path) -> PromptLibrary:
    """Read `_house_style.md` and every other `*.md` in `directory`."""
    house_path = directory / HOUSE_STYLE_FILE
    if not house_path.is_file():
        raise PromptError(f"{house_path} is missing: it holds the shared house-style prompt.")
    house_style = house_path.read_text(encoding="utf-8").strip()
    kinds = tuple(
        _load_kind(path) for path in sorted(directory.glob("*.md")) if not path.name.startswith("_")
    )
    if not kinds:
        raise PromptError(f"No prompt kinds in {directory}: add at least one KIND.md file.")
    defaults = [kind.name for kind in kinds if kind.is_default]
    if len(defaults) != 1:
        raise PromptError(
            f"Exactly one prompt in {directory} needs `default: true` in its front matter "
            f"(the fallback for requests that name no kind); found {len(defaults)}."
        )
    _check_unique_words(kinds)
    company = load_company_pack(directory)
    avoid = merge_rules(
        parse_avoid_list(house_style, "house"),
        parse_avoid_list(company or "", "company"),
    )
    return PromptLibrary(house_style=house_style, kinds=kinds, company=company, avoid=avoid)


def load_company_pack(directory: Path) -> str | None:
    """`_company.md` without its HTML comments; None when absent or nothing but comments."""
    path = directory / COMPANY_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PromptError(f"{path} cannot be read as UTF-8 text ({error}).") from error
    text = re.sub(r"\n{3,}", "\n\n", _HTML_COMMENT.sub("", text)).strip()
    return text or None


def _load_kind(path: Path) -> PromptKind:
    import frontmatter  # with PyYAML: loaded to read prompts, not by every command

    try:
        post = frontmatter.load(str(path))
    except Exception as error:  # YAML errors come in many classes
        raise PromptError(f"{path}: the front matter is not valid YAML ({error}).") from error
    meta = post.metadata
    for key in ("name", "description", "example", "max_tokens"):
        if key not in meta:
            raise PromptError(f"{path}: front matter needs `{key}:`.")
    if not isinstance(meta["max_tokens"], int) or meta["max_tokens"] < 1:
        raise PromptError(f"{path}: `max_tokens` must be a positive whole number.")
    aliases = meta.get("aliases") or []
    if isinstance(aliases, str):  # `aliases: mail` means one alias
        aliases = [aliases]
    if not isinstance(aliases, list):
        raise PromptError(f"{path}: `aliases` must be a list, like [mail, reply].")
    output = meta.get("output")
    if output not in (None, *OUTPUT_KINDS):
        raise PromptError(f"{path}: `output` may only be {', '.join(OUTPUT_KINDS)}.")
    body = post.content.strip()
    if not body:
        raise PromptError(f"{path}: the prompt body after the front matter is empty.")
    return PromptKind(
        name=_normalise(str(meta["name"])),
        aliases=tuple(_normalise(str(alias)) for alias in aliases),
        description=str(meta["description"]).strip(),
        example=str(meta["example"]).strip(),
        max_tokens=meta["max_tokens"],
        model=str(meta["model"]) if meta.get("model") else None,
        body=body,
        is_default=bool(meta.get("default", False)),
        noun=_noun(meta),
        canvas_ok=output == "canvas-ok",
    )


def _noun(meta: dict[str, object]) -> str | None:
    """What the kind makes, for "Drafting your email…": the name unless `noun:` says
    otherwise; `noun:` left empty (the catch-all kind) gives just "Drafting…"."""
    noun = meta.get("noun", meta["name"])
    return str(noun).strip() or None if noun else None


def _check_unique_words(kinds: tuple[PromptKind, ...]) -> None:
    owner: dict[str, str] = {}
    for kind in kinds:
        for word in kind.words():
            if word in owner and owner[word] != kind.name:
                raise PromptError(
                    f"The word {word!r} names two kinds ({owner[word]} and {kind.name}); "
                    "remove it from one of them."
                )
            owner[word] = kind.name


def _is_help_word(word: str) -> bool:
    return word.lower() in HELP_WORDS or _normalise(word) in HELP_WORDS


def _normalise(word: str) -> str:
    return re.sub(r"\s+", " ", word.strip(_PUNCTUATION).lower())
