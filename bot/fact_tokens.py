"""Reading facts out of text for `bot.fact_check`: each match of the one pattern
(`bot.fact_patterns.FACT`) as a `Token` with the normalised keys that make it known."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from bot.fact_patterns import FACT, placeholder_text
from bot.fact_words import (
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    FULL_MONTHS,
    MONTHS,
    NOT_NAMES,
    SCALES,
    WEEKDAYS,
)

Kind = Literal[
    "amount", "percent", "date", "weekday", "time", "email", "phone", "url", "number", "name"
]
URL_TRAIL = ".,;:!?)]}'\"’”*_"
_PHONE_MIN_DIGITS = 7
_PHONE_MATCHED_DIGITS = 9  # "+44 20 7946 0958" and "020 7946 0958" share their last nine
_SKIPPED_BEFORE_WORD = " \t*_\"'“‘([>#•-"


@dataclass
class Token:
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


def tokens(text: str, *, check_names: bool) -> Iterator[Token]:
    """The facts in `text`, in order; placeholders only when checking a draft."""
    for match in FACT.finditer(text):
        group = match.lastgroup
        found = match.group(0)
        start = match.start()
        if group == "plain":
            continue
        if group == "placeholder":
            if found.startswith("_") and _whole_line(text, start, match.end()):
                continue  # "___" alone on its line: a Markdown rule, not a blank
            shown = placeholder_text(found)
            # The material's own "[venue]" is no placeholder when a draft repeats it (only
            # a bracketed one: a "TBD" in the request is still to be filled in).
            known = (placeholder_key(shown),) if found[0] in "[{<" else ()
            yield Token("name", shown, start, placeholder=True, extra_keys=known)
        elif group == "url":
            url = found.rstrip(URL_TRAIL)
            yield Token("url", url, start, keys=(f"url:{url_key(url)}",))
        elif group == "email":
            yield Token("email", found, start, keys=(f"email:{found.lower()}",))
        elif group == "iso":
            year, month, day = (int(match.group(n)) for n in ("iso_y", "iso_m", "iso_d"))
            yield _date_token(found, start, month, day, year, None)
        elif group == "tdate":
            yield _text_date(match, found, start)
        elif group == "monthyear":
            month = MONTHS[match.group("my_m").lower()]
            year = int(match.group("my_y"))
            keys = (f"month:{month}",)
            yield Token("date", found, start, keys=keys, needs=(f"year:{year}",))
        elif group == "ndate":
            yield from _numeric_date(match, found, start)
        elif group == "time":
            yield _time(match, found, start)
        elif group == "amount":
            yield _amount(match, found, start)
        elif group == "percent":
            value = _value(match.group("pct_n"))
            yield Token("percent", found, start, keys=(f"pct:{_canon(value or Decimal(0))}",))
        elif group == "phone":
            yield from _phone(found, start)
        elif group == "number":
            yield from _number(text, match, found, start)
        elif group == "word":
            token = _word(text, found, start, check_names)
            if token is not None:
                yield token


def word_key(word: str) -> str:
    """A word as compared: lower case, one apostrophe, accents dropped ("Zoë" is "zoe",
    as an address would spell it)."""
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def placeholder_key(shown: str) -> str:
    return f"placeholder:{shown}"


def _whole_line(text: str, start: int, end: int) -> bool:
    line_end = text.find("\n", end)
    line = text[text.rfind("\n", 0, start) + 1 : len(text) if line_end < 0 else line_end]
    return line.strip() == text[start:end]


def url_key(url: str) -> str:
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower())
    return key.rstrip("/")


def _date_token(
    found: str, start: int, month: int, day: int, year: int | None, weekday: int | None
) -> Token:
    needs = (f"year:{year}",) if year is not None else ()
    return Token(
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


def _text_date(match: re.Match[str], found: str, start: int) -> Token:
    month_word = match.group("td_m1") or match.group("td_m2")
    day = int(match.group("td_d1") or match.group("td_d2"))
    year = int(match.group("td_y")) if match.group("td_y") else None
    weekday_word = match.group("td_wd")
    weekday = WEEKDAYS[weekday_word.lower().rstrip(".")] if weekday_word else None
    token = _date_token(found, start, MONTHS[month_word.lower().rstrip(".")], day, year, weekday)
    if weekday is not None:
        token.extra_keys += (f"weekday:{weekday}",)
    return token


def _numeric_date(match: re.Match[str], found: str, start: int) -> Iterator[Token]:
    """ "14/03" or "3/14": both readings count (day first and month first)."""
    first, second = int(match.group("nd_a")), int(match.group("nd_b"))
    year_text = match.group("nd_y")
    year = (int(year_text) + (2000 if len(year_text) == 2 else 0)) if year_text else None
    readings = [(m, d) for m, d in ((second, first), (first, second)) if m <= 12 and d <= 31]
    if not readings:
        yield Token("number", found, start, keys=(f"num:{first}",), needs=(f"num:{second}",))
        return
    keys = tuple(f"date:{m}-{d}" for m, d in readings)
    needs = (f"year:{year}",) if year is not None else ()
    extra = tuple(f"month:{m}" for m, _ in readings)
    yield Token("date", found, start, keys=keys, needs=needs, year=year, extra_keys=extra)


def _time(match: re.Match[str], found: str, start: int) -> Token:
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
    return Token("time", found, start, keys=keys)


def _amount(match: re.Match[str], found: str, start: int) -> Token:
    currency = _currency(match.group("am_c1") or match.group("am_c2"))
    number = match.group("am_n1") or match.group("am_n2")
    value = _value(number, match.group("am_s1") or match.group("am_s2"))
    canon = _canon(value) if value is not None else number
    return Token(
        "amount",
        found.strip(),
        start,
        keys=(f"amount:{currency}:{canon}", f"bare:{canon}"),  # "1200" in the request counts
        extra_keys=(f"num:{canon}",),
    )


def _phone(found: str, start: int) -> Iterator[Token]:
    digits = "".join(ch for ch in found if ch.isdigit())
    if len(digits) >= _PHONE_MIN_DIGITS:
        yield Token("phone", found, start, keys=(f"phone:{digits[-_PHONE_MATCHED_DIGITS:]}",))
        return
    for part in re.finditer(r"\d+(?:\.\d+)?", found):  # "12.50", "10 20": plain numbers
        value = _value(part.group(0))
        if value is not None:
            yield Token(
                "number", part.group(0), start + part.start(), keys=(f"num:{_canon(value)}",)
            )


def _number(text: str, match: re.Match[str], found: str, start: int) -> Iterator[Token]:
    after = text[match.end() : match.end() + 2]
    if after in (".", ")", ". ", ") ", ".\n", ")\n") and _line_start(text, start):
        return  # a numbered list's "1."
    value = _value(match.group("num_n"), match.group("num_s"))
    if value is None:
        return
    canon = _canon(value)
    year = (f"year:{canon}",) if canon.isdigit() and len(canon) == 4 else ()
    yield Token("number", found, start, keys=(f"num:{canon}", *year), extra_keys=(f"bare:{canon}",))


def _word(text: str, found: str, start: int, check_names: bool) -> Token | None:
    lower = found.lower().replace("’", "'")
    capital = found[0].isupper() and found[1:].islower()
    if not check_names or capital:  # the material's "monday" counts; a draft's "may" is a verb
        if lower in WEEKDAYS and len(lower) > 3:
            return Token("weekday", found, start, keys=(f"weekday:{WEEKDAYS[lower]}",))
        if lower in FULL_MONTHS and (lower != "may" or not _initial(text, start)):
            return Token("date", found, start, keys=(f"month:{MONTHS[lower]}",))
    if not check_names or not found[0].isupper() or len(found) < 2:
        return None
    bare = re.sub(r"['’]s$", "", found)
    lower = bare.lower().replace("’", "'")
    if lower in NOT_NAMES:
        return None
    # "Jean-Luc": known when each part is.
    parts = (part for part in lower.split("-") if part and part not in NOT_NAMES)
    needs = tuple(f"word:{word_key(part)}" for part in parts)
    return Token("name", bare, start, needs=needs, initial=_initial(text, start))


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
