"""The vocabulary `bot.fact_check` reads dates, amounts and names with: months, weekdays,
currencies, number words, and the capitalised words that are not names. Data only.
"""

from __future__ import annotations

MONTHS: dict[str, int] = {}
FULL_MONTHS: set[str] = set()
for _number, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    start=1,
):
    MONTHS[_name] = _number
    MONTHS[_name[:3]] = _number
    FULL_MONTHS.add(_name)
MONTHS["sept"] = 9

WEEKDAYS: dict[str, int] = {}  # Monday is 0, as `date.weekday()` counts
for _number, _name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
):
    WEEKDAYS[_name] = _number
    WEEKDAYS[_name[:3]] = _number
WEEKDAYS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})

# Symbols, codes and words for money, each to one ISO code.
CURRENCY_SYMBOLS: dict[str, str] = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CURRENCY_CODES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "INR", "SEK", "NOK")
CURRENCY_WORDS: dict[str, str] = {
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "yen": "JPY",
}
# "1.2k", "3 million": what the number is multiplied by.
SCALES: dict[str, int] = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "bn": 1_000_000_000,
    "b": 1_000_000_000,
    "billion": 1_000_000_000,
}

# Number words count as known numbers when the material uses them ("three people" makes
# "3 people" known); a draft's own number words are not checked (too many false alarms:
# "one of", "no one").
NUMBER_WORDS: dict[str, int] = {
    word: value
    for value, word in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        )
    )
}
NUMBER_WORDS.update(
    {"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "dozen": 12, "half": 50}
)

# Capitalised words that are not names: words drafts capitalise mid-sentence (titles,
# sign-offs, headings, "I"), and common acronyms. Lower case; compared case-insensitively.
_NOT_NAMES = """
    i i'm i'll i've i'd ok okay hi hello hey dear thanks thank cheers regards best kind warm
    sincerely yours team all everyone folks mr mrs ms miss dr prof sir madam
    re fw fwd subject cc bcc ps p.s note update updates action actions item items next steps
    step summary overview background context agenda key points point decision decisions
    question questions answer answers timeline details detail notes follow up follow-up
    meeting meetings call review plan plans goal goals status risk risks owner owners
    today tomorrow yesterday tonight morning afternoon evening week weekend month year quarter
    q1 q2 q3 q4 h1 h2 am pm eod eow cob asap fyi tbd tbc n/a faq
    ceo cto cfo coo cmo vp hr it qa pr ux ui api sdk sla kpi okr okrs roi pdf csv url faq
    the a an and or but so if when then this that these those it its we you they he she our
    your their my his her us them what why how who where which while with without for from
    to of in on at by as is are was were be been will would can could should may might
    must shall do does did have has had not no yes please let here there also just only
    about after before over under again more most less least new old first last other
    great good happy glad sorry hope looking forward welcome congratulations congrats
    monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november december
    english slack email e-mail draft draftbot claude
"""
NOT_NAMES = frozenset(_NOT_NAMES.split())

# One word in angle brackets that is a placeholder ("<name>", "<date>"); any other single
# word is a key or a type ("Press <Enter>", "Vec<String>"). "<your …>", "<insert …>" and
# anything with a space in it always count (docs/checks.md).
PLACEHOLDER_WORDS = (
    "name", "firstname", "first_name", "lastname", "last_name", "fullname", "full_name",
    "date", "time", "day", "deadline", "company", "organisation", "organization", "team",
    "email", "phone", "address", "link", "url", "topic", "subject", "title", "role",
    "venue", "location", "place", "amount", "price", "number", "product", "project",
    "client", "customer", "recipient", "sender", "manager", "signature", "placeholder",
    "todo", "tbd",
)  # fmt: skip
