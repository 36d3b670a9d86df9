"""Languages by name, for translations: which one a request names ("to Spanish", "in
Portuguese", "into German"), and the language of a person's Slack locale (`users.info`
with `include_locale`), the default when a translation names none."""

from __future__ import annotations

import re

TRANSLATE_KIND = "translate"  # the kind (prompts/translate.md) that defaults to the locale

# Names people type after "to", "into" or "in"; lower case. Not every language: the common
# ones, so "in <language>" can route to the translate kind and a named one is recognised.
LANGUAGE_NAMES = frozenset(
    {
        *("english", "spanish", "portuguese", "french", "german", "italian", "dutch"),
        *("japanese", "chinese", "mandarin", "cantonese", "korean", "hindi", "arabic"),
        *("russian", "ukrainian", "polish", "czech", "slovak", "hungarian", "romanian"),
        *("bulgarian", "greek", "turkish", "hebrew", "swedish", "norwegian", "danish"),
        *("finnish", "icelandic", "estonian", "latvian", "lithuanian", "croatian"),
        *("serbian", "slovenian", "catalan", "basque", "galician", "irish", "welsh"),
        *("vietnamese", "thai", "indonesian", "malay", "tagalog", "filipino", "bengali"),
        *("urdu", "punjabi", "tamil", "telugu", "marathi", "gujarati", "persian", "farsi"),
        *("swahili", "afrikaans", "zulu", "amharic", "yoruba", "esperanto", "latin"),
    }
)

# The languages Slack's own interface comes in (users.info → `locale`), by locale.
SLACK_LOCALE_LANGUAGES = {
    "de-DE": "German",
    "en-GB": "British English",
    "en-IN": "English",
    "en-US": "American English",
    "es-ES": "Spanish (Spain)",
    "es-LA": "Latin American Spanish",
    "fr-FR": "French",
    "it-IT": "Italian",
    "ja-JP": "Japanese",
    "ko-KR": "Korean",
    "pt-BR": "Brazilian Portuguese",
    "zh-CN": "Simplified Chinese",
    "zh-TW": "Traditional Chinese",
}

_NAMED = re.compile(r"\b(?:to|into|in)\s+([A-Za-z]+)\b", re.IGNORECASE)


def named_language(text: str) -> str | None:
    """The language the first line of a request asks for ("to Spanish" → "Spanish")."""
    first_line = text.strip().split("\n", 1)[0]
    for match in _NAMED.finditer(first_line):
        if match.group(1).lower() in LANGUAGE_NAMES:
            return match.group(1).capitalize()
    return None


def is_language(word: str) -> bool:
    return word.lower() in LANGUAGE_NAMES


def locale_language(locale: str | None) -> str | None:
    """The language of a Slack locale ("pt-BR" → "Brazilian Portuguese"); for one not in
    the table, its code, which the model understands as well; None without a locale."""
    if not locale:
        return None
    return SLACK_LOCALE_LANGUAGES.get(locale, f"the language of the locale {locale}")
