"""The one pattern `bot.fact_check` scans a text with, compiled once at import.

Alternatives are tried in order at each position, so a date is read as a date before its
day is read as a number, and an amount before its figure. Group names are the kinds.
"""

from __future__ import annotations

import re

from bot.fact_words import CURRENCY_CODES, PLACEHOLDER_WORDS

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday|s)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
)
_FULL_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)"
)
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_CODES = "|".join(CURRENCY_CODES)
_SCALE = r"(?i:k|thousand|million|billion|bn|mn|m|b)"
_PLAIN_EXCEPT = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun"
    r"|www|https?:)"
)
_HTML_TAGS = r"(?:br|b|i|u|p|em|strong|sub|sup|div|span|hr)\b"
# Inside angle brackets: no address ("<jane@acme.com>"), and either a space in it or one
# placeholder word ("<insert topic>", "<name>"; not "<Enter>", docs/checks.md).
_ANGLE_WORDS = "|".join(PLACEHOLDER_WORDS)
_ANGLE_FILL = (
    rf"(?=[^<>|@\n]*[ \t]|(?i:(?:your|insert)[_-][^\W\d_]+|{_ANGLE_WORDS})>)"
    r"[^\W\d_][^<>|@\n]{0,40}"
)

FACT = re.compile(
    rf"""
    # Most words: lower case, not a month or weekday, not part of an address. Nothing to
    # check in them, and matching them first keeps the scan fast (docs/checks.md).
    (?P<plain>[\s,;:!?"“”]+ | (?!{_PLAIN_EXCEPT})[a-z]+(?![\w.@'’+-]))
  | (?P<placeholder>
        \[(?=[^\[\]\n]*[^\W\d_])[^\[\]\n]{{2,60}}\](?!\()        # [date], [Your name]
      | \[\s*(?:\.\.\.|…)\s*\]                                 # […]
      | \{{\{{?\s*[^\W\d][\w .-]{{0,40}}\}}\}}?                # {{name}}, {{{{name}}}}
      | (?<!\w)<(?![@#!/]|https?:|mailto:|{_HTML_TAGS}){_ANGLE_FILL}>  # <your name>
      | \b(?:TBD|TBC|TBA)\b | \bX{{2,}}\b | _{{3,}}
    )
  | (?P<url>\bhttps?://[^\s<>|\[\]()]+ | \bwww\.[^\s<>|\[\]()]+)
  | (?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
  | (?P<iso>(?<![\w/-])(?P<iso_y>\d{{4}})-(?P<iso_m>\d{{1,2}})-(?P<iso_d>\d{{1,2}})(?![\w-]))
  | (?P<tdate>
        (?:(?P<td_wd>(?i:{_WEEKDAY}))\.?,?\s+(?:the\s+)?)?
        (?: (?<!\d)(?P<td_d1>\d{{1,2}})(?i:st|nd|rd|th)?\s+(?:of\s+)?(?P<td_m1>(?i:{_MONTH}))\b
          | (?P<td_m2>(?i:{_MONTH}))\.?\s+(?P<td_d2>\d{{1,2}})(?i:st|nd|rd|th)?\b )
        (?:,?\s+(?P<td_y>\d{{4}})\b)?
    )
  | (?P<monthyear>(?P<my_m>{_FULL_MONTH})\s+(?P<my_y>\d{{4}})\b)
  | (?P<ndate>(?<![\w/.,])(?P<nd_a>\d{{1,2}})/(?P<nd_b>\d{{1,2}})
        (?:/(?P<nd_y>\d{{4}}|\d{{2}}))?(?![\w/]))
  | (?P<time>
        (?<![\w.:,])(?P<t_h>\d{{1,2}})(?:[:.](?P<t_m>[0-5]\d))?\s?(?P<t_ampm>(?i:[ap]m|[ap]\.m\.))(?!\w)
      | (?<![\w.:,])(?P<t_h24>[01]?\d|2[0-3]):(?P<t_m24>[0-5]\d)(?![\d:])
    )
  | (?P<amount>
        (?P<am_c1>US\$|[$€£¥]|\b(?:{_CODES})\s?)(?P<am_n1>{_NUM})(?:\s?(?P<am_s1>{_SCALE})\b)?
      | (?<![\w.,])(?P<am_n2>{_NUM})(?:\s?(?P<am_s2>{_SCALE})\b)?\s?
        (?P<am_c2>\b(?:{_CODES})\b|(?i:dollars?|euros?|pounds?|yen|bucks)\b|[€£])
    )
  | (?P<percent>(?<![\w.,])(?P<pct_n>{_NUM})\s?(?:%|(?i:per\s?cent(?:age\s+points?)?)\b))
  | (?P<phone>(?<![\w.+])(?:\+\d{{1,3}}[\s.-]?)?(?:\(\d{{1,4}}\)[\s.-]?)?
        \d{{2,5}}(?:[\s.-]\d{{2,5}}){{1,4}}(?!\d))
  | (?P<number>(?<![\w.,/:$€£¥])(?<![^\W\d_]-)(?P<num_n>{_NUM})
        (?:(?i:st|nd|rd|th)(?!\w) | \s?(?P<num_s>(?i:k|thousand|million|billion|bn))\b | (?!\w)))
  | (?P<word>[^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)*)
    """,
    re.VERBOSE,
)

SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]*_]*\s+|\n\s*")

_CODE_OR_MARKUP = re.compile(
    r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(?:.*?\n)??[ \t]*\1[^\n]*$"  # a fenced block, closed
    r"|^[ \t]*(?:`{3,}|~{3,}).*\Z"  # a fence never closed: the rest is code
    r"|(`+)(?:(?!\2).)+?\2"  # inline code
    r"|<[@#!][^<>\n]*>",  # Slack mentions and channel links
    re.MULTILINE | re.DOTALL,
)


def blank_code(text: str) -> str:
    """`text` with code and Slack mentions turned to spaces: same length, same lines."""
    return _CODE_OR_MARKUP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def placeholder_text(found: str) -> str:
    return " ".join(found.split())
