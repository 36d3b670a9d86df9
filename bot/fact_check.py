"""Check before you post: what a draft states that the material the model was given does not.

    facts = known_facts([request, transcript, file text])   # once per draft
    checked = check_draft(draft_text, facts)                 # for every new draft text
    checked.findings       # Finding(kind, text, sentence): numbers, dates, names, … not in facts
    checked.placeholders   # "[date]", "{name}", "TBD": fill in before posting

Local text comparison, no model call, no Slack: one precompiled pattern, one pass over the
draft. The rules (what is flagged, how values are compared, what is missed) are in
docs/checks.md. Nothing here logs or keeps text; `Facts` holds normalised values only.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.fact_patterns import SENTENCE_BREAK, blank_code
from bot.fact_tokens import URL_TRAIL, Kind, Token, placeholder_key, tokens, url_key, word_key
from bot.fact_words import NUMBER_WORDS

__all__ = ["Checked", "Facts", "Finding", "Kind", "check_draft", "known_facts", "placeholders_in"]

_WORD_KEYS = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")
_DIGITS = re.compile(r"\d+")
# "acme.io/q2" in a request: a link, though a draft's would need https:// or www. to count.
_BARE_DOMAIN = re.compile(r"(?<![@\w.])(?:[\w-]+\.)+[a-zA-Z]{2,}(?:/[^\s<>|()\[\]]*)?")
_SENTENCE_CAP = 200


@dataclass(frozen=True)
class Finding:
    kind: Kind
    text: str  # exactly as the draft wrote it
    sentence: str  # the sentence it is in, as the draft wrote it (trimmed when very long)


@dataclass(frozen=True)
class Checked:
    findings: tuple[Finding, ...] = ()
    placeholders: tuple[str, ...] = ()  # each once, in the order they appear


@dataclass(frozen=True)
class Facts:
    """The material's facts as normalised keys ("date:3-14", "amount:USD:1200", "word:alex").
    `complete` is False when the model read something this cannot (a PDF, an image): then
    only placeholders are reported, since any finding might be in what was not read."""

    keys: frozenset[str] = frozenset()
    complete: bool = True


def known_facts(texts: Iterable[str], *, complete: bool = True, today: date | None = None) -> Facts:
    """Every fact in `texts` as keys: what a draft may repeat without a warning."""
    keys: set[str] = set()
    dates: list[tuple[int, int, int | None]] = []
    for text in texts:
        if not text:
            continue
        keys.update(f"word:{word_key(word)}" for word in _WORD_KEYS.findall(text))
        keys.update(f"num:{int(d)}" for d in _DIGITS.findall(text))
        keys.update(f"url:{url_key(u.rstrip(URL_TRAIL))}" for u in _BARE_DOMAIN.findall(text))
        for word in _WORD_KEYS.findall(text.lower()):
            if word in NUMBER_WORDS:
                keys.add(f"num:{NUMBER_WORDS[word]}")
        for token in tokens(text, check_names=False):
            # An amount matches a bare figure in the material, but is not one itself.
            keys.update(key for key in token.keys if not key.startswith("bare:"))
            keys.update(token.needs)
            keys.update(token.extra_keys)
            if token.month_day:
                dates.append((*token.month_day, token.year))
    years = _years_in(keys)
    for month, day, year in dates:
        for candidate in _years(year, years, today):
            if (weekday := _weekday(candidate, month, day)) is not None:
                keys.add(f"weekday:{weekday}")
    return Facts(frozenset(keys), complete)


def check_draft(text: str, facts: Facts, *, today: date | None = None) -> Checked:
    """What the draft states that `facts` lack, and the placeholders still in it."""
    prose = blank_code(text)
    breaks = [(m.start(), m.end()) for m in SENTENCE_BREAK.finditer(prose)]
    findings: list[Finding] = []
    placeholders: dict[str, None] = {}
    seen: set[tuple[str, str]] = set()
    known_years = _years_in(facts.keys)
    unknown: list[Token] = []
    for token in tokens(prose, check_names=True):
        if token.placeholder:
            if placeholder_key(token.text) not in facts.keys:
                placeholders.setdefault(token.text)
        elif token.initial or not facts.complete:
            continue
        elif not _known(token, facts, known_years, today):
            previous = unknown[-1] if unknown else None
            if (
                previous
                and token.kind == previous.kind == "name"
                and _adjacent(prose, previous, token)
            ):
                previous.text = prose[previous.start : token.start + len(token.text)]
            else:  # "Dana Whitfield" mid-sentence: one finding, not two
                unknown.append(token)
    for token in unknown:
        if (token.kind, token.text) in seen:
            continue
        seen.add((token.kind, token.text))
        findings.append(Finding(token.kind, token.text, _sentence(text, breaks, token.start)))
    return Checked(tuple(findings), tuple(placeholders))


def placeholders_in(text: str) -> tuple[str, ...]:
    """Only the placeholders (an edited text: its facts are the person's own)."""
    return check_draft(text, Facts(complete=False)).placeholders


def _years_in(keys: Iterable[str]) -> set[int]:
    return {int(key[5:]) for key in keys if key.startswith("year:") and key[5:].isdigit()}


def _adjacent(prose: str, first: Token, second: Token) -> bool:
    end = first.start + len(first.text)
    return second.start == end + 1 and prose[end] == " "


def _known(token: Token, facts: Facts, years: set[int], today: date | None) -> bool:
    keys = facts.keys
    if token.keys and not any(key in keys for key in token.keys):
        return False
    if not all(key in keys for key in token.needs):
        return False
    if token.weekday is not None and token.month_day and f"weekday:{token.weekday}" not in keys:
        month, day = token.month_day
        fits = (_weekday(y, month, day) for y in _years(token.year, years, today))
        return token.weekday in fits
    return True


def _years(stated: int | None, known: set[int], today: date | None) -> set[int]:
    if stated is not None:
        return {stated}
    this_year = (today or date.today()).year
    return known or {this_year, this_year + 1}


def _weekday(year: int, month: int, day: int) -> int | None:
    try:
        return date(year, month, day).weekday()
    except ValueError:
        return None


def _sentence(text: str, breaks: list[tuple[int, int]], start: int) -> str:
    """The sentence around `start`: from the end of the break before it to the start of
    the break after it (`breaks`: (start, end) of each, in order)."""
    index = bisect_right(breaks, (start, start))
    begin = breaks[index - 1][1] if index else 0
    end = breaks[index][0] if index < len(breaks) else len(text)
    sentence = " ".join(text[begin:end].split()).lstrip("-*+•># ")
    if len(sentence) <= _SENTENCE_CAP:
        return sentence
    offset = max(0, start - begin - _SENTENCE_CAP // 2)
    return "…" + sentence[offset : offset + _SENTENCE_CAP].strip() + "…"
