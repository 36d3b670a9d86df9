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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from bot.fact_patterns import FACT, SENTENCE_BREAK, blank_code, placeholder_text
from bot.fact_words import (
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    FULL_MONTHS,
    MONTHS,
    NOT_NAMES,
    NUMBER_WORDS,
    SCALES,
    WEEKDAYS,
)

Kind = Literal[
    "amount", "percent", "date", "weekday", "time", "email", "phone", "url", "number", "name"
]
_WORD_KEYS = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")
_DIGITS = re.compile(r"\d+")
# "acme.io/q2" in a request: a link, though a draft's would need https:// or www. to count.
_BARE_DOMAIN = re.compile(r"(?<![@\w.])(?:[\w-]+\.)+[a-zA-Z]{2,}(?:/[^\s<>|()\[\]]*)?")
_URL_TRAIL = ".,;:!?)]}'\"’”*_"
_PHONE_MIN_DIGITS = 7
_PHONE_MATCHED_DIGITS = 9  # "+44 20 7946 0958" and "020 7946 0958" share their last nine
_SKIPPED_BEFORE_WORD = " \t*_\"'“‘([>#•-"
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


@dataclass
class _Token:
    kind: Kind
    text: str
    start: int
    keys: tuple[str, ...] = ()  # any one known makes the token known
    needs: tuple[str, ...] = ()  # and each of these must be known too
    weekday: int | None = None  # "Thursday 14 March": the weekday must fit the date
    month_day: tuple[int, int] | None = None
    year: int | None = None
    extra_keys: tuple[str, ...] = field(default=())  # what it adds to known facts
    placeholder: bool = False
    initial: bool = False  # a sentence's first word: not a name to check


def known_facts(texts: Iterable[str], *, complete: bool = True, today: date | None = None) -> Facts:
    """Every fact in `texts` as keys: what a draft may repeat without a warning."""
    keys: set[str] = set()
    dates: list[tuple[int, int, int | None]] = []
    for text in texts:
        if not text:
            continue
        keys.update(f"word:{_apostrophes(word)}" for word in _WORD_KEYS.findall(text))
        keys.update(f"num:{int(d)}" for d in _DIGITS.findall(text))
        keys.update(f"url:{_url_key(u.rstrip(_URL_TRAIL))}" for u in _BARE_DOMAIN.findall(text))
        for word in _WORD_KEYS.findall(text.lower()):
            if word in NUMBER_WORDS:
                keys.add(f"num:{NUMBER_WORDS[word]}")
        for token in _tokens(text, check_names=False):
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
    unknown: list[_Token] = []
    for token in _tokens(prose, check_names=True):
        if token.placeholder:
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


def _apostrophes(word: str) -> str:
    return word.lower().replace("’", "'")


def _adjacent(prose: str, first: _Token, second: _Token) -> bool:
    end = first.start + len(first.text)
    return second.start == end + 1 and prose[end] == " "


def _known(token: _Token, facts: Facts, years: set[int], today: date | None) -> bool:
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


def _value(number: str, scale: str | None = None) -> Decimal | None:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    if scale:
        value *= SCALES.get(scale.lower(), 1)
    return value


def _canon(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _currency(text: str | None) -> str:
    if not text:
        return ""
    text = text.strip()
    return CURRENCY_SYMBOLS.get(text) or CURRENCY_WORDS.get(text.lower()) or text.upper()


def _tokens(text: str, *, check_names: bool) -> Iterator[_Token]:
    """The facts in `text`, in order; placeholders only when checking a draft."""
    for match in FACT.finditer(text):
        group = match.lastgroup
        found = match.group(0)
        start = match.start()
        if group == "plain":
            continue
        if group == "placeholder":
            if check_names:
                yield _Token("name", placeholder_text(found), start, placeholder=True)
        elif group == "url":
            url = found.rstrip(_URL_TRAIL)
            yield _Token("url", url, start, keys=(f"url:{_url_key(url)}",))
        elif group == "email":
            yield _Token("email", found, start, keys=(f"email:{found.lower()}",))
        elif group == "iso":
            year, month, day = (int(match.group(n)) for n in ("iso_y", "iso_m", "iso_d"))
            yield _date_token(found, start, month, day, year, None)
        elif group == "tdate":
            yield _text_date(match, found, start)
        elif group == "monthyear":
            month = MONTHS[match.group("my_m").lower()]
            year = int(match.group("my_y"))
            keys = (f"month:{month}",)
            yield _Token("date", found, start, keys=keys, needs=(f"year:{year}",))
        elif group == "ndate":
            yield from _numeric_date(match, found, start)
        elif group == "time":
            yield _time(match, found, start)
        elif group == "amount":
            yield _amount(match, found, start)
        elif group == "percent":
            value = _value(match.group("pct_n"))
            yield _Token("percent", found, start, keys=(f"pct:{_canon(value or Decimal(0))}",))
        elif group == "phone":
            yield from _phone(found, start)
        elif group == "number":
            yield from _number(text, match, found, start)
        elif group == "word":
            token = _word(text, found, start, check_names)
            if token is not None:
                yield token


def _url_key(url: str) -> str:
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower())
    return key.rstrip("/")


def _date_token(
    found: str, start: int, month: int, day: int, year: int | None, weekday: int | None
) -> _Token:
    needs = (f"year:{year}",) if year is not None else ()
    return _Token(
        "date",
        found,
        start,
        keys=(f"date:{month}-{day}",),
        needs=needs,
        weekday=weekday,
        month_day=(month, day),
        year=year,
        extra_keys=(f"month:{month}", f"num:{day}", *(f"num:{year}",) * (year is not None)),
    )


