"""Words and phrases the house style and the company pack avoid, checked on every draft.

Both prompt files list them under a `## Words to avoid` heading, one per bullet, optionally
with the preferred wording after an arrow (`- utilize → use`). The model reads that list as
part of its instructions; this module reads the same list to flag what slipped through.
The check is local and fast (no model call): case-insensitive, on word boundaries, outside
code blocks and inline code. The last word of a phrase may also take a common ending
(`utilize` finds "utilized" and "utilizing"), so an admin need not list every form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

AVOID_HEADING = "words to avoid"
Source = Literal["house", "company"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")
_ARROW = re.compile(r"\s*(?:→|->)\s*")
_QUOTES = "\"'`“”‘’"
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})
_MIN_INFLECTED = 4  # shorter last words are matched exactly


@dataclass(frozen=True)
class AvoidRule:
    phrase: str
    preferred: str | None
    source: Source

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        words = [re.escape(word) for word in self.phrase.translate(_APOSTROPHES).split()]
        last = self.phrase.split()[-1]
        if last.isalpha() and len(last) >= _MIN_INFLECTED:
            stem = last[:-1] if last.endswith("e") else last
            ending = "(?:e|es|ed|ing)" if last.endswith("e") else "(?:s|es|ed|ing)?"
            words[-1] = re.escape(stem) + ending
        return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class StyleHit:
    found: str  # as the draft wrote it
    rule: AvoidRule


def parse_avoid_list(markdown: str, source: Source) -> tuple[AvoidRule, ...]:
    """The bullets under `## Words to avoid` (any heading level), up to the next heading of
    the same or a higher level. Quotes around a phrase are dropped."""
    rules: list[AvoidRule] = []
    level: int | None = None
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            continue
        if heading := _HEADING.match(line):
            depth = len(heading.group(1))
            if level is not None and depth <= level:
                level = None
            if heading.group(2).strip().lower() == AVOID_HEADING:
                level = depth
            continue
        if level is None or not (bullet := _BULLET.match(line)):
            continue
        phrase, *rest = _ARROW.split(bullet.group(1), maxsplit=1)
        phrase = phrase.strip().strip(_QUOTES).strip()
        preferred = rest[0].strip().strip(_QUOTES).strip() if rest else ""
        if phrase:
            rules.append(AvoidRule(phrase, preferred or None, source))
    return tuple(rules)


def merge_rules(*lists: tuple[AvoidRule, ...]) -> tuple[AvoidRule, ...]:
    """One rule per phrase (case ignored); a later list wins, so the company pack's
    preferred wording replaces the house style's."""
    merged: dict[str, AvoidRule] = {}
    for rules in lists:
        for rule in rules:
            merged[rule.phrase.lower()] = rule
    return tuple(merged.values())


def prose_only(text: str) -> str:
    """`text` with fenced code blocks and inline code blanked out (lines kept)."""
    lines: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0] * 3
            lines.append("")
        elif fence is not None:
            if line.strip().startswith(fence):
                fence = None
            lines.append("")
        else:
            lines.append(_INLINE_CODE.sub(" ", line))
    return "\n".join(lines)


def check_style(text: str, rules: tuple[AvoidRule, ...]) -> tuple[StyleHit, ...]:
    """Each rule the draft breaks, once, with the first wording it was found in."""
    if not rules:
        return ()
    prose = prose_only(text).translate(_APOSTROPHES)
    hits: list[StyleHit] = []
    for rule in rules:
        if match := rule.pattern.search(prose):
            hits.append(StyleHit(found=re.sub(r"\s+", " ", match.group(0)), rule=rule))
    return tuple(hits)
