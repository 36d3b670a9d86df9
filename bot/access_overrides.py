"""Access rules admins change while Draftbot runs (`/draft admin access`, `draftbot access`).

The settings (DRAFTBOT_ALLOWED_USERS, DRAFTBOT_ALLOWED_CHANNELS, DRAFTBOT_BLOCKED_CHANNELS,
DRAFTBOT_DMS, DRAFTBOT_GUESTS) stay the defaults; a rule stored in `access_overrides`
replaces its setting's value until it is reset. Stored in the database, so every instance
applies them; each instance reads them at most every `OVERRIDES_CACHE_SECONDS` (the same
short cache as channel presets), and at once after a change it made itself.

An override is kept as the text its setting would hold ("U012AB3CD,S0123ABCD", "off"), and
read by the settings' own parser (`bot.access.parse_access`), so both mean the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.access import AccessRules, parse_access
from bot.channel_settings import FAILED_CACHE_SECONDS, PRESET_CACHE_SECONDS
from bot.storage import Storage
from bot.storage.channel_queries import Changes

log = logging.getLogger(__name__)

OVERRIDES_CACHE_SECONDS = PRESET_CACHE_SECONDS
# Each rule, and the setting it overrides, in the order they are shown.
RULES: dict[str, str] = {
    "allowed_users": "DRAFTBOT_ALLOWED_USERS",
    "allowed_channels": "DRAFTBOT_ALLOWED_CHANNELS",
    "blocked_channels": "DRAFTBOT_BLOCKED_CHANNELS",
    "dms": "DRAFTBOT_DMS",
    "guests": "DRAFTBOT_GUESTS",
}
SWITCHES = ("dms", "guests")  # on or off; the others are lists of ids


@dataclass(frozen=True)
class RuleInForce:
    rule: str
    value: str  # as its setting would hold it ("" for an empty list)
    set_by: str | None = None  # None: the setting's value (no override)
    set_at: str | None = None

    @property
    def overridden(self) -> bool:
        return self.set_by is not None


def rule_texts(rules: AccessRules) -> dict[str, str]:
    """Each rule as its setting's text."""
    return {
        "allowed_users": ",".join([*sorted(rules.allowed_users), *rules.allowed_groups]),
        "allowed_channels": ",".join(sorted(rules.allowed_channels)),
        "blocked_channels": ",".join(sorted(rules.blocked_channels)),
        "dms": "on" if rules.dms else "off",
        "guests": "on" if rules.guests else "off",
    }


def parse_override(rule: str, text: str) -> tuple[str, list[str]]:
    """(the rule's canonical text, problems): ids split on commas or spaces, in order and
    without repeats; on/off lower-cased; checked by the settings' parser."""
    if rule in SWITCHES:
        value = text.strip().lower()
    else:
        items = text.replace(",", " ").split()
        value = ",".join(dict.fromkeys(items))
    problems: list[str] = []
    parse_access({RULES[rule]: value}, problems)
    return value, problems


def effective_rules(base: AccessRules, overrides: Mapping[str, str]) -> AccessRules:
    """The settings' rules with `overrides` (rule → text) in their place."""
    texts = {**rule_texts(base), **{r: v for r, v in overrides.items() if r in RULES}}
    return parse_access({RULES[rule]: text for rule, text in texts.items()}, [])


def rules_in_force(base: AccessRules, rows: Mapping[str, Mapping[str, Any]]) -> list[RuleInForce]:
    """Every rule's value and where it comes from (`rows`: `Storage.access_overrides`)."""
    settings = rule_texts(base)
    return [
        RuleInForce(rule, str(row["value"]), row["set_by"], row["set_at"])
        if (row := rows.get(rule)) is not None
        else RuleInForce(rule, settings[rule])
        for rule in RULES
    ]


def save_overrides(
    store: Storage, base: AccessRules, values: Mapping[str, str | None], actor: str
) -> Changes:
    """Store each rule's override (None: back to the setting; the setting's own value is
    no override either), with its audit rows, in one transaction."""
    settings = rule_texts(base)
    wanted = {
        rule: None if value is None or value == settings[rule] else value
        for rule, value in values.items()
    }
    return store.put_access_overrides(wanted, actor, settings)


class AccessOverrides:
    """The rules in force on this instance: the settings', with the stored overrides."""

    def __init__(
        self,
        store: Storage,
        base: AccessRules,
        ttl: float = OVERRIDES_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.base = base
        self.ttl = ttl
        self.clock = clock
        self._cached: tuple[float, AccessRules] | None = None

    async def rules(self) -> AccessRules:
        """When the database fails, the rules last read (at first, the settings') apply."""
        from bot.storage.offloop import off_loop  # asyncio: not loaded by `draftbot --help`

        cached = self._cached
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        try:
            rows = await off_loop(self.store.access_overrides)
        except Exception as error:
            log.warning("access overrides not read (%s)", type(error).__name__)
            rules = cached[1] if cached else self.base
            self._cached = (self.clock() + FAILED_CACHE_SECONDS, rules)
            return rules
        rules = effective_rules(self.base, {rule: str(row["value"]) for rule, row in rows.items()})
        self._cached = (self.clock() + self.ttl, rules)
        return rules

    def forget(self) -> None:
        self._cached = None