def _text_date(match: re.Match[str], found: str, start: int) -> _Token:
    month_word = match.group("td_m1") or match.group("td_m2")
    day = int(match.group("td_d1") or match.group("td_d2"))
    year = int(match.group("td_y")) if match.group("td_y") else None
    weekday_word = match.group("td_wd")
    weekday = WEEKDAYS[weekday_word.lower().rstrip(".")] if weekday_word else None
    token = _date_token(found, start, MONTHS[month_word.lower().rstrip(".")], day, year, weekday)
    if weekday is not None:
        token.extra_keys += (f"weekday:{weekday}",)
    return token


def _numeric_date(match: re.Match[str], found: str, start: int) -> Iterator[_Token]:
    """ "14/03" or "3/14": both readings count (day first and month first)."""
    first, second = int(match.group("nd_a")), int(match.group("nd_b"))
    year_text = match.group("nd_y")
    year = (int(year_text) + (2000 if len(year_text) == 2 else 0)) if year_text else None
    readings = [(m, d) for m, d in ((second, first), (first, second)) if m <= 12 and d <= 31]
    if not readings:
        yield _Token("number", found, start, keys=(f"num:{first}",), needs=(f"num:{second}",))
        return
    keys = tuple(f"date:{m}-{d}" for m, d in readings)
    needs = (f"year:{year}",) if year is not None else ()
    extra = tuple(f"month:{m}" for m, _ in readings)
    yield _Token("date", found, start, keys=keys, needs=needs, year=year, extra_keys=extra)


def _time(match: re.Match[str], found: str, start: int) -> _Token:
    hour = int(match.group("t_h") or match.group("t_h24"))
    minute = int(match.group("t_m") or match.group("t_m24") or 0)
    ampm = (match.group("t_ampm") or "").lower().replace(".", "")
    if ampm:
        hours = [hour % 12 + (12 if ampm == "pm" else 0)]
    elif hour <= 12:
        hours = [hour % 12, hour % 12 + 12]  # "3:00": either 3 in the morning or 15:00
    else:
        hours = [hour]
    keys = tuple(f"time:{h:02d}:{minute:02d}" for h in hours)
    return _Token("time", found, start, keys=keys)


def _amount(match: re.Match[str], found: str, start: int) -> _Token:
    currency = _currency(match.group("am_c1") or match.group("am_c2"))
    number = match.group("am_n1") or match.group("am_n2")
    value = _value(number, match.group("am_s1") or match.group("am_s2"))
    canon = _canon(value) if value is not None else number
    return _Token(
        "amount",
        found.strip(),
        start,
        keys=(f"amount:{currency}:{canon}", f"bare:{canon}"),  # "1200" in the request counts
        extra_keys=(f"num:{canon}",),
    )


def _phone(found: str, start: int) -> Iterator[_Token]:
    digits = "".join(ch for ch in found if ch.isdigit())
    if len(digits) >= _PHONE_MIN_DIGITS:
        yield _Token("phone", found, start, keys=(f"phone:{digits[-_PHONE_MATCHED_DIGITS:]}",))
        return
    for part in re.finditer(r"\d+(?:\.\d+)?", found):  # "12.50", "10 20": plain numbers
        value = _value(part.group(0))
        if value is not None:
            yield _Token(
                "number", part.group(0), start + part.start(), keys=(f"num:{_canon(value)}",)
            )


def _number(text: str, match: re.Match[str], found: str, start: int) -> Iterator[_Token]:
    after = text[match.end() : match.end() + 2]
    if after in (".", ")", ". ", ") ", ".\n", ")\n") and _line_start(text, start):
        return  # a numbered list's "1."
    value = _value(match.group("num_n"), match.group("num_s"))
    if value is None:
        return
    canon = _canon(value)
    year = (f"year:{canon}",) if canon.isdigit() and len(canon) == 4 else ()
    yield _Token(
        "number", found, start, keys=(f"num:{canon}", *year), extra_keys=(f"bare:{canon}",)
    )


def _word(text: str, found: str, start: int, check_names: bool) -> _Token | None:
    lower = found.lower().replace("’", "'")
    capital = found[0].isupper() and found[1:].islower()
    if not check_names or capital:  # the material's "monday" counts; a draft's "may" is a verb
        if lower in WEEKDAYS and len(lower) > 3:
            return _Token("weekday", found, start, keys=(f"weekday:{WEEKDAYS[lower]}",))
        if lower in FULL_MONTHS and (lower != "may" or not _initial(text, start)):
            return _Token("date", found, start, keys=(f"month:{MONTHS[lower]}",))
    if not check_names or not found[0].isupper() or len(found) < 2:
        return None
    bare = re.sub(r"['’]s$", "", found)
    lower = bare.lower().replace("’", "'")
    if lower in NOT_NAMES:
        return None
    # "Jean-Luc": known when each part is.
    needs = tuple(f"word:{part}" for part in lower.split("-") if part and part not in NOT_NAMES)
    return _Token("name", bare, start, needs=needs, initial=_initial(text, start))


def _line_start(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] in " \t>*-":
        index -= 1
    return index < 0 or text[index] == "\n"


def _initial(text: str, start: int) -> bool:
    """True for a sentence's (or a line's, or a heading's) first word."""
    index = start - 1
    while index >= 0 and text[index] in _SKIPPED_BEFORE_WORD:
        index -= 1
    return index < 0 or text[index] in "\n.!?:;"
